"""Fit the genre model of genre.py and write genre.json.

    .venv/bin/python -m tools.caption.fit_genre [--seeds 10] [--cache DIR]

Data, labelled by construction:
* Tunesmith songs: every style preset composed from neutral and mood-word prompts with seeds
  1..N (sung by either voice or instrumental, 30 or 60 s), each written to MIDI and read back, so
  the features are the ones an uploaded MIDI file gives. Test songs use seeds 101..104.
* audio (``--audio``): the same presets' songs of seeds 1..6 rendered with FluidR3_GM, 30 s each,
  tested on seeds 101 and 102 rendered with FluidR3_GM and with TimGM6mb (a SoundFont the fit never
  heard), plus the corpus renders below;
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


AUDIO_SEEDS, AUDIO_TEST_SEEDS, AUDIO_SECONDS, RATE = tuple(range(1, 7)), (101, 102), 30, 22050


def audio_rows(mono: np.ndarray, sr: int = RATE) -> np.ndarray:
    """The audio model's features of a mono clip, measured the way caption_audio measures them
    (the key from the chroma alone: the caption adds the transcription's notes), at the tempo
    found and at its half and double (rows 0, 1, 2).

    Why three: the folded pattern and the tempo feature move with the tempo estimator's octave,
    and a model fitted on one estimator's octaves misread bossa novas as pop when the estimator
    changed (90976bc). Rows 1 and 2 teach it the other readings of the same music.
    """
    from tools.caption.genre import audio_features
    from tools.caption.rhythm_pattern import rhythm_pattern
    from tools.music.analysis import estimate_key_from_audio, estimate_tempo
    from tools.music.analysis.meter import estimate_meter
    from tools.music.analysis.timbre import estimate_instruments
    from tools.music.theory import parse_key

    tempo = estimate_tempo(mono, sr)
    minor = parse_key(estimate_key_from_audio(mono, sr).key).mode == "minor"
    heard = estimate_instruments(mono, sr)
    beats = np.asarray(tempo.beats, dtype=float)
    readings = [(tempo.bpm, beats), (tempo.bpm / 2, beats[::2]),
                (tempo.bpm * 2, np.sort(np.concatenate([beats, (beats[1:] + beats[:-1]) / 2])))]
    rows = []
    for bpm, grid in readings:
        pattern = rhythm_pattern(mono, sr, grid)
        rows.append(audio_features(bpm=bpm, meter=estimate_meter(mono, sr, bpm=bpm).meter, minor=minor,
                                   onsets_per_s=pattern.onsets_per_s, timbre_probabilities=heard.mean_probabilities,
                                   pattern=pattern.features))
    return np.array(rows)


def _audio_song_rows(seeds: tuple[int, ...], cache: Path, soundfont: Path | None = None
                     ) -> tuple[list[np.ndarray], list[str]]:
    """Every preset's songs rendered with FluidSynth (the melody on its own program: no singer),
    with FluidR3_GM or ``soundfont``."""
    from tools.music.synth import render_song_audio
    from tools.song import SongArgs, compose_song, make_blueprint
    from tools.song.presets import all_presets

    tag = "" if soundfont is None else f"_{Path(soundfont).stem.lower()}"
    path = cache / f"audio_songs_{min(seeds)}_{max(seeds)}_{len(seeds)}{tag}.npz"
    if path.exists():
        data = np.load(path)
        return list(data["x"]), list(data["y"])
    rows, labels = [], []
    for name in sorted(all_presets()):
        for seed in seeds:
            rng = random.Random(f"{name}-{seed}")
            args = SongArgs(prompt=rng.choice(PROMPTS), genre=name, seed=seed,
                            vocals=rng.choice(("female", "male", "none")), duration_s=AUDIO_SECONDS)
            audio = render_song_audio(compose_song(make_blueprint(args), seed=seed), sample_rate=RATE,
                                      soundfont=soundfont)
            mono = audio.mean(axis=1) if audio.ndim == 2 else audio
            rows.append(audio_rows((mono / max(1e-6, float(np.abs(mono).max())) * 0.8).astype(np.float32)))
            labels.append(name)
        print(f"  {name}: {len(rows)} clips", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=np.array(rows), y=np.array(labels))
    return rows, labels


def _audio_corpus_rows(cache: Path) -> tuple[list[np.ndarray], list[str]]:
    """The training set's corpus renders (bench/training_set.py), their first AUDIO_SECONDS."""
    path = cache / "audio_corpus.npz"
    if path.exists():
        data = np.load(path)
        return list(data["x"]), list(data["y"])
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "bench"))
    import training_set  # bench/training_set.py

    import caption as bench  # bench/caption.py, importable once bench/ is on the path

    rows, labels = [], []
    for piece in training_set.training_pieces():
        y = bench.render(piece, training_set.cache_dir())[: RATE * AUDIO_SECONDS]
        rows.append(audio_rows(y.astype(np.float32)))
        labels.append(CORPUS_CLASSES[piece.collection])
    np.savez(path, x=np.array(rows), y=np.array(labels))
    return rows, labels


def _fit(x: np.ndarray, y: list[str], c: float):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit((x - mean) / scale, y)
    return model, mean, scale


def _as_found(rows: list, labels: list) -> tuple[list, list]:
    """Each clip's row at the tempo the estimator found."""
    return [r[0] for r in rows], list(labels)


