"""Vocal-presence benchmark: fit the detector's logistic weights on a TUNING set, report a HELD-OUT set.

    .venv/bin/python bench/vocals.py [--build-only] [--cv] [--fit --l2 100 --top-share 0.25 --quadratic] [--verbose]

The shipped vocals.json came from ``--fit --l2 100 --top-share 0.25 --quadratic``, chosen by ``--cv``
(tuning cross-validation, 4 folds, whole presets and collections held out: accuracy 0.917, AUC 0.985;
the linear model 0.882 / 0.961; l2 10-300 and top share 0.25-0.4 all within two clips of each other).
``--cv`` never scores HELD-OUT.

Data (all made on this machine; there is no real recorded singing here, so every positive is
Tunesmith's own WORLD singer):
  * Tunesmith songs rendered by text_to_song's stages, each composition twice from the same seed:
    sung (female or male voice) and ``vocals none`` (the melody then played by its instrument),
    so a positive and a negative share band, drums, key and tempo.
  * The sung songs re-mixed from their stems with the voice 6 dB quieter (harder positives), and in
    HELD-OUT also 12 dB quieter (a stress row; nothing that quiet is fitted on).
  * TUNING only: 24 more ``vocals none`` songs with the melody moved to other GM leads (oboe,
    clarinet, viola, trombone, harmonica, cello, fiddle, GM "voice lead" …; none of HELD-OUT's).
  * music21 corpus pieces rendered with FluidSynth by bench/caption.py (all instrumental), and ten
    of them re-rendered with every part on GM choir aahs / voice oohs / synth voice (52-54): voice-like
    timbres singing no words, the hardest negatives.
TUNING and HELD-OUT share no preset, seed or corpus collection. ``--fit`` refits on TUNING and
writes tools/music/analysis/vocals.json; without it the shipped weights are scored.

Prints accuracy, false positives (corpus renders, ``vocals none`` songs), misses, and CPU seconds
of detection per minute of audio. The machine is shared: CPU time is reported beside the load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tools.config import prepare_environment  # noqa: E402

RATE = 22050
TOPICS = ["a lighthouse keeper on a stormy night", "driving home after the night shift", "summer by the sea",
          "an old friend who moved away", "dancing in the kitchen", "the last train out of town",
          "a garden in the rain", "waking up in a new city"]
TUNING_PRESETS = ["pop", "rock", "folk", "ballad", "country", "synthpop", "jazz", "funk", "edm", "lo-fi",
                  "reggae", "gospel"]
HELDOUT_PRESETS = ["blues", "bossa nova", "chinese folk", "cinematic", "city pop", "hip-hop", "lullaby", "punk",
                   "sea shanty", "ska", "waltz"]
SONG_SETS = {"tuning": (TUNING_PRESETS, (1, 2, 3, 4)), "heldout": (HELDOUT_PRESETS, (11, 12))}
CORPUS_SETS = {  # per bench/caption.py's split: no collection in common
    "tuning": {"bach": 8, "essenFolksong": 4, "oneills1850": 3, "airdsAirs": 2, "monteverdi": 3, "mozart": 2,
               "haydn": 2, "beethoven": 2},
    "heldout": {"palestrina": 4, "trecento": 2, "josquin": 2, "schumann_robert": 3, "schumann_clara": 2,
                "leadSheet": 2, "handel": 1, "corelli": 1, "cpebach": 1, "joplin": 1, "schubert": 1, "verdi": 1,
                "nottingham-dataset": 2},
}
QUIET_VOICE_DB = -6.0
FAINT_VOICE_DB = -12.0  # HELD-OUT only: how far below the mix's own level the voice can sink
CHOIR_PROGRAMS = (52, 53, 54)  # GM choir aahs, voice oohs, synth voice: voice-like, no words
CHOIR_PIECES = 10  # corpus pieces of each set re-rendered with them
# TUNING only: instrumental songs with the melody on other GM leads (none of HELD-OUT's presets' leads:
# 4, 10, 21, 56, 60, 77), so the model meets more than the tuning presets' dozen lead instruments
LEAD_SWAPS = (68, 71, 41, 57, 64, 74, 22, 69, 42, 70, 79, 82, 85, 6, 19, 26, 46, 61, 67, 75, 78, 105, 109, 110)


@dataclass
class Clip:
    """One labelled audio clip and where it came from."""

    name: str
    group: str  # "song sung", "song sung -6 dB", "song none", "corpus"
    vocals: bool
    audio: np.ndarray
    voice: np.ndarray | None = None  # the sung stem as mixed in, to label windows


def _mono(path: Path) -> np.ndarray:
    import soundfile

    from tools.music.analysis.signal import to_mono

    y, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    return to_mono(y, sr, target_sr=RATE)


def _render_song(genre: str, seed: int, vocals: str, out: Path, lead: int | None = None) -> Path:
    """Compose and render one song into ``out`` (mono FLACs of mix and stems), the melody on GM
    program ``lead`` when given; cached."""
    import soundfile

    from tools.song import SongArgs, compose_song, make_blueprint, render_song

    if (out / "mix.flac").exists():
        return out
    voice = vocals if vocals != "sung" else ("female" if seed % 2 else "male")
    args = SongArgs(prompt=f"a song about {TOPICS[(seed + len(genre)) % len(TOPICS)]}", genre=genre, seed=seed,
                    vocals=voice, duration_s=20)
    blueprint = make_blueprint(args)
    song = compose_song(blueprint, seed=seed)
    if lead is not None:
        song = song.model_copy(update={"melody": song.melody.model_copy(update={"program": lead})})
    tmp = out / "render"
    render_song(song, tmp, vocals=blueprint.vocals, blueprint=blueprint, check=False, musicxml=False)
    for wav, flac in (("song.wav", "mix.flac"), ("vocals.wav", "vocals.flac"), ("accompaniment.wav", "band.flac")):
        if (tmp / wav).exists():
            soundfile.write(str(out / flac), _mono(tmp / wav), RATE)
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()
    return out


def song_clips(name: str, cache: Path) -> list[Clip]:
    """The set's songs, sung and not, plus each sung song re-mixed with a quieter voice."""
    presets, seeds = SONG_SETS[name]
    clips = []
    for genre in presets:
        for seed in seeds:
            for vocals in ("sung", "none"):
                ident = f"{genre.replace(' ', '_')}_{seed}_{vocals}"
                folder = _render_song(genre, seed, vocals, cache / ident)
                mix = _mono(folder / "mix.flac")
                if vocals == "sung":
                    voice, band = _mono(folder / "vocals.flac"), _mono(folder / "band.flac")
                    clips.append(Clip(ident, "song sung", True, mix, voice))
                    quiet = voice * 10 ** (QUIET_VOICE_DB / 20)
                    clips.append(Clip(ident + "_quiet", f"song sung {QUIET_VOICE_DB:+.0f} dB", True, band + quiet,
                                      quiet))
                    if name == "heldout":  # a stress row, never fitted on
                        faint = voice * 10 ** (FAINT_VOICE_DB / 20)
                        clips.append(Clip(ident + "_faint", f"song sung {FAINT_VOICE_DB:+.0f} dB (stress)", True,
                                          band + faint, faint))
                else:
                    clips.append(Clip(ident, "song none", False, mix))
    if name == "tuning":
        for index, program in enumerate(LEAD_SWAPS):
            genre, seed = presets[index % len(presets)], 5 + index // len(presets)
            folder = _render_song(genre, seed, "none", cache / f"{genre.replace(' ', '_')}_{seed}_none_lead{program}",
                                  lead=program)
            clips.append(Clip(f"{genre}_{seed}_none_lead{program}", "song none, other lead", False,
                              _mono(folder / "mix.flac")))
    return clips


