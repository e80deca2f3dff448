"""Fit the key ranker of key_ranker.py and write key_ranker.json.

    OMP_NUM_THREADS=1 .venv/bin/python -m tools.music.analysis.fit_key [--refresh]

Data: music21 corpus pieces from the bench's TUNING collections that the bench itself does not
score (``bench/training_set.py``'s seed-101 pieces plus a seed-202 draw of more), truth as the
bench reads it (``bench/caption.py: true_key``). Each symbolic piece is seen whole and cut to
random lengths (30–90 s at its tempo, bar-aligned), so the fit meets excerpts that lost their
final cadence as often as the bench does. The audio ranker is fitted on FluidSynth renders of the
same pieces (whole up to 150 s, and one random 30–90 s cut), made in memory. The feature set and
the L2 strength are chosen by leave-one-collection-out cross-validation on the training pieces
(the HELDOUT set is other collections); the bench's own TUNING pieces are only scored, and its
HELDOUT collections are never read here.

Measured (2026-11-29): leave-one-collection-out exact 0.884 notes, 0.859 audio, where the profile
path scores 0.876 on the same symbolic examples; bench TUNING / HELDOUT exact, notes 0.930 / 0.742
and audio 0.895 / 0.581 against the profile path's 0.895 / 0.839 and 0.860 / 0.806. So the ranker
is opt-in (key.py's ``method="ranker"``), not the default.

Features are cached in the bench cache (``key_features_*.npz``) so a refit takes seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from tools.music.analysis.key_ranker import (CANDIDATES, WEIGHTS_FILE, audio_feature_names, candidate_features,
                                             evidence_from_notes, feature_names)

ROOT = Path(__file__).resolve().parents[3]
# training_set.py's draw (30 a collection), and more from the big collections. Beethoven's string
# quartets are left out (music21 parses one in 20–60 CPU-s; mozart and haydn give 21 pieces of the kind)
TRAINING_COUNTS = {"bach": 30, "essenFolksong": 30, "oneills1850": 30, "airdsAirs": 30, "ryansMammoth": 30,
                   "miscFolk": 30, "monteverdi": 30, "mozart": 30, "haydn": 30, "beethoven": 0}
EXTRA_SEED = 202
EXTRA_COUNTS = {"bach": 80, "essenFolksong": 80, "oneills1850": 50, "airdsAirs": 50, "ryansMammoth": 50,
                "miscFolk": 40, "monteverdi": 30, "mozart": 0, "haydn": 0, "beethoven": 0}
RENDER_RATE = 22050  # bench/caption.py renders at this rate
AUDIO_WHOLE_SECONDS = 150.0  # longer pieces are cut here for the audio fit (the bench cuts at 90)
RANDOM_CUTS = 2  # random-length excerpts per piece, besides the whole piece
L2_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)


def _bench():
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    import training_set  # noqa: E402  (bench/training_set.py)

    return training_set


def candidate_index(key: str) -> int:
    from tools.music.theory import parse_key

    k = parse_key(key)
    return CANDIDATES.index((k.tonic, k.mode))


def _notes(song) -> list:
    return [n for t in song.all_tracks() if not t.is_drum for n in t.notes]


def training_songs() -> list:
    """Whole (uncut) training pieces, bench pieces excluded, one per ident."""
    ts = _bench()
    bench = ts.bench
    cache = ts.cache_dir()
    bench_ids = {p.ident for p in bench.load_pieces(bench.TUNING, 90.0, cache / "songs")}
    seen, out = set(), []
    for seed, counts in ((ts.TRAINING_SEED, TRAINING_COUNTS), (EXTRA_SEED, EXTRA_COUNTS)):
        for piece in bench.load_pieces(counts, 1e9, cache / "songs", seed=seed):
            if piece.ident not in bench_ids and piece.ident not in seen:
                seen.add(piece.ident)
                out.append(piece)
    return out


def symbolic_table(pieces: list, *, cuts: int, seed: int) -> dict[str, np.ndarray]:
    """Features of every piece whole and in ``cuts`` random excerpts."""
    bench = _bench().bench
    rng = random.Random(seed)
    rows, rows_sig, truth, group = [], [], [], []
    for g, piece in enumerate(pieces):
        versions = [piece.song]
        for _ in range(cuts):
            versions.append(bench._cut(piece.song, rng.uniform(30.0, 90.0)))
        for song in versions:
            notes = _notes(song)
            if len(notes) < 8:
                continue
            ev = evidence_from_notes(notes, signature=piece.signature)
            rows.append(candidate_features(ev))
            rows_sig.append(candidate_features(ev, with_signature=True))
            truth.append(candidate_index(piece.key))
            group.append(g)
    return {"X": np.array(rows), "X_sig": np.array(rows_sig), "y": np.array(truth), "group": np.array(group)}


def bench_table(name: str) -> dict[str, np.ndarray]:
    """Features of the bench's own pieces of one set, exactly as the bench cuts them (90 s)."""
    bench = _bench().bench
    cache = _bench().cache_dir()
    pieces = bench.load_pieces(bench.SETS[name], 90.0, cache / "songs")
    rows, rows_sig, truth = [], [], []
    for piece in pieces:
        ev = evidence_from_notes(_notes(piece.song), signature=piece.signature)
        rows.append(candidate_features(ev))
        rows_sig.append(candidate_features(ev, with_signature=True))
        truth.append(candidate_index(piece.key))
    return {"X": np.array(rows), "X_sig": np.array(rows_sig), "y": np.array(truth),
            "ident": np.array([p.ident for p in pieces])}


