"""Onsets for one lyric line: likely under the folk-song rhythm table, with stresses on strong beats.

A line of n syllables in a slot of bars is a path of n onsets on the sixteenth grid. Each step
costs what the corpus says about it (-log P(gap | position in bar), `rhythm_stats`) plus what the
words say: a stressed syllable off the strong positions, or an unstressed one on them, costs extra
(the strength of a position is its level in the meter's grid: downbeat, beat, eighth,
sixteenth; the corpus's own onset shares blur beats and eighths in 6/8). The last syllable
holds to the end of the phrase and prefers a long note on a strong position. Paths are sampled,
not maximised (forward filtering, backward sampling), so two lines with the same stress pattern
can get different rhythms while both stay idiomatic; a seeded ``rng`` makes it repeatable.
"""

from __future__ import annotations

import random

import numpy as np

from tools.song.rhythm_stats import MAX_GAP, RhythmStats

STRESSED_OFF_BEAT = 3.5  # primary stress at a position of strength s costs this × (1 − s)
UNSTRESSED_ON_BEAT = 1.0  # an unstressed syllable costs this × s
PICKUP_COST = 0.3  # the first syllable waiting into the slot (an anacrusis) costs this per grid step
# strength of a position by the coarsest grid it lies on, per meter family: (period in sixteenths, strength)
METRIC_LEVELS = {
    "duple": ((16, 1.0), (8, 0.9), (4, 0.8), (2, 0.3)),
    "triple": ((12, 1.0), (4, 0.8), (2, 0.3)),
    "compound": ((12, 1.0), (6, 0.9), (2, 0.3)),
}
LONG_FINAL_UNITS = 8  # a phrase-final note shorter than two beats costs per missing sixteenth
SHORT_FINAL_COST = 0.25


def metric_strength(family: str, bar_units: int) -> np.ndarray:
    """Strength (0–1) of every sixteenth of the bar: 1 on the downbeat, 0 between eighths."""
    strength = np.zeros(bar_units)
    for position in range(bar_units):
        strength[position] = next((s for period, s in METRIC_LEVELS[family] if position % period == 0), 0.0)
    return strength


def line_onsets(stresses: list[int], end: int, offset: int, stats: RhythmStats, rng: random.Random,
                *, family: str = "duple", min_final: int = 4, max_pickup: int = 4) -> list[int] | None:
    """Grid indices (sixteenths from the slot start) of each syllable's onset, or None if they can't fit.

    Args:
        stresses: per syllable, 1 primary, 2 secondary, 0 unstressed.
        end: grid index where the phrase's last note ends (the slot minus its breath).
        offset: the slot start's position in the bar, in grid units.
        min_final: the last note lasts at least this many grid steps.
        max_pickup: the first syllable may wait at most this many steps.
    """
    n = len(stresses)
    last_allowed = end - min_final
    if n == 0 or last_allowed < n - 1:
        return None
    positions = np.arange(end)
    metric = (offset + positions) % stats.bar_units
    strength = metric_strength(family, stats.bar_units)[metric]
    gaps = positions[None, :] - positions[:, None]
    usable = (gaps >= 1) & (gaps <= MAX_GAP)
    step = np.where(usable, stats.gap_cost[metric[:, None], np.clip(gaps, 0, MAX_GAP)], np.inf)

    def word_cost(stress: int) -> np.ndarray:
        if stress == 0:
            return UNSTRESSED_ON_BEAT * strength
        return STRESSED_OFF_BEAT * (1.0 - strength) * (1.0 if stress == 1 else 0.5)

    first = np.full(end, np.inf)
    first[:max_pickup + 1] = PICKUP_COST * positions[:max_pickup + 1]
    log_alpha = [-(first + word_cost(stresses[0]))]
    for stress in stresses[1:]:
        previous = log_alpha[-1]
        log_alpha.append(_logsumexp(previous[:, None] - step, axis=0) - word_cost(stress))
    final = log_alpha[-1].copy()
    final[last_allowed + 1:] = -np.inf
    held = end - positions
    final -= SHORT_FINAL_COST * np.clip(LONG_FINAL_UNITS - held, 0, None) - np.log(strength + 1e-9)
    if not np.isfinite(final).any():
        return None
    onsets = [_sample(final, rng)]
    for k in range(n - 2, -1, -1):
        onsets.append(_sample(log_alpha[k] - step[:, onsets[-1]], rng))
    return onsets[::-1]


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(values, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(safe, axis=axis) + np.log(np.sum(np.exp(values - safe), axis=axis))


def _sample(log_weights: np.ndarray, rng: random.Random) -> int:
    """An index drawn with probability proportional to exp(log_weights), from the seeded rng."""
    finite = np.isfinite(log_weights)
    weights = np.where(finite, np.exp(log_weights - np.max(log_weights[finite])), 0.0)
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
