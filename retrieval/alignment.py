"""Put musical bar lines on a video's cuts.

`fit_tempo` finds the tempo whose bar lines (music starting at 0 s) fall on the cuts, nearest the
tempo the picture asks for; `best_offset` finds where to start an existing track so its bar lines
land on the cuts. Both are exhaustive searches on a fine grid: a few thousand candidates, cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.music.errors import TunesmithError


@dataclass(frozen=True)
class TempoFit:
    tempo_bpm: float
    bar_seconds: float
    max_error_s: float
    mean_error_s: float


def bar_errors(cuts: list[float] | np.ndarray, bar_seconds: float, offset: float = 0.0) -> np.ndarray:
    """Distance from each cut to the nearest bar line at ``offset + k * bar_seconds``."""
    cuts = np.asarray(cuts, dtype=float) - offset
    return np.abs(cuts - np.round(cuts / bar_seconds) * bar_seconds)


def fit_tempo(cuts: list[float], *, beats_per_bar: float = 4.0, target_bpm: float = 100.0,
              low_bpm: float = 50.0, high_bpm: float = 200.0, tolerance_s: float = 0.02) -> TempoFit:
    """The tempo nearest ``target_bpm`` whose bar lines fall within ``tolerance_s`` of every cut.

    With no tempo inside the tolerance, the one with the smallest worst-case error wins. Cuts in the
    first half bar are ignored (the music simply starts there).
    """
    if not low_bpm < high_bpm:
        raise TunesmithError(f"Tempo range {low_bpm}..{high_bpm} is empty")
    cuts_array = np.asarray([c for c in cuts if c > 0.25], dtype=float)
    grid = np.arange(low_bpm, high_bpm + 1e-9, 0.01)
    bar_seconds = beats_per_bar * 60.0 / grid
    if not len(cuts_array):
        bpm = float(np.clip(target_bpm, low_bpm, high_bpm))
        return TempoFit(bpm, beats_per_bar * 60.0 / bpm, 0.0, 0.0)
    errors = np.abs(cuts_array[None, :] - np.round(cuts_array[None, :] / bar_seconds[:, None]) * bar_seconds[:, None])
    worst = errors.max(axis=1)
    good = np.flatnonzero(worst <= tolerance_s)
    if len(good):
        # among the fitting tempos prefer the target; ties of nearby grid points resolve to the best fit
        distance = np.abs(np.log(grid[good] / target_bpm))
        nearest = good[distance <= distance.min() + 0.01]
        choice = int(nearest[np.argmin(worst[nearest])])
    else:
        choice = int(np.argmin(worst + 0.001 * np.abs(np.log(grid / target_bpm))))
    return TempoFit(float(round(grid[choice], 2)), float(bar_seconds[choice]), float(worst[choice]),
                    float(errors[choice].mean()))


def best_offset(cuts: list[float], bar_seconds: float, *, step: float = 0.005) -> tuple[float, float]:
    """(start offset into the track in seconds, mean cut error): bar lines at ``k*bar - offset``.

    Playing the track from ``offset`` puts its bar lines at video times ``k*bar_seconds - offset``.
    """
    if bar_seconds <= 0:
        raise TunesmithError(f"Bar length {bar_seconds} s must be positive")
    cuts_array = np.asarray(cuts, dtype=float)
    if not len(cuts_array):
        return 0.0, 0.0
    offsets = np.arange(0.0, bar_seconds, step)
    shifted = cuts_array[None, :] + offsets[:, None]
    errors = np.abs(shifted - np.round(shifted / bar_seconds) * bar_seconds)
    mean = errors.mean(axis=1)
    choice = int(np.argmin(mean))
    return float(offsets[choice]), float(mean[choice])
