"""Fit the instrument-family / drum-kit model of timbre.py and write timbre.json.

    .venv/bin/python -m tools.music.analysis.fit_timbre [--cache DIR]

Data (made here, labelled by construction): Tunesmith arrangements (``compose_song``, vocals none so
the melody is played by an instrument) of the TUNING styles and seeds, each rendered four ways with
FluidR3_GM, every track as its own stem: the style's own programs; every pitched track moved to a
random program of a random General MIDI family (the bass track mostly to the bass family); two
random pitched tracks (the drum kit half the time); one pitched track alone. Stems are mixed at
random gains (−8..+2 dB), and a window's label says which families' stems reach −15 dB of the mix
there. ``bench/instruments.py`` scores the written model on HELD-OUT styles and seeds, rendered
with FluidR3 and with a second SoundFont (TimGM6mb) that the fit never heard.

The network (one hidden layer, sigmoid outputs) is fitted by scikit-learn on 80 % of the tuning
songs; each output's threshold maximises its window F1 on the other 20 %. Only numpy is needed
to use it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FAMILIES = ["piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble / choir", "brass",
            "reed", "pipe / flute", "synth lead", "synth pad"]  # GM families 0–11 (program // 8)
OUTPUTS = FAMILIES + ["drum kit"]
TUNING_PRESETS = ["pop", "rock", "folk", "ballad", "country", "synthpop", "jazz", "funk", "edm", "lo-fi",
                  "reggae", "gospel"]
HELDOUT_PRESETS = ["blues", "bossa nova", "chinese folk", "cinematic", "city pop", "hip-hop", "lullaby", "punk",
                   "sea shanty", "ska", "waltz"]
SETS = {"tuning": (TUNING_PRESETS, (1, 2, 3, 4, 5, 6)), "heldout": (HELDOUT_PRESETS, (11, 12))}
RE_ORCHESTRATIONS = 4  # random re-orchestrations of each arrangement (full band, duo, solo each)
PRESENT_DB = -15.0  # a stem this close to the mix's level in a window is heard there
MIN_SHARE = 0.2  # a family present in this share of a clip's windows is present in the clip (truth)
REPORT_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # candidate shares of heard windows to report a family
REPORT_CONFIDENCES = (0.3, 0.4, 0.5, 0.6)  # candidate least mean probabilities to report a family (below 0.3 a claim is a guess)
REPORT_BETA = 0.5  # F-beta of the report shares: precision counts double
RATE = 22050
SETTINGS = [(48, 0.1, 0, 1), (48, 1.0, 0, 1), (48, 0.1, 0, 4), (48, 1.0, 0, 4)]  # (hidden, L2 alpha, tilted copies, members)
DEFAULT_CACHE = Path(__file__).resolve().parents[3] / "bench" / "out" / "timbre"


@dataclass
class Clip:
    """One rendered mixture: its window features and window labels (windows, outputs)."""

    name: str
    features: np.ndarray
    labels: np.ndarray


def _arrangement(preset: str, seed: int):
    from tools.song import SongArgs, compose_song, make_blueprint

    args = SongArgs(prompt="a song about the sea and the road home", genre=preset, seed=seed, vocals="none",
                    duration_s=20)
    return compose_song(make_blueprint(args), seed=seed)


def _random_program(rng: random.Random, *, bass_role: bool) -> int:
    family = 4 if bass_role and rng.random() < 0.6 else rng.randrange(len(FAMILIES))
    return family * 8 + rng.randrange(8)


def _variants(song, rng: random.Random) -> dict[str, list[tuple[object, int]]]:
    """Per variant, the (track, program) pairs that sound: the style's own programs, then
    RE_ORCHESTRATIONS each of full band (drum kit 70 % of the time), duo (kit half the time) and solo,
    every pitched track on a random program of a random family (the bass track mostly on bass)."""
    pitched = [t for t in song.tracks if not t.is_drum and t.notes] + ([song.melody] if song.melody.notes else [])
    drums = [(t, 0) for t in song.tracks if t.is_drum and t.notes]
    out = {"original": [(t, t.program) for t in pitched] + drums}
    for i in range(RE_ORCHESTRATIONS):
        moved = [(t, _random_program(rng, bass_role=t.name == "Bass")) for t in pitched]
        out[f"full{i}"] = moved + (drums if rng.random() < 0.7 else [])
        out[f"duo{i}"] = rng.sample(moved, min(2, len(moved))) + (drums if rng.random() < 0.5 else [])
        out[f"solo{i}"] = [rng.choice(moved)]
    return out


def _window_labels(stems: list[tuple[int, np.ndarray]], mix: np.ndarray, windows: int) -> np.ndarray:
    """(windows, outputs) 0/1: which outputs' summed stems reach PRESENT_DB of the mix per window."""
    from tools.music.analysis.timbre import HOP, N_FFT, WINDOW_FRAMES, WINDOW_HOP

    labels = np.zeros((windows, len(OUTPUTS)), dtype=np.float32)
    by_output: dict[int, np.ndarray] = {}
    for output, audio in stems:
        by_output[output] = by_output.get(output, 0) + audio
    span = (WINDOW_FRAMES - 1) * HOP + N_FFT
    for w in range(windows):
        a = w * WINDOW_HOP * HOP
        mix_energy = float(np.sum(mix[a:a + span] ** 2)) + 1e-12
        for output, audio in by_output.items():
            if np.sum(audio[a:a + span] ** 2) >= mix_energy * 10 ** (PRESENT_DB / 10):
                labels[w, output] = 1.0
    return labels


