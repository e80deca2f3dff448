"""Loudness (ITU-R BS.1770 / EBU R128): integrated LUFS, true peak and dynamic range.

The measures are the mixer's (`tools.music.mix`: float32 K-weighting by second-order sections,
block sums, true peak interpolated only around the loudest samples), so what a caption reports is
what mastering aimed at, and one implementation is kept, not two: the pyloudnorm-based ones here
took 7 of the 18 s of a 3-minute audio caption (true peak by full 4x resampling 4.9 s). Loudness
range (LRA: the spread of 3-second short-term loudness) and the peak-to-loudness ratio are
computed on the same K-weighted power, because a caption needs all three at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.music.analysis.signal import check_audio
from tools.music.mix import block_power, integrated_loudness, k_weighted_power, true_peak


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS), true peak (dBFS), loudness range (LU) and PLR (dB)."""

    integrated_lufs: float
    true_peak_dbfs: float
    loudness_range_lu: float
    peak_to_loudness_db: float


def _channels(y: np.ndarray, sr: int) -> np.ndarray:
    y = check_audio(y, sr, min_seconds=0.4)
    return (y[:, None] if y.ndim == 1 else y).astype(np.float32)


def integrated_lufs(y: np.ndarray, sr: int) -> float:
    """Integrated, gated loudness in LUFS (−70 LUFS floor for near-silence)."""
    value = integrated_loudness(_channels(y, sr), int(sr))
    return round(float(max(value, -70.0)), 2) if np.isfinite(value) else -70.0


def true_peak_dbfs(y: np.ndarray, sr: int) -> float:
    """True peak in dBFS: the peak after 4× interpolation (BS.1770 annex 2)."""
    peak = true_peak(_channels(y, sr))
    return round(float(20 * np.log10(max(peak, 1e-9))), 2)


def loudness_range(y: np.ndarray, sr: int) -> float:
    """EBU Tech 3342 loudness range in LU: 10th–95th percentile of gated 3 s short-term loudness."""
    power = k_weighted_power(_channels(y, sr), int(sr))  # channel gains are 1 for L and R
    window, hop = int(3 * sr), int(sr / 10)
    if len(power) < window:
        window = len(power)
    ms = block_power(power, window, hop)
    st = -0.691 + 10 * np.log10(np.maximum(ms, 1e-12))
    st = st[st > -70.0]
    if st.size == 0:
        return 0.0
    rel = -0.691 + 10 * np.log10(np.mean(10 ** ((st + 0.691) / 10))) - 20.0
    st = st[st > rel]
    if st.size < 2:
        return 0.0
    return round(float(np.percentile(st, 95) - np.percentile(st, 10)), 2)


def measure_loudness(y: np.ndarray, sr: int) -> Loudness:
    """All loudness figures of a signal at once."""
    lufs = integrated_lufs(y, sr)
    peak = true_peak_dbfs(y, sr)
    return Loudness(integrated_lufs=lufs, true_peak_dbfs=peak, loudness_range_lu=loudness_range(y, sr),
                    peak_to_loudness_db=round(peak - lufs, 2))


dynamic_range = loudness_range  # the name the brief uses: dynamic range as EBU loudness range
