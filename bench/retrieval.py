"""Retrieval benchmark: precision@10 on labelled queries, query latency, 1M-vector ANN, build and ingest speed.

    .venv/bin/python bench/retrieval.py                 # everything (1M synthetic vectors)
    .venv/bin/python bench/retrieval.py --n 200000      # smaller synthetic index
    .venv/bin/python bench/retrieval.py --index DIR     # reuse a built default index (skip the build timing)
    .venv/bin/python bench/retrieval.py --skip-ann --skip-ingest

Prints one table per part. The machine is shared: every timing is repeated and reported as min and
median, with the CPU steal seen during the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.config import prepare_environment  # noqa: E402

prepare_environment()

import numpy as np  # noqa: E402


def steal_fraction(before: list[int], after: list[int]) -> float:
    deltas = [b - a for a, b in zip(before, after)]
    total = sum(deltas)
    return deltas[7] / total if total and len(deltas) > 7 else 0.0


def cpu_times() -> list[int]:
    with open("/proc/stat") as handle:
        return [int(x) for x in handle.readline().split()[1:]]


def table(title: str, rows: list[tuple]) -> None:
    print(f"\n## {title}")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


# -- relevance ------------------------------------------------------------------------------------
_M21_KEYS: dict[str, tuple[str, str]] = {}


def music21_key(record) -> tuple[str, str]:
    """(tonic pitch class name, mode) from the score: the ABC K: field for ABC, else analyze('key')."""
    if record.uid in _M21_KEYS:
        return _M21_KEYS[record.uid]
    from music21 import corpus

    score = corpus.parse(record.path, number=record.number) if record.number is not None else corpus.parse(record.path)
    key = score.analyze("key")
    result = (key.tonic.name.replace("-", "b"), key.mode)
    _M21_KEYS[record.uid] = result
    return result


def relevant(record, judge: dict) -> bool:
    from retrieval.corpus_source import collection_info
    from tools.music.theory import parse_key

    if "collection" in judge and record.collection not in judge["collection"]:
        return False
    if "region" in judge and collection_info(record.collection)["region"] != judge["region"]:
        return False
    if "genre" in judge and judge["genre"] not in record.genre:
        return False
    if "meter" in judge and record.meter != judge["meter"]:
        return False
    if "lyrics" in judge and record.has_lyrics != judge["lyrics"]:
        return False
    if "title" in judge and judge["title"] not in record.title.lower():
        return False
    if "key" in judge or "mode" in judge:
        if record.path.endswith(".abc"):
            tonic, mode = record.tonic, {"aeolian": "minor", "ionian": "major"}.get(record.mode or "", record.mode)
        else:
            tonic, mode = music21_key(record)
        if "mode" in judge and mode != judge["mode"]:
            return False
        if "key" in judge:
            wanted = parse_key(judge["key"])
            if tonic is None or mode != wanted.mode or parse_key(f"{tonic} {mode}").tonic != wanted.tonic:
                return False
    return True


def bench_queries(library, queries: list[dict], repeats: int) -> dict:
    rows = [("query", "P@10", "hits")]
    precisions, latencies = [], []
    library.search("warm-up query", limit=10)
    for item in queries:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            hits = library.search(item["query"], limit=10)
            times.append(time.perf_counter() - started)
        latencies.append(min(times))
        good = sum(relevant(h.record, item["judge"]) for h in hits)
        precision = good / 10
        precisions.append(precision)
        rows.append((item["query"], f"{precision:.1f}", len(hits)))
    table("Labelled queries (precision@10; relevance read from corpus metadata and music21)", rows)
    lat = np.array(latencies) * 1000
    summary = {"queries": len(queries), "mean_precision_at_10": round(float(np.mean(precisions)), 3),
               "min_precision_at_10": min(precisions),
               "latency_ms_p50": round(float(np.percentile(lat, 50)), 1), "latency_ms_p95": round(float(np.percentile(lat, 95)), 1)}
    table("Default index search", [("metric", "value"), *summary.items()])
    return summary


# -- synthetic ANN --------------------------------------------------------------------------------
def clustered(n: int, d: int, clusters: int, seed: int, spread: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        labels = rng.integers(0, clusters, stop - start)
        block = centres[labels] + spread * rng.normal(size=(stop - start, d)).astype(np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def bench_ann(n: int, queries: int = 200) -> dict:
    from retrieval.store import FaissStore

    d = 384
    started = time.perf_counter()
    base = clustered(n, d, clusters=max(100, n // 1000), seed=1)
    probe_source = clustered(queries, d, clusters=max(100, n // 1000), seed=1)  # same centres (same seed)
    rng = np.random.default_rng(7)
    query_vectors = probe_source + 0.05 * rng.normal(size=probe_source.shape).astype(np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    generate_s = time.perf_counter() - started
    truth = np.empty((queries, 10), dtype=np.int64)
    for start in range(0, queries, 50):
        scores = query_vectors[start:start + 50] @ base.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        truth[start:start + 50] = np.take_along_axis(top, order, axis=1)
    folder = Path(tempfile.mkdtemp(prefix="tunesmith-ann-"))
    store = FaissStore(folder, d, flat_limit=50_000)
    started = time.perf_counter()
    store.add(np.arange(n, dtype=np.int64), base)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    store.save()
    save_s = time.perf_counter() - started
    del base
    import faiss

    ivf = faiss.try_extract_index_ivf(store._index)
    rows = [("nprobe", "recall@10", "p50 ms", "p95 ms")]
    results = {}
    for nprobe in ((8, 16, 24, 32, 64) if ivf is not None else (0,)):
        if ivf is not None:
            ivf.nprobe = nprobe
        times, found = [], []
        for row in query_vectors:
            t0 = time.perf_counter()
            _, ids = store.search(row[None, :], 10)
            times.append(time.perf_counter() - t0)
            found.append(ids[0])
        recall = float(np.mean([len(set(f.tolist()) & set(t.tolist())) / 10 for f, t in zip(found, truth)]))
        ms = np.array(times) * 1000
        results[nprobe] = {"recall": round(recall, 4), "p50": round(float(np.percentile(ms, 50)), 3),
                           "p95": round(float(np.percentile(ms, 95)), 3)}
        rows.append((nprobe, f"{recall:.4f}", f"{results[nprobe]['p50']:.3f}", f"{results[nprobe]['p95']:.3f}"))
    table(f"{n:,} synthetic clustered 384-d vectors ({store.kind}; generated in {generate_s:.0f} s, "
          f"built in {build_s:.1f} s, saved in {save_s:.1f} s)", rows)
    return {"n": n, "kind": store.kind, "build_s": round(build_s, 1), "save_s": round(save_s, 1), "by_nprobe": results}


# -- ingestion ------------------------------------------------------------------------------------
def bench_ingest(files: int) -> dict:
    from retrieval.ingest import ingest_folder
    from retrieval.library import Library
    from tools.music.midi_io import write_midi
    from tools.music.song import Note, Section, Song, Track

    folder = Path(tempfile.mkdtemp(prefix="tunesmith-ingest-src-"))
    rng = np.random.default_rng(3)
    for index in range(files):
        tonic = int(rng.integers(55, 67))
        pitches = [tonic + int(p) for p in rng.choice([0, 2, 4, 5, 7, 9, 11, 12], size=64)]
        notes = [Note(pitch=p, start=i * 0.5, duration=0.5) for i, p in enumerate(pitches)]
        song = Song(title=f"Tune {index}", tempo_bpm=float(rng.integers(60, 180)), key="C major",
                    sections=[Section(name="a", kind="verse", start_bar=0, bars=8)],
                    melody=Track(name="Melody", program=int(rng.integers(0, 80)), role="melody", notes=notes))
        write_midi(song, folder / f"tune_{index:03d}.mid")
    library = Library(Path(tempfile.mkdtemp(prefix="tunesmith-ingest-")))
    library.embedder.embed(["warm up"])
    report = ingest_folder(library, folder)
    again = ingest_folder(library, folder)
    result = {"files": files, "added": report.added, "seconds": round(report.seconds, 2),
              "files_per_second": round(files / report.seconds, 2), "rerun_seconds": round(again.seconds, 2)}
    table("Ingestion (MIDI files, caption + embedding each)", [("metric", "value"), *result.items()])
    return result


def bench_playlists(library) -> dict:
    from retrieval.playlist import make_playlist

    rows = [("prompt", "tracks", "minutes", "cost", "random cost", "key-compatible")]
    out = {}
    for prompt, minutes in (("lively Irish reels and jigs", 30), ("calm Scottish airs", 20), ("Bach chorales", 15),
                            ("German folk songs", 10)):
        playlist = make_playlist(library, prompt, duration_min=minutes, seed=0)
        flow = playlist.flow
        rows.append((prompt, len(playlist.tracks), f"{playlist.total_seconds / 60:.2f}/{minutes}",
                     flow["mean_transition_cost"], flow["random_mean_transition_cost"], flow["key_compatible_fraction"]))
        out[prompt] = flow | {"minutes": playlist.total_seconds / 60}
    table("Playlists (mean transition cost, lower is smoother; random = mean of 200 shuffles)", rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic vectors for the ANN part")
    parser.add_argument("--index", type=Path, default=None, help="an already built default index folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ingest-files", type=int, default=40)
    parser.add_argument("--skip-ann", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    from retrieval.library import Library

    before = cpu_times()
    results: dict = {"threads": os.environ.get("OMP_NUM_THREADS"), "load_average": os.getloadavg()}
    if args.index is None:
        library = Library(Path(tempfile.mkdtemp(prefix="tunesmith-bench-index-")))
        started = time.perf_counter()
        stats = library.build_default()
        results["build"] = {"seconds": round(time.perf_counter() - started, 1), **stats}
        table("Default index build (music21 corpus)", [("metric", "value"), *results["build"].items()])
    else:
        library = Library(args.index)
        if not library.is_default_built():
            raise SystemExit(f"{args.index} holds no built default index")
    queries = json.loads((Path(__file__).parent / "retrieval_queries.json").read_text())["queries"]
    results["queries"] = bench_queries(library, queries, args.repeats)
    results["playlists"] = bench_playlists(library)
    if not args.skip_ingest:
        results["ingest"] = bench_ingest(args.ingest_files)
    if not args.skip_ann:
        results["ann"] = bench_ann(args.n)
    results["cpu_steal_fraction"] = round(steal_fraction(before, cpu_times()), 3)
    results["load_average_end"] = os.getloadavg()
    print(f"\nCPU steal during the run: {results['cpu_steal_fraction']:.1%}; load average {results['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
