"""Chords from notes: per bar (split in two when the halves disagree), matched against templates.

Why templates over notes rather than a model: notes come either from the score or from the
transcription, both exact enough that "which triad or seventh covers most of the sounding
duration, with the bass on its root" names the chord the way a harmony textbook would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from tools.music.theory import Key, chord_symbol, parse_chord, roman_numeral

TEMPLATES = {"": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10),
             "maj7": (0, 4, 7, 11)}
SEVENTH_PENALTY = 0.15  # a seventh must earn its fourth note: prefer the triad on a tie


@dataclass(frozen=True)
class TimedChord:
    """A chord over a span of quarter-note beats, with its Roman numeral in the key and a fit 0..1."""

    start: float
    duration: float
    symbol: str
    roman: str
    confidence: float


def _weights(notes: "_Notes", start: float, end: float) -> tuple[np.ndarray, int | None]:
    """Sounding duration per pitch class in [start, end) and the lowest sounding pitch class.

    On arrays: looping over every note for every bar and half-bar took 1.9 of a 3-minute
    caption's 15 s (3,000 transcribed notes × 300 spans).
    """
    near = notes.near(start, end)
    starts, ends = notes.starts[near], notes.ends[near]
    overlap = np.minimum(ends, end) - np.maximum(starts, start)
    sounding = overlap > 0
    if not sounding.any():
        return np.zeros(12), None
    pitches = notes.pitches[near][sounding]
    weights = np.bincount(pitches % 12, weights=overlap[sounding], minlength=12)
    # the lowest note; among equal pitches the longest (lexsort: last key first)
    lowest = np.lexsort((-notes.durations[near][sounding], pitches))[0]
    return weights, int(pitches[lowest] % 12)


# Notes longer than this are few (a drone, a held pedal) and are checked in every span; the others
# are found by binary search on their starts. Scanning every note for every span was quadratic: a
# 200,000-note MIDI file spent 16 s here.
LONG_NOTE_BEATS = 32.0


class _Notes:
    """Note starts, ends, pitches and durations as arrays, sorted by start, and the notes that
    may sound in a span found without scanning them all."""

    def __init__(self, notes: list) -> None:
        order = np.argsort(np.array([float(n.start) for n in notes]), kind="stable")
        self.starts = np.array([float(notes[i].start) for i in order])
        self.durations = np.array([float(notes[i].duration) for i in order])
        self.ends = self.starts + self.durations
        self.pitches = np.array([int(notes[i].pitch) for i in order])
        long = self.durations > LONG_NOTE_BEATS
        self._long = np.flatnonzero(long)
        self._short = np.flatnonzero(~long)
        self._short_starts = self.starts[self._short]
        self._reach = float(self.durations[~long].max()) if self._short.size else 0.0

    def near(self, start: float, end: float) -> np.ndarray:
        """Indices of every note that can overlap [start, end) (and a few that end just before)."""
        lo = np.searchsorted(self._short_starts, start - self._reach, side="left")
        hi = np.searchsorted(self._short_starts, end, side="left")
        return np.concatenate([self._short[lo:hi], self._long])


def best_chord(weights: np.ndarray, bass: int | None) -> tuple[int, str, float]:
    """(root, quality, fit) of the template that explains most of the sounding duration."""
    total = weights.sum()
    best = (0, "", -1.0)
    for root in range(12):
        for quality, intervals in TEMPLATES.items():
            tones = [(root + i) % 12 for i in intervals]
            inside = weights[tones].sum() / total
            # every chord tone should sound: a missing third or fifth counts against it
            missing = sum(1 for t in tones if weights[t] < 0.05 * total) / len(tones)
            score = inside - 0.5 * missing - (SEVENTH_PENALTY if len(intervals) == 4 else 0.0)
            score += 0.1 if bass == root else 0.0
            if score > best[2]:
                best = (root, quality, score)
    return best


def _split(notes, start: float, end: float, whole: tuple[int, str, float], min_beats: float = 1.0) -> list:
    """Halve a span while both halves fit different chords clearly better (down to one beat)."""
    if end - start < 2 * min_beats - 1e-6:
        return [(start, end, *whole)]
    mid = start + (end - start) / 2
    halves = []
    for a, b in ((start, mid), (mid, end)):
        w, bass = _weights(notes, a, b)
        if w.sum() <= 0:
            return [(start, end, *whole)]
        halves.append((a, b, best_chord(w, bass)))
    (a1, b1, c1), (a2, b2, c2) = halves
    if c1[:2] != c2[:2] and (c1[2] + c2[2]) / 2 > whole[2] + 0.05:
        return _split(notes, a1, b1, c1, min_beats) + _split(notes, a2, b2, c2, min_beats)
    return [(start, end, *whole)]


def estimate_chords(notes: Iterable, *, key: Key, beats_per_bar: float, total_beats: float | None = None,
                    split_bars: bool = True) -> list[TimedChord]:
    """Timed chords of pitched notes (drums excluded by the caller), merged when repeated.

    Args:
        notes: objects with pitch, start and duration in beats.
        key: the key the Roman numerals are written in.
        beats_per_bar: the bar length in quarter notes.
        total_beats: the end of the music (default: the last note's end).
        split_bars: try two chords per bar when the halves fit different chords better.
    """
    listed = [n for n in notes if n.duration > 0]
    if not listed:
        return []
    end = total_beats if total_beats is not None else max(n.start + n.duration for n in listed)
    notes = _Notes(listed)
    spans: list[tuple[float, float, int, str, float]] = []
    bar_start = 0.0
    while bar_start < end - 1e-6:
        bar_end = min(bar_start + beats_per_bar, end)
        weights, bass = _weights(notes, bar_start, bar_end)
        if weights.sum() <= 0:
            bar_start += beats_per_bar
            continue
        chosen = _split(notes, bar_start, bar_end, best_chord(weights, bass)) if split_bars else \
            [(bar_start, bar_end, *best_chord(weights, bass))]
        spans.extend((a, b - a, root, quality, fit) for a, b, root, quality, fit in chosen)
        bar_start += beats_per_bar
    merged: list[TimedChord] = []
    for start, length, root, quality, fit in spans:
        symbol = chord_symbol(root, quality, key)
        if merged and merged[-1].symbol == symbol and abs(merged[-1].start + merged[-1].duration - start) < 1e-6:
            last = merged[-1]
            merged[-1] = TimedChord(last.start, last.duration + length, symbol, last.roman,
                                    max(last.confidence, round(float(np.clip(fit, 0, 1)), 3)))
            continue
        merged.append(TimedChord(round(start, 3), round(length, 3), symbol,
                                 roman_numeral(parse_chord(symbol), key), round(float(np.clip(fit, 0, 1)), 3)))
    return merged
