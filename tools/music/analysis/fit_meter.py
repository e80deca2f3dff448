"""Fit the meter model of meter.py and write meter_model.json.

    .venv/bin/python -m tools.music.analysis.fit_meter [--report]

Data: the training pieces of ``bench/training_set.py`` (music21 corpus pieces of the bench's TUNING
collections, none of the bench's own, rendered at seeded tempos) and Tunesmith's songs of every
style preset (instrumental, 30 s, seeds 1–3), so the product's 4/4 backbeats and waltzes keep
reading right. Each clip's evidence is taken at the tempo the tempo estimator reads, as the
caption does, and cached in ``bench/out/meter`` (the first run reads ~320 clips, ~15 CPU-min; a
refit then takes seconds). Only clips whose tempo was read right (±4 %) and whose meter is one of
meter.METERS (2/2 counts as 4/4) take part: at a wrong tempo the truth has no bar length in beats.

The model is a multinomial logit with an L2 penalty chosen by leave-one-collection-out
cross-validation (a collection's pieces share a style; the songs are one collection).
``--report`` also scores the bench's TUNING pieces (never its HELD-OUT ones).

Refit after any change to the tempo estimator, and then refit the audio genre model
(``python -m tools.caption.fit_genre --audio``), which reads the meter.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from tools.music.analysis import meter as M
from tools.music.analysis.fit_tempo import RATE, ROOT, _bench, _render_path, song_clip

CACHE = ROOT / "bench" / "out" / "meter"
EVIDENCE_VERSION = "1"  # bump when meter_evidence changes
LABELS = {"2/4": "2/4", "3/4": "3/4", "4/4": "4/4", "2/2": "4/4", "6/8": "6/8"}
SONG_SEEDS = (1, 2, 3)
L2_CHOICES = (0.3, 1.0, 3.0, 10.0, 30.0)


def _evidence(key: str, audio) -> tuple[float, M.MeterEvidence]:
    """The read tempo and the meter evidence at it, cached; ``audio`` is a thunk giving mono at RATE."""
    from tools.music.analysis import estimate_tempo

    path = CACHE / f"{key}_v{EVIDENCE_VERSION}.npz"
    if path.exists():
        z = np.load(path)
        return float(z["bpm"]), M.MeterEvidence(z["onset_acf"], z["change_acf"], float(z["beat_frames"]))
    mono = audio()
    bpm = estimate_tempo(mono, RATE).bpm
    ev = M.meter_evidence(mono, RATE, bpm=bpm)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, bpm=bpm, onset_acf=ev.onset_acf, change_acf=ev.change_acf, beat_frames=ev.beat_frames)
    return bpm, ev


def corpus_rows(which: str) -> list[dict]:
    """One row per training (or bench TUNING) piece: name, group, true meter and tempo, read tempo, features."""
    bench, training_set = _bench()
    cache = training_set.cache_dir()
    pieces = training_set.training_pieces() if which == "training" else bench.load_pieces(bench.TUNING, 90.0,
                                                                                          cache / "songs")
    rows = []
    for piece in pieces:
        bpm, ev = _evidence(_render_path(bench, piece, cache).stem, lambda piece=piece: bench.render(piece, cache))
        rows.append({"name": piece.ident, "group": piece.collection, "meter": piece.meter, "tempo": piece.tempo,
                     "bpm": bpm, "x": M.meter_features(ev)})
    return rows


def song_rows() -> list[dict]:
    """Tunesmith's songs of every preset, instrumental, at the tempo their blueprint chose."""
    from tools.song import SongArgs, compose_song, make_blueprint
    from tools.song.presets import all_presets

    rows = []
    for preset in sorted(all_presets()):
        for seed in SONG_SEEDS:
            args = SongArgs(prompt="a song about the sea and the road home", genre=preset, seed=seed, vocals="none",
                            duration_s=30)
            song = compose_song(make_blueprint(args), seed=seed)
            bpm, ev = _evidence(*song_clip(song))
            rows.append({"name": f"song {preset} {seed}", "group": "tunesmith", "meter": song.meter,
                         "tempo": float(song.tempo_bpm), "bpm": bpm, "x": M.meter_features(ev)})
    return rows