def render_set(name: str, soundfont: Path | None, cache: Path = DEFAULT_CACHE) -> list[Clip]:
    """Every clip of a set (TUNING or HELD-OUT) with ``soundfont``; features cached in ``cache``."""
    from tools.music.analysis.timbre import window_features
    from tools.music.synth import TAIL_SECONDS, get_renderer
    from tools.music.errors import TunesmithError

    tag = "fluidr3" if soundfont is None else Path(soundfont).stem.lower()
    path = cache / f"{name}_{tag}.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        names = list(data["names"])
        return [Clip(n, data[f"x{i}"], data[f"y{i}"]) for i, n in enumerate(names)]
    renderer = get_renderer(soundfont, RATE)
    if renderer is None:
        raise TunesmithError("libfluidsynth or the SoundFont is missing: the timbre data cannot be rendered")
    presets, seeds = SETS[name]
    clips = []
    for preset in presets:
        for seed in seeds:
            song = _arrangement(preset, seed)
            rng = random.Random(f"{preset}-{seed}")
            total = int((song.duration_seconds + TAIL_SECONDS) * RATE)
            for variant, parts in _variants(song, rng).items():
                stems = []
                for track, program in parts:
                    audio = renderer.render(track.notes, program=program, is_drum=track.is_drum,
                                            seconds_per_beat=song.seconds_per_beat, total_samples=total).mean(axis=1)
                    gain = 10 ** (rng.uniform(-8.0, 2.0) / 20)
                    stems.append((len(FAMILIES) if track.is_drum else program // 8, audio * gain))
                stems = [(o, a) for o, a in stems if o < len(OUTPUTS)]
                mix = np.sum([a for _, a in stems], axis=0).astype(np.float32)
                try:
                    features = window_features(mix, RATE)
                except TunesmithError:
                    continue
                clips.append(Clip(f"{preset}_{seed}_{variant}", features, _window_labels(stems, mix, len(features))))
    cache.mkdir(parents=True, exist_ok=True)
    arrays = {f"x{i}": c.features for i, c in enumerate(clips)} | {f"y{i}": c.labels for i, c in enumerate(clips)}
    np.savez_compressed(path, names=np.array([c.name for c in clips]), **arrays)
    return clips


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold maximising F1 of one output's windows (0.5 when the output never occurs)."""
    if y.sum() == 0:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.1, 0.91, 0.05):
        hit = p >= t
        tp = float(np.sum(hit & (y > 0)))
        f1 = 2 * tp / (hit.sum() + y.sum() + 1e-9)
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def _tilted(x: np.ndarray, rng: np.random.Generator, copies: int) -> np.ndarray:
    """Copies of feature rows with the spectral shape tilted (±1.5 dB per octave-ish): SoundFonts
    differ in brightness, and a family should not be learnt as one SoundFont's EQ."""
    from tools.music.analysis.timbre import N_MELS

    ramp = np.linspace(-1.0, 1.0, N_MELS, dtype=np.float32)
    out = []
    for _ in range(copies):
        y = x.copy()
        y[:, :N_MELS] += rng.normal(0.0, 4.0, (len(x), 1)).astype(np.float32) * ramp
        out.append(y)
    return np.concatenate(out)


def _report_shares(clips: list[Clip], predict, thresholds: np.ndarray) -> np.ndarray:
    """Per output, the share of windows heard and the mean probability there above which a clip
    reports it: the pair in REPORT_SHARES x REPORT_CONFIDENCES that maximises clip-level F0.5 (truth: present in at least MIN_SHARE of windows).
    F0.5 weighs precision twice: a caption naming an instrument that is not there misleads more
    than one that leaves a quiet part out."""
    truth = np.array([c.labels.mean(axis=0) >= MIN_SHARE for c in clips])
    shares, confidences = [], []
    for c in clips:
        p = predict(c.features)
        hit = p >= thresholds
        shares.append(hit.mean(axis=0))
        confidences.append(np.where(hit.any(axis=0), (p * hit).sum(axis=0) / np.maximum(hit.sum(axis=0), 1), 0.0))
    shares, confidences = np.array(shares), np.array(confidences)
    best_share, best_conf = np.full(len(OUTPUTS), MIN_SHARE), np.zeros(len(OUTPUTS))
    b2 = REPORT_BETA ** 2
    for j in range(len(OUTPUTS)):
        top = -1.0
        for t in REPORT_SHARES:
            for k in REPORT_CONFIDENCES:
                found = (shares[:, j] >= t) & (confidences[:, j] >= k)
                score = (1 + b2) * np.sum(truth[:, j] & found) / (b2 * truth[:, j].sum() + found.sum() + 1e-9)
                if score > top + 1e-9:
                    top, best_share[j], best_conf[j] = score, t, k
    return best_share, best_conf


def _split(clips: list[Clip], seed: int) -> tuple[list[Clip], list[Clip]]:
    """80 % / 20 % of the songs (all variants of a song on one side)."""
    songs = sorted({c.name.rsplit("_", 1)[0] for c in clips})
    held = set(random.Random(seed).sample(songs, max(1, len(songs) // 5)))
    return [c for c in clips if c.name.rsplit("_", 1)[0] not in held], [c for c in clips if c.name.rsplit("_", 1)[0] in held]


def fit(clips: list[Clip], *, hidden: int = 48, alpha: float = 1e-2, tilt_copies: int = 0, members: int = 1,
        seed: int = 0) -> dict:
    """Fit the network on 80 % of the songs, thresholds on the rest; the model as timbre.json holds it.

    ``members`` networks from different initialisations are fitted and their logits averaged (an
    ensemble stored as one network with ``members`` times the hidden units)."""
    from sklearn.neural_network import MLPClassifier

    train, valid = _split(clips, seed)
    x = np.concatenate([c.features for c in train])
    y = np.concatenate([c.labels for c in train])
    if tilt_copies:
        x = np.concatenate([x, _tilted(x, np.random.default_rng(seed), tilt_copies)])
        y = np.concatenate([y] * (tilt_copies + 1))
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    nets = []
    for k in range(members):
        net = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=300, random_state=seed + k)
        with warnings.catch_warnings():  # not converging to a sharp optimum is fine: alpha regularises
            warnings.simplefilter("ignore")
            net.fit((x - mean) / scale, y)
        nets.append(net)
    # the members' logits averaged: one wider network, the same arithmetic at run time
    w1 = np.hstack([n.coefs_[0] for n in nets])
    b1 = np.concatenate([n.intercepts_[0] for n in nets])
    w2 = np.vstack([n.coefs_[1] for n in nets]) / members
    b2 = np.mean([n.intercepts_[1] for n in nets], axis=0)

    def predict(f: np.ndarray) -> np.ndarray:
        hidden_out = np.maximum(((f - mean) / scale) @ w1 + b1, 0.0)
        return 1.0 / (1.0 + np.exp(-(hidden_out @ w2 + b2)))

    xv = np.concatenate([c.features for c in valid])
    yv = np.concatenate([c.labels for c in valid])
    pv = predict(xv)
    thresholds = [_best_threshold(pv[:, j], yv[:, j]) for j in range(len(OUTPUTS))]
    report, report_conf = _report_shares(valid, predict, np.asarray(thresholds))
    r = lambda a: np.round(np.asarray(a, dtype=np.float64), 5).tolist()  # noqa: E731
    return {"_why": "Instrument-family and drum-kit network of tools/music/analysis/timbre.py; written by "
                    "tools/music/analysis/fit_timbre.py (do not edit by hand).",
            "outputs": OUTPUTS, "min_share": MIN_SHARE, "present_db": PRESENT_DB,
            "trained_on": {"clips": len(train), "windows": int(len(x)), "soundfonts": ["FluidR3_GM", "TimGM6mb"],
                           "styles": TUNING_PRESETS, "seeds": list(SETS["tuning"][1]), "hidden": hidden,
                           "alpha": alpha, "tilt_copies": tilt_copies, "members": members},
            "mean": r(mean), "scale": r(scale), "w1": r(w1), "b1": r(b1), "w2": r(w2), "b2": r(b2), "threshold": r(thresholds),
            "report_share": r(report), "report_confidence": r(report_conf)}


def found_outputs(features: np.ndarray, model: dict) -> np.ndarray:
    """Which outputs timbre.summarise reports for a clip's window features, as booleans."""
    from tools.music.analysis.timbre import predict_windows, summarise

    verdict = summarise(predict_windows(features, model), model)
    names = {f.family for f in verdict.families} | ({"drum kit"} if verdict.drums else set())
    return np.array([o in names for o in model["outputs"]])


def validation_f1(clips: list[Clip], model: dict, seed: int = 0) -> float:
    """Macro clip-level F1 of a model on the tuning songs it was not fitted on (for choosing settings)."""
    _, valid = _split(clips, seed)
    model = dict(model, **{k: np.asarray(model[k], dtype=np.float32) for k in ("mean", "scale", "w1", "b1", "w2",
                                                                             "b2", "threshold", "report_share",
                                                                             "report_confidence")})
    truth = np.array([c.labels.mean(axis=0) >= MIN_SHARE for c in valid])
    found = np.array([found_outputs(c.features, model) for c in valid])
    tp = (truth & found).sum(axis=0)
    return float(np.mean(2 * tp / (truth.sum(axis=0) + found.sum(axis=0) + 1e-9)))


def main() -> None:
    from tools.config import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    started = time.process_time()
    from tools.music.resources import packaged_timgm_soundfont

    clips = render_set("tuning", None, args.cache) + render_set("tuning", packaged_timgm_soundfont(), args.cache)
    best, best_f1 = None, -1.0
    for hidden, alpha, tilt, members in SETTINGS:  # chosen by F1 on tuning songs left out of the fit
        model = fit(clips, hidden=hidden, alpha=alpha, tilt_copies=tilt, members=members)
        f1 = validation_f1(clips, model)
        print(f"hidden {hidden:3d} alpha {alpha:6.3f} tilt copies {tilt} members {members}: validation macro F1 {f1:.3f}")
        if f1 > best_f1:
            best, best_f1 = model, f1
    from tools.music.analysis.timbre import MODEL_PATH

    best["trained_on"]["validation_macro_f1"] = round(best_f1, 3)
    MODEL_PATH.write_text(json.dumps(best, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(clips)} clips, {best['trained_on']['windows']} training windows; wrote {MODEL_PATH} "
          f"({time.process_time() - started:.0f} CPU-s)")


if __name__ == "__main__":
    main()
