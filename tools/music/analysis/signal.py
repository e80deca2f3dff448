"""Input checks and conversions shared by the audio estimators.

Every estimator takes ``y`` as 1-D mono or (frames, channels) float audio; this module turns it
into checked mono at the analysis rate, so each estimator states its maths, not its plumbing.
"""

from __future__ import annotations

from math import gcd

import numpy as np

from tools.music.errors import TunesmithError

ANALYSIS_RATE = 22050
SILENCE_RMS = 1e-4  # about -80 dBFS: below this there is nothing to analyse


def check_audio(y: np.ndarray, sr: int, *, min_seconds: float = 0.5) -> np.ndarray:
    """Validate audio and return it as float32 (frames,) or (frames, channels).

    Raises:
        TunesmithError: wrong type or shape, bad sample rate, too short, non-finite or silent.
    """
    if not isinstance(y, np.ndarray):
        raise TunesmithError(f"Audio must be a numpy array, not {type(y).__name__}")
    if not isinstance(sr, (int, np.integer)) or sr < 4000:
        raise TunesmithError(f"Sample rate {sr!r} is invalid; it should be an integer of at least 4000 Hz")
    if y.ndim == 2 and y.shape[0] < y.shape[1] and y.shape[0] <= 8:
        y = y.T  # (channels, frames) as librosa writes it
    if y.ndim not in (1, 2) or y.size == 0:
        raise TunesmithError(f"Audio of shape {y.shape} is not mono or (frames, channels) audio")
    if not np.issubdtype(y.dtype, np.number):
        raise TunesmithError(f"Audio of dtype {y.dtype} is not numeric")
    y = y.astype(np.float32, copy=False)
    if not np.all(np.isfinite(y)):
        raise TunesmithError("The audio holds NaN or infinite samples")
    seconds = y.shape[0] / sr
    if seconds < min_seconds:
        raise TunesmithError(f"The audio lasts {seconds:.2f} s; at least {min_seconds} s is needed to analyse it")
    if float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) < SILENCE_RMS:
        raise TunesmithError("The audio is silent: there is no music to analyse")
    return y


def to_mono(y: np.ndarray, sr: int, *, target_sr: int = ANALYSIS_RATE, min_seconds: float = 0.5) -> np.ndarray:
    """Checked mono float32 at ``target_sr`` (polyphase resampling: exact ratios, no numba JIT)."""
    y = check_audio(y, sr, min_seconds=min_seconds)
    mono = y.mean(axis=1) if y.ndim == 2 else y
    if sr != target_sr:
        from scipy.signal import resample_poly

        g = gcd(int(sr), target_sr)
        mono = resample_poly(mono, target_sr // g, int(sr) // g)
    return np.ascontiguousarray(mono, dtype=np.float32)
