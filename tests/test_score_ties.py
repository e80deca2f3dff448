"""Tied notes read from scores: one sounding note per chain, as a player holds it."""

from __future__ import annotations

from music21 import chord, corpus, note, stream, tie

from tools.music.musicxml_io import score_to_song


def _held(song, pitch: int, start: float) -> list[float]:
    return [n.duration for t in song.all_tracks() for n in t.notes if n.pitch == pitch and abs(n.start - start) < 1e-6]


def test_a_four_note_chain_in_a_beethoven_quartet_is_one_note() -> None:
    # opus 18/1 iii, first violin: D5 tied start → continue → continue → stop, four dotted halves;
    # music21's stripTies had cut it after the first
    song = score_to_song(corpus.parse("beethoven/opus18no1/movement3.mxl"))
    assert _held(song, 74, 313.0) == [12.0]
    assert not _held(song, 74, 316.0)


def test_a_note_tied_into_a_chord_joins_that_chord_member_only() -> None:
    # Haydn opus 74/1 iii, second violin: C4 (tie start) → chord C4 E-4 with the tie on C4
    song = score_to_song(corpus.parse("haydn/opus74no1/movement3.mxl"))
    assert _held(song, 60, 48.0) == [6.0]
    assert _held(song, 63, 51.0) == [3.0]


def test_ties_follow_each_chord_member_not_the_chord() -> None:
    part = stream.Part()
    first = chord.Chord(["C4", "E-4"], quarterLength=2)
    first.notes[1].tie = tie.Tie("start")
    second = chord.Chord(["C4", "E-4"], quarterLength=2)
    second.notes[1].tie = tie.Tie("stop")
    part.append([first, second])
    song = score_to_song(stream.Score([part]))
    assert sorted((n.pitch, n.start, n.duration) for n in song.melody.notes) == [(60, 0.0, 2.0), (60, 2.0, 2.0), (63, 0.0, 4.0)]


def test_a_tie_mark_between_different_pitches_keeps_every_pitch() -> None:
    # ABC transcriptions write slurs as ties: D-E-F# "tied" are three notes, not one long D
    part = stream.Part()
    for name, kind in (("D4", "start"), ("E4", "continue"), ("F#4", "stop")):
        n = note.Note(name, quarterLength=1)
        n.tie = tie.Tie(kind)
        part.append(n)
    song = score_to_song(stream.Score([part]))
    assert [(n.pitch, n.duration) for n in song.melody.notes] == [(62, 1.0), (64, 1.0), (66, 1.0)]


def test_an_unmarked_continuation_and_a_gap_are_read_as_written() -> None:
    # Monteverdi's parts mark only the tie's start; a tie start followed by a rest stays one note
    part = stream.Part()
    held = note.Note("F4", quarterLength=1)
    held.tie = tie.Tie("start")
    dangling = note.Note("G4", quarterLength=1)
    dangling.tie = tie.Tie("start")
    part.append([held, note.Note("F4", quarterLength=1), dangling, note.Rest(quarterLength=1), note.Note("G4", quarterLength=1)])
    song = score_to_song(stream.Score([part]))
    assert [(n.pitch, n.start, n.duration) for n in song.melody.notes] == [(65, 0.0, 2.0), (67, 2.0, 1.0), (67, 4.0, 1.0)]
