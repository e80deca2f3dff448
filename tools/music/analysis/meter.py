"""Meter from audio: which bar length makes the onset pattern repeat, and how the beat divides.

A bar of n quarter notes shows as autocorrelation of the onset envelope at n beats; 6/8 differs
from 3/4 (both three quarters long) by grouping its eighths in threes, which shows as stronger
periodicity at a dotted quarter than at a quarter. Rendered scores carry no accents, so this is
an honest estimate with a confidence, not a certainty; 2/2 and 4/4 sound alike and read as 4/4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP = 512


@dataclass(frozen=True)
class MeterEstimate:
    meter: str
    confidence: float


def estimate_meter(y: np.ndarray, sr: int, *, bpm: float) -> MeterEstimate:
    """Meter of audio at a known quarter-note tempo ("4/4", "3/4", "2/4" or "6/8")."""
    import librosa

    from tools.music.analysis.signal import ANALYSIS_RATE, to_mono
    from tools.music.analysis.tempo import _acf, _at

    mono = to_mono(y, sr, min_seconds=2.0)
    onset = librosa.onset.onset_strength(y=mono, sr=ANALYSIS_RATE, hop_length=HOP)
    fps = ANALYSIS_RATE / HOP
    beat = 60.0 * fps / bpm
    acf = _acf(onset, int(beat * 9) + 4)
    # chroma changes also mark bars: harmony tends to change on the downbeat
    chroma = librosa.feature.chroma_cqt(y=mono, sr=ANALYSIS_RATE, hop_length=HOP)
    flux = np.concatenate([[0.0], np.maximum(0, np.diff(chroma, axis=1)).sum(axis=0)])
    acf_h = _acf(flux, int(beat * 9) + 4)
    score = {n: _at(acf, beat * n) + _at(acf, beat * 2 * n) * 0.5 + _at(acf_h, beat * n) + 0.5 * _at(acf_h, beat * 2 * n)
             for n in (2, 3, 4)}
    score[4] *= 1.08  # common time is the commonest: it wins near-ties
    bar = max(score, key=score.get)
    ranked = sorted(score.values(), reverse=True)
    confidence = float(np.clip((ranked[0] - ranked[1]) / (abs(ranked[0]) + 1e-9) * 3, 0.05, 1.0))
    if bar == 3 and _at(acf, beat * 1.5) > _at(acf, beat) * 1.1:
        return MeterEstimate("6/8", round(confidence * 0.8, 2))
    return MeterEstimate({2: "2/4", 3: "3/4", 4: "4/4"}[bar], round(confidence, 2))
