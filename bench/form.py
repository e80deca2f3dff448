"""Form benchmark: the caption's sections against the sections Tunesmith wrote.

    .venv/bin/python bench/form.py [--seeds 3 4] [--verbose]

Every style preset is composed with each seed (vocals and length drawn from the seed), and the
caption's symbolic `structure` is scored against the blueprint's sections with mir_eval: boundary
F-measure (hits within ±1 bar) and pairwise frame-clustering F (do two bars share a label in both?).
Seeds 1 and 2 are the ones the structure's settings were chosen on; 3 and 4 were not looked at.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def score(song) -> tuple[float, float, int]:
    """(boundary F, pairwise F, sections found) of one song's caption structure."""
    import mir_eval

    from tools.caption import symbolic

    ref = np.array([[s.start_bar, s.start_bar + s.bars] for s in song.sections], dtype=float)
    labels = [s.kind for s in song.sections]
    found = symbolic.structure(symbolic.pitched_notes(song), song.beats_per_bar)
    if found is None:
        return 0.0, 0.0, 0
    est = np.array([[s["start_bar"], s["start_bar"] + s["bars"]] for s in found["sections"]], dtype=float)
    est_labels = [s["label"] for s in found["sections"]]
    end = ref[-1, 1]
    est = np.clip(est, 0, end)
    keep = est[:, 1] > est[:, 0]
    est, est_labels = est[keep], [label for label, k in zip(est_labels, keep) if k]
    if est[-1, 1] < end:  # the score's last notes may stop before the blueprint's last bar
        est = np.vstack([est, [est[-1, 1], end]])
        est_labels.append("end")
    _, _, boundary_f = mir_eval.segment.detection(ref, est, window=1.01, trim=True)
    _, _, pairwise_f = mir_eval.segment.pairwise(ref, labels, est, est_labels)
    return boundary_f, pairwise_f, len(est)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    from tools.config import prepare_environment

    prepare_environment()
    from tools.song import SongArgs, compose_song, make_blueprint
    from tools.song.presets import all_presets

    rows = []
    for name in sorted(all_presets()):
        for seed in args.seeds:
            rng = random.Random(f"{name}{seed}")
            blueprint = make_blueprint(SongArgs(prompt="a song about the harbour", genre=name, seed=seed,
                                                vocals=rng.choice(("female", "male", "none")),
                                                duration_s=rng.choice((60, 90, 150))))
            song = compose_song(blueprint, seed=seed)
            rows.append(score(song))
            if args.verbose:
                print(f"{name:<14} seed {seed}: boundary F {rows[-1][0]:.2f}  pairwise F {rows[-1][1]:.2f}")
    r = np.array(rows)
    print(f"\n{'songs':<10}{'boundary F (±1 bar)':>22}{'pairwise F':>14}{'sections / song':>18}")
    print(f"{len(r):<10}{r[:, 0].mean():>22.3f}{r[:, 1].mean():>14.3f}{r[:, 2].mean():>18.1f}")


if __name__ == "__main__":
    main()
