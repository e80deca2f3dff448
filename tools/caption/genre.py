"""Genre from a score's rhythm, instruments and harmony: a multinomial logistic model.

Why learned: the rule table it replaces named "pop / rock" for every song with a drum kit at 90 BPM
or more (a bossa nova, a reggae and a jazz song alike), because rules over tempo and texture cannot
see a clave, an off-beat skank or a swung hi-hat. The features here can:

* where attacks fall inside the beat (on it, on the sixteenths, on the swung or straight off-beat
  eighth), for pitched parts and for the kit separately;
* the kit's parts: kick, snare, hats, cymbals, toms, hand percussion per beat, how much of the
  kick lands on the beat and how much of the snare on the backbeat (beats 2 and 4);
* instrument families (the share of notes per General MIDI family), whether the melody is sung,
  chord size, register and velocity;
* tempo, triple or compound meter, and the mode.

The classes are Tunesmith's 23 style presets plus four corpus classes (chorale, folk tune,
madrigal, classical) from the music21 corpus. ``fit_genre.py`` fits the model on composed songs
and corpus pieces and writes ``genre.json`` (feature means and scales, weights, held-out accuracy;
the words a caption uses for each class are in words.json);
only numpy is needed to use it. It has heard Tunesmith's own arrangements and corpus scores only:
a real record's genre is a guess from its rhythm and instruments, and its confidence says so.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.music.song import Song

MODEL_PATH = Path(__file__).with_name("genre.json")
# positions inside the beat (in beats) an attack is snapped to; "other" is anything else
BEAT_POSITIONS = (0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75)
SNAP = 0.04  # beats: tolerance for an attack to count at a position (humanised timing stays inside)
KIT_PARTS = {  # General MIDI percussion keys by part
    "kick": (35, 36),
    "snare": (37, 38, 39, 40),
    "hats": (42, 44, 46),
    "cymbals": (49, 51, 52, 53, 55, 57, 59),
    "toms": (41, 43, 45, 47, 48, 50),
}
FAMILIES = 16  # General MIDI program // 8


def _positions(starts: np.ndarray) -> np.ndarray:
    """Share of attacks at each BEAT_POSITIONS slot of the beat, plus the share elsewhere."""
    if starts.size == 0:
        return np.zeros(len(BEAT_POSITIONS) + 1)
    phase = np.mod(starts, 1.0)
    out = np.zeros(len(BEAT_POSITIONS) + 1)
    for value in phase:
        distance = [min(abs(value - p), abs(value - p - 1.0)) for p in BEAT_POSITIONS]
        slot = int(np.argmin(distance))
        out[slot if distance[slot] <= SNAP else -1] += 1
    return out / starts.size


def _distinct(starts: list[float]) -> np.ndarray:
    starts_sorted = np.sort(np.asarray(starts, dtype=float))
    if starts_sorted.size == 0:
        return starts_sorted
    keep = np.concatenate(([True], np.diff(starts_sorted) > 0.02))
    return starts_sorted[keep]


def _kit_features(song: Song, beats: float) -> list[float]:
    kit = [n for t in song.all_tracks() if t.is_drum for n in t.notes]
    if not kit:
        return [0.0] * (1 + (len(KIT_PARTS) + 1) + 5 + (len(BEAT_POSITIONS) + 1))
    by_part = {name: np.array([n.start for n in kit if n.pitch in keys]) for name, keys in KIT_PARTS.items()}
    known = {p for keys in KIT_PARTS.values() for p in keys}
    percussion = np.array([n.start for n in kit if n.pitch not in known])
    rates = [len(v) / beats for v in by_part.values()] + [len(percussion) / beats]
    kick, snare, hats = by_part["kick"], by_part["snare"], by_part["hats"]
    bar = song.beats_per_bar

    def share(starts: np.ndarray, test) -> float:
        return float(np.mean([test(s) for s in starts])) if starts.size else 0.0

    on_beat = lambda s: min(s % 1.0, 1.0 - s % 1.0) <= SNAP  # noqa: E731
    backbeat = lambda s: on_beat(s) and int(round(s % bar)) % 2 == 1  # noqa: E731  (beats 2 and 4)
    off_eighth = lambda s: abs(s % 1.0 - 0.5) <= SNAP  # noqa: E731
    return [1.0, *rates, share(kick, on_beat), share(kick, off_eighth), share(snare, backbeat),
            share(hats, on_beat), share(hats, off_eighth), *_positions(_distinct([n.start for n in kit]))]


def symbolic_features(song: Song, *, minor: bool) -> np.ndarray:
    """The feature vector of a Song (beats are quarter notes; ``minor``: the estimated key's mode)."""
    from tools.music.theory import parse_meter

    pitched_tracks = [t for t in song.all_tracks() if not t.is_drum and t.notes]
    notes = [n for t in pitched_tracks for n in t.notes]
    end = max((n.start + n.duration for t in song.all_tracks() for n in t.notes), default=1.0)
    beats = max(end, 1.0)
    numerator, denominator = parse_meter(song.meter)
    onsets = _distinct([n.start for n in notes])
    families = np.zeros(FAMILIES)
    for track in pitched_tracks:
        families[min(track.program // 8, FAMILIES - 1)] += len(track.notes)
    families /= max(families.sum(), 1.0)
    sung = float(any(n.syllable for n in song.melody.notes))
    lowest = min(pitched_tracks, key=lambda t: np.mean([n.pitch for n in t.notes]), default=None)
    bass_onsets = np.array([n.start for n in lowest.notes]) if lowest is not None else np.array([])
    velocities = np.array([n.velocity for n in notes], dtype=float) if notes else np.array([90.0])
    pitches = np.array([n.pitch for n in notes], dtype=float) if notes else np.array([60.0])
    features = [
        np.log2(max(song.tempo_bpm, 30.0) / 100.0),
        float(round(song.beats_per_bar * 2) % 3 == 0),  # triple grouping (3/4, 6/8, 9/8 …)
        float(denominator == 8 and numerator % 3 == 0),  # compound
        float(minor),
        len(onsets) / beats,
        len(notes) / max(len(onsets), 1),  # notes per attack: chords
        len(pitched_tracks),
        sung,
        (np.mean([n.pitch for n in lowest.notes]) - 48.0) / 12.0 if lowest is not None else 0.0,
        (np.percentile(pitches, 95) - np.percentile(pitches, 5)) / 12.0,
        velocities.mean() / 127.0,
        velocities.std() / 127.0,
        float(np.mean(np.abs(np.mod(bass_onsets, 1.0)) > SNAP)) if bass_onsets.size else 0.0,
        *_positions(onsets),
        *families,
        *_kit_features(song, beats),
    ]
    return np.asarray(features, dtype=float)


@lru_cache(maxsize=2)  # the score model and the audio model
def load_model(path: Path = MODEL_PATH) -> dict:
    model = json.loads(path.read_text(encoding="utf-8"))
    for name in ("mean", "scale", "weights", "bias"):
        model[name] = np.asarray(model[name], dtype=float)
    return model


def genre_probabilities(features: np.ndarray, model: dict | None = None) -> dict[str, float]:
    """Class → probability under the fitted model (softmax of a linear score)."""
    model = model or load_model()
    z = (np.asarray(features, dtype=float) - model["mean"]) / model["scale"]
    logits = model["weights"] @ z + model["bias"]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return {name: float(v) for name, v in zip(model["classes"], p)}


def _attribute(probabilities: dict[str, float]) -> dict:
    """The attribute a caption reports: the likeliest genre in words.json's words, its probability,
    and the runners-up."""
    from tools.caption.describe import words

    names = words()["genre_names"]
    ranked = sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)
    name, p = ranked[0]
    return {"name": names.get(name, name), "style": name, "confidence": round(p, 2),
            "candidates": [[names.get(n, n), round(q, 2)] for n, q in ranked[:3]]}


def guess_genre(song: Song, *, minor: bool) -> dict:
    """The score model's guess for a Song."""
    return _attribute(genre_probabilities(symbolic_features(song, minor=minor)))


# Audio has neither programs nor a kit track, so its model (genre_audio.json, `fit_genre --audio`)
# reads the timbre model's outputs and the beat folded per band (rhythm_pattern.py) instead.
# Each clip is fitted at the tempo found and at its half and double, so the estimator's octave does
# not decide the genre (fitted on one octave only, a bossa nova read as pop once the tempo estimator
# changed). Test accuracy on unseen seeds rendered with FluidR3_GM and held-out corpus pieces 0.958,
# at half or double tempo 1.000, the same songs rendered with TimGM6mb (never heard in the fit) 0.848.
AUDIO_MODEL_PATH = Path(__file__).with_name("genre_audio.json")


def audio_features(*, bpm: float, meter: str, minor: bool, onsets_per_s: float,
                   timbre_probabilities: tuple[float, ...], pattern: np.ndarray) -> np.ndarray:
    """The audio model's vector: tempo, meter, mode, attack rate, the timbre model's mean output
    per family and for the kit, and the folded band patterns (rhythm_pattern.py)."""
    from tools.music.theory import bar_beats, parse_meter

    numerator, denominator = parse_meter(meter)
    return np.asarray([np.log2(max(bpm, 30.0) / 100.0), float(round(bar_beats(meter) * 2) % 3 == 0),
                       float(denominator == 8 and numerator % 3 == 0), float(minor), np.log1p(onsets_per_s),
                       *timbre_probabilities, *pattern], dtype=float)


def guess_genre_from_audio(features: np.ndarray) -> dict:
    """The audio model's guess for `audio_features`."""
    return {**_attribute(genre_probabilities(features, load_model(AUDIO_MODEL_PATH))), "method": "audio model"}
