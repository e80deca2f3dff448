"""Cadence and opening evidence for the key finder: the final bass read from rendered audio, and the
first and last bass notes read from notes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tools.music.analysis.key import (estimate_key_from_notes, final_bass_from_audio, final_bass_pitch_class,
                                      opening_bass_pitch_class)
from tools.music.analysis.signal import ANALYSIS_RATE
from tools.music.song import Note, Song, Track


def _render(tracks: list[Track], tempo: float = 110.0):
    from tools.music.synth import render_song_audio

    song = Song(title="evidence", key="C major", tempo_bpm=tempo, meter="4/4", melody=tracks[0], tracks=tracks[1:])
    return render_song_audio(song, sample_rate=ANALYSIS_RATE)


def test_final_bass_of_a_melody_without_bass():
    # a flute tune ending B4 A4 G4: nothing sounds below B3, where the old rule looked (it read C)
    pitches = [67, 71, 74, 72, 71, 69, 67, 71, 74, 76, 74, 72, 71, 69, 67]
    notes = [Note(pitch=p, start=i * 0.5, duration=0.45, velocity=95) for i, p in enumerate(pitches[:-1])]
    notes.append(Note(pitch=pitches[-1], start=(len(pitches) - 1) * 0.5, duration=2.0, velocity=95))
    audio = _render([Track(name="Flute", program=73, role="melody", notes=notes)])
    assert final_bass_from_audio(audio.mean(axis=1), ANALYSIS_RATE) == 7  # G


def test_final_bass_is_the_last_chord_not_the_one_before():
    # piano: E major over E2 for four beats, then A minor over A2 for two (1.1 s); the old rule's
    # 2 s window reached back to the lower E2 and read E
    chords = [(0.0, 4.0, [40, 56, 59, 64]), (4.0, 2.0, [45, 57, 60, 64])]
    notes = [Note(pitch=p, start=start, duration=length, velocity=90) for start, length, pitches in chords for p in pitches]
    melody = [n for n in notes if n.pitch == 64]
    comp = [n for n in notes if n.pitch != 64]
    audio = _render([Track(name="Top", program=0, role="melody", notes=melody),
                     Track(name="Piano", program=0, role="comp", notes=comp)])
    assert final_bass_from_audio(audio.mean(axis=1), ANALYSIS_RATE) == 9  # A


def test_symbolic_final_and_opening_bass():
    line = [(62, 0.0, 0.5), (64, 0.5, 0.5), (66, 1.0, 0.5), (67, 1.5, 1.0)]  # D E F# G
    notes = [SimpleNamespace(pitch=p, start=s, duration=d) for p, s, d in line]
    assert final_bass_pitch_class(notes) == 7  # G, not the F# that ended in the last beat
    assert opening_bass_pitch_class(notes) == 2
    chord = notes + [SimpleNamespace(pitch=43, start=1.5, duration=1.0), SimpleNamespace(pitch=50, start=0.0, duration=1.5)]
    assert final_bass_pitch_class(chord) == 7 and opening_bass_pitch_class(chord) == 2


@pytest.mark.parametrize("method, use_opening, expected", [("profile", True, "A minor"), ("profile", False, "D minor"),
                                                         ("ranker", True, "A minor")])
def test_opening_bass_settles_a_chorale_the_notes_leave_open(method, use_opening, expected):
    # BWV 288 opens on an A chord and is notated in A minor; its pitch classes alone favour D minor
    # (the profile path); the learned ranker weighs the opening bass among its features
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    chorale = score_to_song(corpus.parse("bach/bwv288"))
    notes = [n for t in chorale.all_tracks() for n in t.notes]
    assert estimate_key_from_notes(notes, method=method, use_opening=use_opening).key == expected