def usable(rows: list[dict]) -> list[dict]:
    """Rows whose tempo was read right and whose meter the model can name."""
    return [r for r in rows if r["meter"] in LABELS and abs(r["bpm"] - r["tempo"]) <= 0.04 * r["tempo"]]


def fit(rows: list[dict], l2: float) -> dict:
    """Multinomial logit on standardised features (the bias is not penalised)."""
    X = np.array([r["x"] for r in rows])
    y = np.array([M.METERS.index(LABELS[r["meter"]]) for r in rows])
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    Z = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
    shape = (len(M.METERS), Z.shape[1])

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        W = flat.reshape(shape)
        S = Z @ W.T
        S -= S.max(axis=1, keepdims=True)
        P = np.exp(S)
        P /= P.sum(axis=1, keepdims=True)
        G = P.copy()
        G[np.arange(len(y)), y] -= 1
        grad = G.T @ Z
        grad[:, :-1] += 2 * l2 * W[:, :-1]
        return float(-np.log(P[np.arange(len(y)), y] + 1e-12).sum() + l2 * (W[:, :-1] ** 2).sum()), grad.ravel()

    W = minimize(loss, np.zeros(shape).ravel(), jac=True, method="L-BFGS-B").x.reshape(shape)
    return {"mean": mean, "scale": scale, "weights": W}


def accuracy(rows: list[dict], model: dict) -> float:
    hits = [M.METERS[int(np.argmax(M.meter_probabilities(r["x"], model)))] == LABELS[r["meter"]] for r in rows]
    return float(np.mean(hits)) if hits else 0.0


def cross_validate(rows: list[dict], l2: float) -> float:
    hits = 0.0
    for group in sorted({r["group"] for r in rows}):
        held = [r for r in rows if r["group"] == group]
        hits += accuracy(held, fit([r for r in rows if r["group"] != group], l2)) * len(held)
    return hits / len(rows)


def bench_report(model: dict) -> str:
    """Bar length and duple/triple accuracy on the bench's TUNING pieces, every piece counted."""
    bench, _ = _bench()
    rows = corpus_rows("tuning")
    guesses = [M.METERS[int(np.argmax(M.meter_probabilities(r["x"], model)))] for r in rows]
    bar = np.mean([bench.meter_family(g) == bench.meter_family(r["meter"]) for g, r in zip(guesses, rows)])
    grouping = np.mean([bench.beat_grouping(g) == bench.beat_grouping(r["meter"]) for g, r in zip(guesses, rows)])
    return f"bench TUNING ({len(rows)} pieces): bar {bar:.3f}, duple/triple {grouping:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", action="store_true", help="also score the bench's TUNING pieces")
    parser.add_argument("--out", type=Path, default=M.MODEL_PATH)
    args = parser.parse_args()
    start = time.process_time()
    every = corpus_rows("training") + song_rows()
    rows = usable(every)
    print(f"{len(every)} clips, {len(rows)} with the tempo read right and a nameable meter "
          f"({sum(r['group'] == 'tunesmith' for r in rows)} songs); {time.process_time() - start:.0f} CPU-s")
    scores = {l2: cross_validate(rows, l2) for l2 in L2_CHOICES}
    for l2, score in scores.items():
        print(f"L2 {l2:5.1f}: leave-one-collection-out accuracy {score:.3f}")
    best = max(scores, key=lambda l2: (scores[l2], l2))  # ties: the stronger penalty
    model = fit(rows, best)
    out = {"_why": "meter.py's logit over meter_features; written by fit_meter.py",
           "meters": list(M.METERS), "beat_multiples": [round(m, 4) for m in M.BEAT_MULTIPLES],
           "mean": [round(float(v), 6) for v in model["mean"]], "scale": [round(float(v), 6) for v in model["scale"]],
           "weights": [[round(float(v), 6) for v in row] for row in model["weights"]],
           "fit": {"clips": len(rows), "l2": best, "cv_accuracy": round(scores[best], 3),
                   "train_accuracy": round(accuracy(rows, model), 3)}}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out.name}: L2 {best}, train accuracy {out['fit']['train_accuracy']:.3f}")
    if args.report:
        print(bench_report(model))


if __name__ == "__main__":
    main()
