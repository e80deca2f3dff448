"""Melody and arrangement from a blueprint: syllables, repetition, stress, range, cadences, parts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tools.music.theory import parse_chord, parse_key
from tools.song.blueprint import SongArgs, make_blueprint
from tools.song.compose import chord_lookup, compose_song

LYRICS = """[verse]
Driving home after the night shift
orange lights are flickering by
the radio is playing softly
and I am too tired to cry
[chorus]
Take me home, take me home tonight
where the kitchen light is on
[verse]
Empty roads and empty pockets
coffee cold upon the seat
every mile a little closer
to the quiet of my street
[chorus]
"""


@pytest.fixture(scope="module", params=["folk", "synthpop", "waltz"])
def composed(request):
    blueprint = make_blueprint(SongArgs(genre=request.param, lyrics=LYRICS, seed=4))
    return blueprint, compose_song(blueprint)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def test_every_lyric_syllable_is_sung_in_order(composed):
    _, song = composed
    sung = "".join(n.syllable.rstrip("-") + ("" if n.syllable.endswith("-") else " ")
                   for n in song.melody.notes if n.syllable)
    assert _words(sung) == _words(" ".join(song.lyric_lines()))
    lines = {n.line for n in song.melody.notes if n.syllable}
    assert lines == set(range(len(song.lyric_lines())))


def test_choruses_return_with_the_same_melody(composed):
    _, song = composed
    choruses = [s for s in song.sections if s.kind == "chorus"]
    assert len(choruses) == 2
    bar = song.beats_per_bar

    def melody_of(section):
        lo, hi = section.start_bar * bar, section.end_bar * bar
        return [(round(n.start - lo, 3), n.duration, n.pitch, n.syllable) for n in song.melody.notes if lo <= n.start < hi]

    assert melody_of(choruses[0]) == melody_of(choruses[1])
    verses = [s for s in song.sections if s.kind == "verse"]
    assert melody_of(verses[0]) != melody_of(verses[1])  # different words, shared contour


def test_melody_sits_in_the_voice_range_without_overlaps(composed):
    blueprint, song = composed
    low, high = blueprint.voice_range
    notes = sorted(song.melody.notes, key=lambda n: n.start)
    assert all(low <= n.pitch <= high for n in notes)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(notes, notes[1:]))


def test_stressed_syllables_fall_on_beats_and_phrases_end_on_chord_tones(composed):
    blueprint, song = composed
    chord_at = chord_lookup(blueprint)
    key = parse_key(song.key)
    from tools.song.syllables import syllabify_line

    stresses = [syl.stress for line in song.lyric_lines() for _, word in syllabify_line(line) for syl in word]
    sung = [n for n in song.melody.notes if n.syllable]
    assert len(stresses) == len(sung)
    on_beat = [abs(n.start - round(n.start)) < 0.2 for n, s in zip(sung, stresses) if s == 1]
    off_beat = [abs(n.start - round(n.start)) < 0.2 for n, s in zip(sung, stresses) if s == 0]
    assert np.mean(on_beat) > 0.6 and np.mean(on_beat) > np.mean(off_beat)
    by_line: dict[int, list] = {}
    for note in song.melody.notes:
        by_line.setdefault(note.line, []).append(note)
    for notes in by_line.values():
        last = max(notes, key=lambda n: n.start)
        assert last.pitch % 12 in parse_chord(chord_at(last.start)).pitch_classes
    for section in song.sections:
        sung = [n for n in song.melody.notes
                if section.start_bar * song.beats_per_bar <= n.start < section.end_bar * song.beats_per_bar]
        if sung and section.lyrics:
            final = max(sung, key=lambda n: n.start)
            assert final.pitch % 12 in (key.tonic, *parse_chord(chord_at(final.start)).pitch_classes)


def test_arrangement_has_drums_bass_comping_and_fuller_choruses(composed):
    blueprint, song = composed
    roles = {t.role for t in song.tracks}
    assert {"bass", "comp", "lead"} <= roles
    drums = [t for t in song.tracks if t.is_drum]
    assert drums and all(35 <= n.pitch <= 81 for n in drums[0].notes)
    bar = song.beats_per_bar

    def density(kind):
        sections = [s for s in song.sections if s.kind == kind]
        count = sum(1 for t in song.tracks for n in t.notes for s in sections
                    if s.start_bar * bar <= n.start < s.end_bar * bar)
        return count / sum(s.bars for s in sections)

    assert density("chorus") > density("verse")
    # the intro's lead plays the chorus hook before anybody sings
    intro_end = song.sections[0].end_bar * bar
    assert any(n.start < intro_end for t in song.tracks if t.role == "lead" for n in t.notes)
    # bass roots follow the chords on downbeats
    bass = next(t for t in song.tracks if t.role == "bass")
    chord_at = chord_lookup(blueprint)
    downbeats = [n for n in bass.notes if abs(n.start % bar) < 1e-6]
    agree = np.mean([n.pitch % 12 == parse_chord(chord_at(n.start)).bass for n in downbeats])
    assert agree > 0.9


def test_compose_is_deterministic_and_seeds_differ():
    blueprint = make_blueprint(SongArgs(genre="pop", lyrics=LYRICS, seed=1))
    assert compose_song(blueprint).to_json() == compose_song(blueprint).to_json()
    other = make_blueprint(SongArgs(genre="pop", lyrics=LYRICS, seed=2, key=blueprint.key, tempo_bpm=blueprint.tempo_bpm))
    assert [n.pitch for n in compose_song(other).melody.notes] != [n.pitch for n in compose_song(blueprint).melody.notes]


def test_instrumental_song_has_a_melody_without_lyrics():
    song = compose_song(make_blueprint(SongArgs(genre="jazz", vocals="none", duration_s=40, seed=2)))
    assert song.melody.notes and all(n.syllable is None for n in song.melody.notes)
    assert song.lyric_lines() == []