def _audio_rows(y: np.ndarray) -> np.ndarray:
    from tools.music.analysis.key_ranker import audio_candidate_features, evidence_from_audio
    from tools.music.analysis.signal import ANALYSIS_RATE, to_mono

    return audio_candidate_features(evidence_from_audio(to_mono(y, RENDER_RATE), ANALYSIS_RATE))


def _render(song) -> np.ndarray:
    """Mono FluidSynth audio at RENDER_RATE, peak 0.8, as bench/caption.py renders (kept in memory)."""
    from tools.music.synth import render_song_audio

    audio = render_song_audio(song, sample_rate=RENDER_RATE)
    y = audio.mean(axis=1) if audio.ndim == 2 else audio
    return (y / max(1e-6, float(np.max(np.abs(y)))) * 0.8).astype(np.float32)


def audio_table(pieces: list, *, seed: int) -> dict[str, np.ndarray]:
    """Audio features of every training piece rendered whole (cut at AUDIO_WHOLE_SECONDS when
    longer) and cut to a random 30–90 s, bar-aligned as the bench cuts."""
    bench = _bench().bench
    rng = random.Random(seed)
    rows, truth, group = [], [], []
    for g, piece in enumerate(pieces):
        for seconds in (AUDIO_WHOLE_SECONDS, rng.uniform(30.0, 90.0)):
            song = bench._cut(piece.song, seconds)
            if song.duration_seconds < 8:
                continue
            rows.append(_audio_rows(_render(song)))
            truth.append(candidate_index(piece.key))
            group.append(g)
    return {"X": np.array(rows), "y": np.array(truth), "group": np.array(group)}


def bench_audio_table(name: str) -> dict[str, np.ndarray]:
    """Audio features of the bench's own renders of one set (90 s cuts)."""
    ts = _bench()
    cache = ts.cache_dir()
    pieces = ts.bench.load_pieces(ts.bench.SETS[name], 90.0, cache / "songs")
    rows = [_audio_rows(ts.bench.render(p, cache)) for p in pieces]
    return {"X": np.array(rows), "y": np.array([candidate_index(p.key) for p in pieces]),
            "ident": np.array([p.ident for p in pieces])}


