"""Key estimation from audio (chroma) and from notes (duration-weighted pitch classes).

Why this shape: on FluidSynth renders of corpus pieces the key *profile* mattered more than the
chroma (FACTS.md: Krumhansl–Kessler 11/20, Temperley 18/20, Albrecht–Shanahan 17/20), and
Temperley's minor profile punishes pop's flat seventh where Albrecht–Shanahan does not. So both
profiles vote: the score of a key is the mean of its correlations under the two profiles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.theory import parse_key, pc_name

DEFAULT_PROFILES = ("temperley", "albrecht_shanahan")


class _NoteLike(Protocol):
    pitch: int
    duration: float


@dataclass(frozen=True)
class KeyEstimate:
    """A key ("A minor", canonical spelling) and a confidence in 0..1.

    ``confidence`` is the margin of the best key's score over the runner-up that is not the same
    key, mapped to 0..1; ``candidates`` lists the top keys with their scores. Unpacks as
    ``key, confidence`` so callers can write ``key, conf = estimate_key_from_audio(y, sr)``.
    """

    key: str
    confidence: float
    score: float = 0.0
    candidates: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator:
        return iter((self.key, self.confidence))

    def __str__(self) -> str:
        return self.key


@lru_cache(maxsize=1)
def load_profiles() -> dict[str, dict[str, np.ndarray]]:
    """The key profiles shipped in profiles.json, as arrays."""
    raw = json.loads((Path(__file__).with_name("profiles.json")).read_text())
    return {name: {mode: np.asarray(v, dtype=float) for mode, v in modes.items()}
            for name, modes in raw.items() if not name.startswith("_")}


def key_scores(pc_weights: np.ndarray, profiles: Iterable[str] = DEFAULT_PROFILES) -> dict[str, float]:
    """Mean Pearson correlation of a 12-bin pitch-class profile with every key's template."""
    weights = np.asarray(pc_weights, dtype=float)
    if weights.shape != (12,) or not np.all(np.isfinite(weights)) or weights.sum() <= 0 or np.ptp(weights) == 0:
        raise TunesmithError("There is no pitch content to find a key in")
    table = load_profiles()
    names = list(profiles)
    for name in names:
        if name not in table:
            raise TunesmithError(f"Unknown key profile {name!r}; known: {', '.join(sorted(table))}")
    scores: dict[str, float] = {}
    for tonic in range(12):
        for mode in ("major", "minor"):
            r = [np.corrcoef(weights, np.roll(table[name][mode], tonic))[0, 1] for name in names]
            scores[str(parse_key(f"{pc_name(tonic)} {mode}"))] = float(np.mean(r))
    return scores


def key_from_profile(pc_weights: np.ndarray, profiles: Iterable[str] = DEFAULT_PROFILES) -> KeyEstimate:
    """The best key for a pitch-class profile, with a margin-based confidence."""
    scores = key_scores(pc_weights, profiles)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    # a margin of 0.15 correlation between first and second is already a clear decision
    confidence = float(np.clip((top - second) / 0.15, 0.0, 1.0) * np.clip(top, 0.0, 1.0))
    return KeyEstimate(key=best, confidence=round(confidence, 3), score=round(top, 4),
                       candidates=tuple((k, round(s, 4)) for k, s in ranked[:5]))


def pitch_class_histogram(notes: Iterable[_NoteLike]) -> np.ndarray:
    """Duration-weighted pitch classes (drum notes must be filtered out by the caller)."""
    hist = np.zeros(12)
    for note in notes:
        hist[int(note.pitch) % 12] += max(float(note.duration), 0.0)
    return hist


def estimate_key_from_notes(notes: Iterable[_NoteLike], *, profiles: Iterable[str] = DEFAULT_PROFILES) -> KeyEstimate:
    """Key of a set of pitched notes (anything with ``pitch`` and ``duration``).

    Raises:
        TunesmithError: no notes.
    """
    hist = pitch_class_histogram(notes)
    if hist.sum() <= 0:
        raise TunesmithError("There are no pitched notes to find a key in")
    return key_from_profile(hist, profiles)


def chroma_profile(y: np.ndarray, sr: int) -> np.ndarray:
    """Summed CQT chroma of checked mono audio at ``sr`` (frames weighted by their energy)."""
    import librosa

    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=2048, tuning=0.0, norm=None)
    return chroma.sum(axis=1)


def estimate_key_from_audio(y: np.ndarray, sr: int, *, profiles: Iterable[str] = DEFAULT_PROFILES) -> KeyEstimate:
    """Key of an audio signal (mono or frames × channels, any rate) from its CQT chroma.

    Raises:
        TunesmithError: silent, too short or malformed audio.
    """
    from tools.music.analysis.signal import ANALYSIS_RATE, to_mono

    mono = to_mono(y, sr)
    return key_from_profile(chroma_profile(mono, ANALYSIS_RATE), profiles)
