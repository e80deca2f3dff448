"""Chord estimation finds the notes of a span by binary search: the same notes a full scan finds."""

from __future__ import annotations

import numpy as np

from tools.music.analysis.chords import _Notes, _weights
from tools.music.song import Note


def test_span_search_finds_what_a_full_scan_finds():
    rng = np.random.default_rng(4)
    # short notes, ties, and drones longer than LONG_NOTE_BEATS that start long before the span
    notes = [Note(pitch=int(rng.integers(30, 90)), start=float(rng.integers(0, 800)) / 4,
                  duration=float(rng.choice([0.25, 0.5, 1.0, 3.0, 40.0, 150.0])), velocity=80) for _ in range(600)]
    table = _Notes(notes)
    for start in np.arange(0.0, 200.0, 1.5):
        end = start + 2.0
        sounding = [(n, min(n.start + n.duration, end) - max(n.start, start)) for n in notes]
        sounding = [(n, o) for n, o in sounding if o > 0]
        weights, bass = _weights(table, start, end)
        expected = np.zeros(12)
        for n, o in sounding:
            expected[n.pitch % 12] += o
        assert np.allclose(weights, expected)
        assert bass == (min(n.pitch for n, _ in sounding) % 12 if sounding else None)