def _with_octaves(rows: list, labels: list) -> tuple[list, list]:
    """Each clip's three rows (found, half, double tempo), all with its label."""
    return [v for r in rows for v in r], [label for label in labels for _ in range(3)]


def _octaves(rows: list, labels: list) -> tuple[list, list]:
    """Each clip's half- and double-tempo rows: the test of a wrong tempo octave."""
    return [v for r in rows for v in r[1:]], [label for label in labels for _ in range(2)]


def _split_corpus(rows: list, labels: list) -> tuple[list, list, list, list]:
    """Every fifth corpus piece is held out for the test."""
    held = [i % 5 == 4 for i in range(len(rows))]
    return ([x for x, h in zip(rows, held) if not h], [y for y, h in zip(labels, held) if not h],
            [x for x, h in zip(rows, held) if h], [y for y, h in zip(labels, held) if h])


def fit_and_write(train_x: list, train_y: list, test_x: list, test_y: list, path: Path, about: dict,
                  extra_tests: dict[str, tuple[list, list]] | None = None, rows_per_clip: int = 1) -> None:
    """Pick the L2 strength on every fourth training clip, fit on all, report the test, write ``path``."""
    x, y = np.array(train_x), list(train_y)
    print(f"{len(x)} training rows, {len(test_x)} test rows, {x.shape[1]} features")
    fold = (np.arange(len(x)) // rows_per_clip) % 4 == 3  # a clip's rows stay on one side
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
    fit = {"C": best_c, "train_rows": len(x), "test_rows": len(test_x),
           "test_accuracy": round(float(np.mean(predicted == truth)), 3), **about}
    print(f"test accuracy {fit['test_accuracy']:.3f} (C={best_c}) on unseen seeds and every fifth corpus piece")
    for name in sorted(set(test_y)):
        mask = truth == name
        wrong = Counter(predicted[mask & (predicted != truth)])
        print(f"  {name:<14} {np.mean(predicted[mask] == name):.2f} (n={mask.sum()})"
              + (f"  confused with {dict(wrong)}" if wrong else ""))
    for label, (other_x, other_y) in (extra_tests or {}).items():
        fit[f"test_accuracy_{label}"] = round(float(np.mean(
            model.predict((np.array(other_x) - mean) / scale) == np.array(other_y))), 3)
        print(f"test accuracy {fit[f'test_accuracy_{label}']:.3f} on the unseen songs {label}")
    path.write_text(json.dumps({
        "_why": "Fitted by tools/caption/fit_genre.py (see its docstring).",
        "classes": list(model.classes_),
        "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "weights": model.coef_.round(5).tolist(), "bias": model.intercept_.round(5).tolist(), "fit": fit,
    }, indent=1) + "\n")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--audio", action="store_true", help="fit the audio model (genre_audio.json) instead")
    parser.add_argument("--cache", type=Path, default=Path(__file__).resolve().parents[2] / "bench" / "out" / "genre")
    args = parser.parse_args()
    from tools.config import prepare_environment
    from tools.caption.genre import AUDIO_MODEL_PATH

    prepare_environment()
    start = time.perf_counter()
    if args.audio:
        train_x, train_y = _audio_song_rows(AUDIO_SEEDS, args.cache)
        test_x, test_y = _audio_song_rows(AUDIO_TEST_SEEDS, args.cache)
        cx, cy, hx, hy = _split_corpus(*_audio_corpus_rows(args.cache))
        from tools.music.resources import packaged_timgm_soundfont

        other_font = packaged_timgm_soundfont()  # never heard in the fit: how far the model carries
        extra = {"timgm6mb": _as_found(*_audio_song_rows(AUDIO_TEST_SEEDS, args.cache, other_font))} if other_font else {}
        extra["at_half_or_double_tempo"] = _octaves(test_x, test_y)
        print(f"features measured in {time.perf_counter() - start:.0f} s")
        train_x, train_y = _with_octaves(train_x + cx, train_y + cy)
        test_x, test_y = _as_found(test_x + hx, test_y + hy)
        fit_and_write(train_x, train_y, test_x, test_y, AUDIO_MODEL_PATH,
                      {"song_seeds": list(AUDIO_SEEDS), "test_seeds": list(AUDIO_TEST_SEEDS),
                       "seconds": AUDIO_SECONDS, "soundfont": "FluidR3_GM"}, extra, rows_per_clip=3)
        return
    seeds = tuple(range(1, args.seeds + 1))
    train_x, train_y = _song_rows(seeds, args.cache, variant="original")
    more_x, more_y = _song_rows(seeds, args.cache, variant="reorchestrated")
    test_x, test_y = _song_rows(TEST_SEEDS, args.cache, variant="original")
    other = _song_rows(TEST_SEEDS, args.cache, variant="reorchestrated")
    cx, cy, hx, hy = _split_corpus(*_corpus_rows(args.cache)[:2])
    print(f"features measured in {time.perf_counter() - start:.0f} s")
    fit_and_write(train_x + more_x + cx, train_y + more_y + cy, test_x + hx, test_y + hy, MODEL_PATH,
                  {"song_seeds": args.seeds, "test_seeds": list(TEST_SEEDS)}, {"reorchestrated": other})


if __name__ == "__main__":
    main()