def corpus_clips(name: str) -> list[Clip]:
    """Instrumental corpus renders through bench/caption.py's own loader and render cache."""
    from tools.config import settings

    spec = importlib.util.spec_from_file_location("bench_caption", ROOT / "bench" / "caption.py")
    caption = importlib.util.module_from_spec(spec)
    sys.modules["bench_caption"] = caption  # its dataclasses look their module up while being defined
    spec.loader.exec_module(caption)
    cache = settings().cache_dir / "bench_caption"
    (cache / "songs").mkdir(parents=True, exist_ok=True)
    pieces = caption.load_pieces(CORPUS_SETS[name], 30.0, cache / "songs")
    clips = [Clip(p.ident, "corpus", False, caption.render(p, cache)) for p in pieces]
    for index, piece in enumerate(pieces[:CHOIR_PIECES]):
        program = CHOIR_PROGRAMS[index % len(CHOIR_PROGRAMS)]
        clips.append(Clip(f"{piece.ident} program {program}", "corpus choir/voice GM", False,
                          _render_as(piece.song, program, cache.parent / "bench_vocals" / "choir")))
    return clips


def _render_as(song, program: int, cache: Path) -> np.ndarray:
    """Every part of ``song`` played by one GM program (mono at RATE), cached on disk."""
    import soundfile

    from tools.music.synth import render_song_audio

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (song.title.replace("/", "_").replace("#", "_") + f"_{program}_{song.tempo_bpm:.0f}.flac")
    if not path.exists():
        tracks = [t.model_copy(update={"program": program}) for t in song.tracks]
        melody = song.melody.model_copy(update={"program": program})
        voiced = song.model_copy(update={"tracks": tracks, "melody": melody})
        audio = render_song_audio(voiced, sample_rate=RATE)
        y = audio.mean(axis=1) if audio.ndim == 2 else audio
        soundfile.write(str(path), (y / max(1e-6, float(np.abs(y).max())) * 0.8).astype(np.float32), RATE)
    return soundfile.read(str(path), dtype="float32")[0]


