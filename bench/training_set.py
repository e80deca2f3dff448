"""Training pieces for the learned estimators: more music21 corpus pieces from the TUNING collections.

    .venv/bin/python bench/training_set.py [--per-collection 30] [--seconds 60] [--seed 101]

The estimators' weights may be fitted on these, never on the bench's HELDOUT set. Pieces the bench
itself scores (its seed-7 selection) are left out, so the bench's tuning figures stay a check on
unseen pieces too. Each piece gets its own seeded tempo (60–150 quarter-note BPM) and is rendered
with FluidSynth through the bench's cache (`bench/caption.py: render`). Run as a script it renders
what is missing and prints how many pieces and seconds of audio the set holds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import caption as bench  # noqa: E402  (bench/caption.py)

TRAINING_SEED = 101


def cache_dir() -> Path:
    from tools.config import prepare_environment, settings

    prepare_environment()
    path = settings().cache_dir / "bench_caption"
    (path / "songs").mkdir(parents=True, exist_ok=True)
    return path


def training_pieces(per_collection: int = 30, seconds: float = 60.0, seed: int = TRAINING_SEED) -> list:
    """Pieces from the TUNING collections, none of them among the bench's own (bench.Piece list)."""
    cache = cache_dir()
    bench_ids = {p.ident for p in bench.load_pieces(bench.TUNING, 90.0, cache / "songs")}
    counts = {c: per_collection for c in bench.TUNING}
    return [p for p in bench.load_pieces(counts, seconds, cache / "songs", seed=seed) if p.ident not in bench_ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-collection", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=TRAINING_SEED)
    args = parser.parse_args()
    start = time.perf_counter()
    pieces = training_pieces(args.per_collection, args.seconds, args.seed)
    cache = cache_dir()
    total = 0.0
    for i, piece in enumerate(pieces, 1):
        total += len(bench.render(piece, cache)) / bench.RENDER_RATE
        if i % 25 == 0:
            print(f"{i}/{len(pieces)} rendered, {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{len(pieces)} training pieces from {len({p.collection for p in pieces})} collections, "
          f"{total / 60:.1f} min of audio, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
