"""Lyrics benchmark: dictionary load, rhyme lookup latency, and 20 topics x 3 schemes of generated lyrics.

Run:  OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/lyrics.py [--repeats 3] [--quick]

Prints one table. The machine is shared: CPU steal is read from /proc/stat and timings are repeated
(min and median reported). Uses a scratch TUNESMITH_HOME so caches start cold.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TUNESMITH_HOME", tempfile.mkdtemp(prefix="tunesmith-bench-lyrics-"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[7] if len(fields) > 7 else 0


def _steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    return 100.0 * (after[1] - before[1]) / total if total else 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--words", type=int, default=300, help="distinct words to look up")
    parser.add_argument("--quick", action="store_true", help="5 topics instead of 20")
    args = parser.parse_args()

    from tools.config import prepare_environment

    prepare_environment()
    rows: list[tuple[str, str]] = []
    cpu0 = _cpu_times()

    from tools.lyrics import pronounce, rhymes

    t = time.perf_counter()
    pronounce.cmu_dict()
    rows.append(("CMUdict load (126k words)", f"{time.perf_counter() - t:.2f} s"))

    t = time.perf_counter()
    index = rhymes.rhyme_index()  # cold: builds the index and writes the cache (fresh TUNESMITH_HOME)
    rows.append(("rhyme index first use, cold (build + cache write)", f"{time.perf_counter() - t:.2f} s"))
    loads = []
    for _ in range(args.repeats):
        rhymes.rhyme_index.cache_clear()
        t = time.perf_counter()
        rhymes.rhyme_index()
        loads.append(time.perf_counter() - t)
    rows.append(("rhyme index load from cache (min / median)", f"{min(loads):.2f} / {statistics.median(loads):.2f} s"))
    rows.append(("words in the index", f"{len(index.zipf)}"))

    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 3000) if w.isalpha() and w in pronounce.cmu_dict()][: args.words]
    for kind in ("perfect", "all"):
        times = []
        for w in words:  # each word once: first lookups, nothing memoised for that word
            t = time.perf_counter()
            rhymes.find_rhymes(w, kind, limit=50)
            times.append((time.perf_counter() - t) * 1000)
        rows.append((f"find_rhymes kind={kind}: p50 / p95 over {len(words)} words",
                     f"{_pct(times, 0.5):.2f} / {_pct(times, 0.95):.2f} ms"))

    from tools.lyrics.evaluate import TOPICS, evaluate

    topics = TOPICS[:5] if args.quick else TOPICS
    from tools.lyrics.writer import write_lyrics

    t = time.perf_counter()
    write_lyrics("warm up the model", structure="verse")
    rows.append(("first write_lyrics (torch + MiniLM load; vocabulary embeddings are shipped)", f"{time.perf_counter() - t:.2f} s"))
    t = time.perf_counter()
    stats, drafts = evaluate(topics)
    elapsed = time.perf_counter() - t
    n = len(drafts)
    rows.append((f"generation: {len(topics)} topics x 3 schemes", f"{n} songs, {elapsed / n:.2f} s per song incl. analysis"))
    rows.append(("scheme pairs that rhyme (analyze_lyrics)", f"{stats.pairs_rhyming}/{stats.pairs} = {100 * stats.rhyme_rate:.1f} %"))
    rows.append(("lines within +-1 syllable of target", f"{stats.lines_on_target}/{stats.lines} = {100 * stats.syllable_rate:.1f} %"))
    rows.append(("most lines shared by two topics (same scheme)", f"{stats.max_shared_lines} (refrain = {stats.refrain_lines})"))
    rows.append(("CPU steal during the run", f"{_steal_percent(cpu0, _cpu_times()):.1f} %"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print("-" * (width + 40))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for failure in stats.failures[:10]:
        print("  miss:", failure)
    for key in list(drafts)[:: max(1, len(drafts) // 3)][:3]:
        d = drafts[key]
        print(f"\n--- {key[0]} ({key[1]}): {d.title}\n{d.text()}")


if __name__ == "__main__":
    main()