def load_set(name: str, cache: Path) -> list[Clip]:
    return song_clips(name, cache) + corpus_clips(name)


def window_labels(clip: Clip, count: int) -> np.ndarray:
    """Per analysis window: 1 where the voice is within 20 dB of the mix, 0 where it is 34 dB or more
    below (or absent), NaN in between (left out of the fit)."""
    from tools.music.analysis.vocals import HOP, N_FFT

    if clip.voice is None:
        return np.zeros(count)
    frames = 1 + (len(clip.audio) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    width = int(round(RATE / HOP))
    hop = width // 2
    ratio = []
    for k in range(count):
        rows = index[k * hop:k * hop + width]
        voice = float(np.mean(clip.voice[rows] ** 2))
        mix = float(np.mean(clip.audio[rows] ** 2)) + 1e-12
        ratio.append(voice / mix)
    ratio = np.array(ratio)
    return np.where(ratio >= 0.01, 1.0, np.where(ratio < 0.0004, 0.0, np.nan))


def featurize(clips: list[Clip]) -> tuple[list[str], list[np.ndarray], float, float]:
    """Window feature matrices per clip, and CPU seconds and audio minutes spent (for the speed column)."""
    from tools.music.analysis.vocals import window_features

    matrices, cpu, minutes, names = [], 0.0, 0.0, []
    for clip in clips:
        start = time.process_time()
        names, matrix, _ = window_features(clip.audio, RATE)
        cpu += time.process_time() - start
        matrices.append(matrix)
        minutes += len(clip.audio) / RATE / 60
    return names, matrices, cpu, minutes


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (IRLS) on standardised features."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -40, 40)))
        grad = design.T @ (p - y) + penalty @ w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (probability a positive outscores a negative; ties count half)."""
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def report(name: str, clips: list[Clip], p: np.ndarray, threshold: float, cpu: float, minutes: float,
           verbose: bool) -> None:
    labels = np.array([c.vocals for c in clips])
    said = p >= threshold
    fitted = " (the fit's own clips: see --cv for an honest figure)" if name == "tuning" else ""
    print(f"\n{name}{fitted}: {len(clips)} clips, accuracy {np.mean(said == labels):.3f}, AUC {auc(p, labels):.3f}, "
          f"{cpu / max(minutes, 1e-9):.2f} s CPU per minute of audio")
    core = np.array(["(stress)" not in c.group for c in clips])
    if not core.all():
        print(f"  without the stress row: accuracy {np.mean(said[core] == labels[core]):.3f}, "
              f"AUC {auc(p[core], labels[core]):.3f}")
    for group in sorted({c.group for c in clips}):
        mask = np.array([c.group == group for c in clips])
        wrong = int((said[mask] != labels[mask]).sum())
        kind = "missed" if labels[mask][0] else "false positives"
        print(f"  {group:<20} {mask.sum():>3} clips  {kind} {wrong}/{mask.sum()} ({wrong / mask.sum():.0%})")
    if verbose:
        for clip, prob in zip(clips, p):
            flag = "" if (prob >= threshold) == clip.vocals else "  <-- wrong"
            print(f"    {clip.name:<44} {clip.group:<18} p={prob:.3f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-only", action="store_true", help="render and cache the data, then stop")
    parser.add_argument("--fit", action="store_true", help="refit on TUNING and write vocals.json")
    parser.add_argument("--l2", type=float, default=1.0, help="ridge penalty of the fit (standardised features)")
    parser.add_argument("--top-share", type=float, default=0.25, help="share of most vocal windows a clip's "
                                                                          "score averages")
    parser.add_argument("--cv", action="store_true", help="cross-validate l2 and top_share on TUNING (whole presets "
                                                           "and collections held out)")
    parser.add_argument("--quadratic", action="store_true", help="also weigh each feature's square")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    prepare_environment()
    from tools.config import settings
    from tools.music.analysis import vocals

    cache = settings().cache_dir / "bench_vocals"
    cache.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name in ("tuning", "heldout"):
        start = time.perf_counter()
        sets[name] = load_set(name, cache)
        print(f"{name}: {len(sets[name])} clips ready in {time.perf_counter() - start:.0f} s", flush=True)
    if args.build_only:
        return
    features = {name: featurize(clips) for name, clips in sets.items()}
    names = features["tuning"][0]
    if args.cv:
        _, matrices, _, _ = features["tuning"]
        for l2 in (1.0, 100.0) if not args.verbose else (args.l2,):
            for top_share in (0.25, 0.4) if not args.verbose else (args.top_share,):
                accuracy, area = cross_validate(sets["tuning"], matrices, names, l2=l2, top_share=top_share,
                                                quadratic=args.quadratic,
                                                verbose=args.verbose)
                print(f"cross-validated tuning accuracy, l2 {l2:g}, top_share {top_share}: {accuracy:.3f} "
                      f"(AUC {area:.3f})", flush=True)
        return  # choosing is done on TUNING alone: HELD-OUT is not scored in the same run
    if args.fit:
        model = fit_model(sets["tuning"], features["tuning"][1], names, l2=args.l2, top_share=args.top_share,
                          quadratic=args.quadratic)
        vocals.WEIGHTS_PATH.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        vocals.load_model.cache_clear()
        print(f"wrote {vocals.WEIGHTS_PATH.relative_to(ROOT)} ({model['fitted_on']['windows']} windows, "
              f"threshold {model['threshold']})")
    model = vocals.load_model()
    if args.verbose:
        print("\nweights (standardised):", {n: w for n, w in zip(model["features"], model["weights"])})
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, clips in sets.items():
        _, matrices, cpu, minutes = features[name]
        p = np.array([vocals.clip_score(vocals.window_probabilities(m, model), model) for m in matrices])
        report(name, clips, p, model["threshold"], cpu, minutes, args.verbose)


def fit_model(clips: list[Clip], matrices: list[np.ndarray], names: list[str], *, l2: float,
              top_share: float, quadratic: bool) -> dict:
    """Fit window weights on labelled windows, then the clip threshold on the same clips."""
    from tools.music.analysis import vocals

    labels = [window_labels(c, len(m)) for c, m in zip(clips, matrices)]
    x, y = np.vstack(matrices), np.concatenate(labels)
    x, y = x[~np.isnan(y)], y[~np.isnan(y)]
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-12
    weights, bias = fit_logistic(vocals.expand((x - mean) / scale, {"quadratic": quadratic}), y, l2=l2)
    model = {"_about": "Vocal-presence model fitted by bench/vocals.py --fit on its TUNING set (Tunesmith "
                       "songs sung/none, quieter-voice remixes, instrumental corpus renders). Per ~1 s window: "
                       "z = (feature - mean) / scale, p = 1 / (1 + exp(-(weights . z + bias))); the clip's "
                       "score is the mean p of its top_share most vocal windows; a voice is present when the "
                       "score reaches threshold.",
             "features": names, "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
             "weights": weights.round(4).tolist(), "bias": round(bias, 4), "top_share": top_share,
             "threshold": 0.5, "l2": l2, "quadratic": quadratic,
             "fitted_on": {"windows": int(len(y)), "vocal_windows": int(y.sum()), "clips": len(matrices)}}
    scores = np.array([vocals.clip_score(vocals.window_probabilities(m, model), model) for m in matrices])
    model["threshold"] = best_threshold(scores, np.array([c.vocals for c in clips]))
    return model


def group_of(clip: Clip) -> str:
    """The preset (songs) or collection (corpus) a clip belongs to: cross-validation folds never split one."""
    if clip.group.startswith("corpus"):
        return clip.name.split("/")[0]
    return re.match(r"(.+?)_\d+_", clip.name).group(1)  # "reggae_5_none_lead79" -> "reggae"


def cross_validate(clips: list[Clip], matrices: list[np.ndarray], names: list[str], *, l2: float,
                   top_share: float, quadratic: bool, folds: int = 4, verbose: bool = False) -> tuple[float, float]:
    """Accuracy and AUC on TUNING with whole presets and collections held out in turn (for choosing
    features, l2 and top_share without looking at HELD-OUT)."""
    from tools.music.analysis import vocals

    groups = sorted({group_of(c) for c in clips})
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    right, scores = 0, np.zeros(len(clips))
    for fold in range(folds):
        test = [fold_of[group_of(c)] == fold for c in clips]
        model = fit_model([c for c, t in zip(clips, test) if not t], [m for m, t in zip(matrices, test) if not t],
                          names, l2=l2, top_share=top_share, quadratic=quadratic)
        for index, (clip, matrix, t) in enumerate(zip(clips, matrices, test)):
            if t:
                scores[index] = vocals.clip_score(vocals.window_probabilities(matrix, model), model)
                right += int((scores[index] >= model["threshold"]) == clip.vocals)
                if verbose and (scores[index] >= model["threshold"]) != clip.vocals:
                    print(f"    cv wrong: {clip.name:<44} {clip.group:<22} score {scores[index]:.3f} "
                          f"threshold {model['threshold']}")
    return right / len(clips), auc(scores, np.array([c.vocals for c in clips]))


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The clip threshold with the best balanced accuracy on the fit set (midpoint of the best run)."""
    candidates = np.round(np.arange(0.05, 0.96, 0.01), 2)
    def balanced(t: float) -> float:
        said = scores >= t
        return 0.5 * (np.mean(said[truth]) + np.mean(~said[~truth]))
    values = np.array([balanced(t) for t in candidates])
    best = candidates[values >= values.max() - 1e-9]
    return float(np.round(np.median(best), 2))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