def fit_logit(X: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Conditional-logit weights (on raw features) maximising mean log-likelihood − l2·|w|² (standardised)."""
    from scipy.optimize import minimize

    scale = X.reshape(-1, X.shape[-1]).std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = X / scale
    n = len(y)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = Z @ w
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        nll = -np.mean(np.log(p[np.arange(n), y] + 1e-300))
        grad = (np.einsum("nk,nkd->d", p, Z) - Z[np.arange(n), y].sum(axis=0)) / n
        return nll + l2 * float(w @ w), grad + 2 * l2 * w

    w = minimize(loss, np.zeros(Z.shape[-1]), jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x
    return w / scale


def accuracy(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(exact, MIREX weighted score) of the argmax key."""
    import mir_eval

    from tools.music.theory import Key

    pred = (X @ w).argmax(axis=1)
    name = lambda i: str(Key(*CANDIDATES[i]))  # noqa: E731
    exact = float(np.mean(pred == y))
    mirex = float(np.mean([mir_eval.key.weighted_score(name(t), name(p)) for t, p in zip(y, pred)]))
    return exact, mirex


def _cached(path: Path, make, refresh: bool) -> dict[str, np.ndarray]:
    if path.exists() and not refresh:
        return dict(np.load(path, allow_pickle=False))
    table = make()
    np.savez(path, **table)
    return table


def collection_cv(X: np.ndarray, y: np.ndarray, collection: np.ndarray, l2: float) -> float:
    """Exact accuracy when each TUNING collection in turn is predicted by a fit on the others: the
    bench's HELDOUT set is other collections, so this, not a split by piece, says what generalises."""
    hits = 0
    for name in sorted(set(collection.tolist())):
        out = collection == name
        w = fit_logit(X[~out], y[~out], l2)
        hits += int(((X[out] @ w).argmax(axis=1) == y[out]).sum())
    return hits / len(y)


def choose_and_fit(train: dict, tune: dict, field: str, label: str, names: list[str]) -> dict:
    """The feature set (all, or without the per-degree shares) and L2 strength with the best
    leave-one-collection-out accuracy on the training pieces (the bench's tuning pieces are only
    reported), and the weights fitted with them on all of them (zero on dropped features)."""
    results = []
    for dropped in ((), ("deg_",)):
        keep = np.array([not n.startswith(dropped) for n in names] * 2) if dropped else np.ones(2 * len(names), bool)
        for l2 in L2_GRID:
            cv = collection_cv(train[field][..., keep], train["y"], train["collection"], l2)
            w = np.zeros(keep.size)
            w[keep] = fit_logit(train[field][..., keep], train["y"], l2)
            exact, mirex = accuracy(tune[field], tune["y"], w)
            print(f"  {label} drop {dropped or '-'} l2={l2:<5} collection-cv exact {cv:.3f}   bench tuning exact "
                  f"{exact:.3f} MIREX {mirex:.3f}", flush=True)
            results.append((round(cv, 3), len(dropped), -l2, l2, w, exact, mirex, dropped))
    cv, _, _, l2, w, exact, mirex, dropped = max(results, key=lambda r: r[:3])
    return {"weights": [round(float(v), 6) for v in w], "with_signature": field == "X_sig", "l2": l2,
            "dropped": list(dropped), "collection_cv_exact": cv, "bench_tuning_exact": round(exact, 3),
            "bench_tuning_mirex": round(mirex, 3), "examples": int(len(train["y"])),
            "pieces": int(len(set(train["group"].tolist())))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true", help="recompute the cached features")
    args = parser.parse_args()
    cache = _bench().cache_dir()
    t0 = time.process_time()
    sym = _cached(cache / "key_features_symbolic.npz",
                  lambda: symbolic_table(training_songs(), cuts=RANDOM_CUTS, seed=EXTRA_SEED), args.refresh)
    sym_tune = _cached(cache / "key_features_bench_tuning.npz", lambda: bench_table("tuning"), args.refresh)
    audio = _cached(cache / "key_features_audio.npz", lambda: audio_table(training_songs(), seed=EXTRA_SEED),
                    args.refresh)
    audio_tune = _cached(cache / "key_features_bench_tuning_audio.npz", lambda: bench_audio_table("tuning"),
                         args.refresh)
    print(f"features: {len(sym['y'])} symbolic examples ({len(set(sym['group'].tolist()))} pieces), "
          f"{len(audio['y'])} audio ({len(set(audio['group'].tolist()))} pieces), "
          f"{time.process_time() - t0:.0f} CPU-s", flush=True)
    collections = np.array([p.collection for p in training_songs()])
    sym["collection"], audio["collection"] = collections[sym["group"]], collections[audio["group"]]
    rankers = {"notes": choose_and_fit(sym, sym_tune, "X", "notes", feature_names()),
               "notes_signature": choose_and_fit(sym, sym_tune, "X_sig", "notes+signature",
                                                 feature_names(with_signature=True)),
               "audio": choose_and_fit(audio, audio_tune, "X", "audio", audio_feature_names())}
    WEIGHTS_FILE.write_text(json.dumps({
        "_why": "Key ranker weights of tools/music/analysis/key_ranker.py, written by fit_key.py (do not edit by "
                "hand). Each ranker: weights on the (24 keys x features) table of key_ranker.py, the L2 strength "
                "chosen by leave-one-collection-out cross-validation on the training pieces, and what it scored.",
        "rankers": rankers}, indent=1) + "\n")
    print(f"wrote {WEIGHTS_FILE} in {time.process_time() - t0:.0f} CPU-s")


if __name__ == "__main__":
    main()
