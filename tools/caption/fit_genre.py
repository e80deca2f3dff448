"""Fit the genre model of genre.py and write genre.json.

    .venv/bin/python -m tools.caption.fit_genre [--seeds 10] [--cache DIR]

Data, labelled by construction:
* Tunesmith songs: every style preset composed from neutral and mood-word prompts with seeds
  1..N (sung by either voice or instrumental, 30 or 60 s), each written to MIDI and read back, so
  the features are the ones an uploaded MIDI file gives. Test songs use seeds 101..104.
* corpus pieces: bench/training_set.py's pieces from the TUNING collections, labelled by
  collection (Bach → chorale, the folk collections → folk tune, Monteverdi → madrigal, Mozart,
  Haydn and Beethoven → classical); every fifth piece is held out for the test.

The model is scikit-learn's multinomial logistic regression on standardised features; the L2
strength is picked on a validation split of the training seeds. Reported: test accuracy on the
unseen seeds and pieces, per class, and the confusions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from tools.caption.genre import MODEL_PATH, symbolic_features

PROMPTS = ("a song about the road home", "a happy song about summer", "a sad song about leaving",
           "a calm song about the sea", "an energetic song about the city at night")
CORPUS_CLASSES = {"bach": "chorale", "essenFolksong": "folk tune", "oneills1850": "folk tune",
                  "airdsAirs": "folk tune", "ryansMammoth": "folk tune", "miscFolk": "folk tune",
                  "monteverdi": "madrigal", "mozart": "classical", "haydn": "classical", "beethoven": "classical"}
TEST_SEEDS = (101, 102, 103, 104)
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)


def _reorchestrated(song, rng: random.Random):
    """The same notes with every pitched part on a random General MIDI program: a genre must then
    be told by its rhythm and harmony, as in a cover played on other instruments."""
    def swap(track):
        return track if track.is_drum else track.model_copy(update={"program": rng.randrange(0, 112)})

    return song.model_copy(update={"melody": swap(song.melody), "tracks": [swap(t) for t in song.tracks]})


def _song_rows(seeds: tuple[int, ...], cache: Path, *, variant: str) -> tuple[list[np.ndarray], list[str]]:
    """Feature rows of every preset's songs; ``variant`` "original" or "reorchestrated"."""
    from tools.music.song import Song
    from tools.music.theory import parse_key
    from tools.song import SongArgs, compose_song, make_blueprint
    from tools.song.presets import all_presets

    path = cache / f"songs_{variant}_{min(seeds)}_{max(seeds)}_{len(seeds)}.npz"
    if path.exists():
        data = np.load(path)
        return list(data["x"]), list(data["y"])
    rows, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(all_presets()):
            for seed in seeds:
                rng = random.Random(f"{name}-{seed}")
                args = SongArgs(prompt=rng.choice(PROMPTS), genre=name, seed=seed,
                                vocals=rng.choice(("female", "male", "none")), duration_s=rng.choice((30, 60)))
                song = compose_song(make_blueprint(args), seed=seed)
                if variant == "reorchestrated":
                    song = _reorchestrated(song, rng)
                midi = song.to_midi(Path(tmp) / "song.mid")
                rows.append(symbolic_features(Song.from_midi(midi), minor=parse_key(song.key).mode == "minor"))
                labels.append(name)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=np.array(rows), y=np.array(labels))
    return rows, labels


def _corpus_rows(cache: Path) -> tuple[list[np.ndarray], list[str], list[str]]:
    from tools.music.theory import parse_key

    path = cache / "corpus.npz"
    if path.exists():
        data = np.load(path)
        return list(data["x"]), list(data["y"]), list(data["ids"])
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "bench"))
    import training_set  # bench/training_set.py

    rows, labels, ids = [], [], []
    for piece in training_set.training_pieces():
        rows.append(symbolic_features(piece.song, minor=parse_key(piece.key).mode == "minor"))
        labels.append(CORPUS_CLASSES[piece.collection])
        ids.append(piece.ident)
    np.savez(path, x=np.array(rows), y=np.array(labels), ids=np.array(ids))
    return rows, labels, ids


def _fit(x: np.ndarray, y: list[str], c: float):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit((x - mean) / scale, y)
    return model, mean, scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[2] / "bench" / "out" / "genre")
    args = parser.parse_args()
    from tools.config import prepare_environment

    prepare_environment()
    start = time.perf_counter()
    seeds = tuple(range(1, args.seeds + 1))
    train_x, train_y = _song_rows(seeds, args.cache, variant="original")
    more_x, more_y = _song_rows(seeds, args.cache, variant="reorchestrated")
    train_x, train_y = train_x + more_x, train_y + more_y
    test_x, test_y = _song_rows(TEST_SEEDS, args.cache, variant="original")
    other_x, other_y = _song_rows(TEST_SEEDS, args.cache, variant="reorchestrated")
    corpus_x, corpus_y, corpus_ids = _corpus_rows(args.cache)
    held = [i % 5 == 4 for i in range(len(corpus_x))]
    train_x += [x for x, h in zip(corpus_x, held) if not h]
    train_y += [y for y, h in zip(corpus_y, held) if not h]
    test_x += [x for x, h in zip(corpus_x, held) if h]
    test_y += [y for y, h in zip(corpus_y, held) if h]
    x, y = np.array(train_x), list(train_y)
    print(f"{len(x)} training rows, {len(test_x)} test rows, {x.shape[1]} features "
          f"({time.perf_counter() - start:.0f} s to build)")
    # the L2 strength: every fourth training row validates
    fold = np.arange(len(x)) % 4 == 3
    best_c, best_acc = C_GRID[0], -1.0
    for c in C_GRID:
        model, mean, scale = _fit(x[~fold], [v for v, f in zip(y, fold) if not f], c)
        acc = float(np.mean(model.predict((x[fold] - mean) / scale) == np.array(y)[fold]))
        print(f"C={c:<5} validation accuracy {acc:.3f}")
        if acc > best_acc:
            best_c, best_acc = c, acc
    model, mean, scale = _fit(x, y, best_c)
    predicted = model.predict((np.array(test_x) - mean) / scale)
    truth = np.array(test_y)
    accuracy = float(np.mean(predicted == truth))
    print(f"test accuracy {accuracy:.3f} (C={best_c}) on unseen seeds {TEST_SEEDS} and every fifth corpus piece")
    for name in sorted(set(test_y)):
        mask = truth == name
        wrong = Counter(predicted[mask & (predicted != truth)])
        print(f"  {name:<14} {np.mean(predicted[mask] == name):.2f} (n={mask.sum()})"
              + (f"  confused with {dict(wrong)}" if wrong else ""))
    swapped = model.predict((np.array(other_x) - mean) / scale)
    reorchestrated = float(np.mean(swapped == np.array(other_y)))
    print(f"test accuracy {reorchestrated:.3f} on the same unseen songs re-orchestrated (rhythm and harmony only)")
    MODEL_PATH.write_text(json.dumps({
        "_why": "Fitted by tools/caption/fit_genre.py (see its docstring); features from genre.symbolic_features.",
        "classes": list(model.classes_),
        "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "weights": model.coef_.round(5).tolist(), "bias": model.intercept_.round(5).tolist(),
        "fit": {"C": best_c, "train_rows": len(x), "test_rows": len(test_x), "test_accuracy": round(accuracy, 3),
                "test_accuracy_reorchestrated": round(reorchestrated, 3),
                "song_seeds": args.seeds, "test_seeds": list(TEST_SEEDS)},
    }, indent=1) + "\n")
    print(f"wrote {MODEL_PATH} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
