"""The final cadence's chord as key evidence: real chorales that profiles alone put in the relative major."""

from __future__ import annotations

import pytest
from music21 import corpus

from tools.caption.symbolic import pitched_notes
from tools.music.analysis import estimate_key_from_notes
from tools.music.analysis.key import final_chord_root, key_from_profile, pitch_class_histogram
from tools.music.musicxml_io import score_to_song
from tools.music.song import Note


def _chord(*pitches: int) -> list[Note]:
    return [Note(pitch=60, start=0.0, duration=1.0)] + [Note(pitch=p, start=1.0, duration=2.0) for p in pitches]


@pytest.mark.parametrize("pitches, root", [
    ((48, 64, 67), 0),        # C E G: root position
    ((45, 60, 64, 69), 9),    # A C E A: A minor in root position
    ((43, 59, 62, 65), 7),    # G B D F: a root-position seventh
    ((52, 60, 67), None),     # E C G: first inversion, no final cadence on E
    ((48, 55, 60), None),     # an open fifth says nothing of the mode or of a cadence
    ((60,), None),            # a tune's last note
    ((48, 62, 64, 67), None),  # an added ninth is not a plain triad
])
def test_final_chord_root_needs_a_full_root_position_chord(pitches, root):
    assert final_chord_root(_chord(*pitches)) == root


@pytest.mark.parametrize("path, key", [("bach/bwv300.mxl", "E minor"), ("bach/bwv272.mxl", "D minor")])
def test_a_chorale_ending_on_its_tonic_chord_is_read_in_that_key(path, key):
    notes = pitched_notes(score_to_song(corpus.parse(path)))
    assert estimate_key_from_notes(notes).key == key
    # the pitch classes alone favour the relative major: the final chord is what decides
    profile_only = key_from_profile(pitch_class_histogram(notes))
    assert profile_only.key != key
