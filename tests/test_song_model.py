"""Song round trips through MIDI, MusicXML, LRC and JSON keep notes, timing, tempo, key and lyrics."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from tools.music import Note, Section, Song, Track, TunesmithError
from tools.music.lrc import parse_lrc


def small_song() -> Song:
    syllables = [("Driv-", 0), ("ing", 0), ("home", 0), ("at", 0), ("dawn", 0),
                 ("the", 1), ("road", 1), ("is", 1), ("long", 1)]
    pitches = [69, 71, 72, 71, 69, 67, 69, 71, 69]
    melody = [Note(pitch=p, start=i * 1.0, duration=1.0 if i != 4 else 2.0, syllable=s, line=line)
              for i, (p, (s, line)) in enumerate(zip(pitches, syllables))]
    for note in melody[5:]:
        note.start += 3.0
    melody[-1].duration = 0.5
    melody.append(Note(pitch=67, start=11.5, duration=1.5, line=1))  # melisma on "long"
    return Song(
        title="Night Shift", key="A minor", tempo_bpm=92, meter="4/4",
        melody=Track(name="Vocals", program=52, role="melody", notes=melody),
        sections=[Section(name="verse 1", kind="verse", start_bar=0, bars=2, chords=["Am", "F C/E"],
                          lyrics=["Driving home at dawn"]),
                  Section(name="chorus 1", kind="chorus", start_bar=2, bars=2, chords=["Dm7 G7", "Am"],
                          lyrics=["the road is long"], energy=0.8)],
        tracks=[Track(name="Bass", program=33, role="bass", notes=[Note(pitch=45, start=b * 4.0, duration=4) for b in range(4)]),
                Track(name="Drums", is_drum=True, role="drums",
                      notes=[Note(pitch=36, start=b * 1.0, duration=0.25, velocity=100) for b in range(16)])],
        style_tags=["indie-folk"],
    )


def note_tuples(track: Track) -> list[tuple]:
    return [(n.pitch, round(n.start, 4), round(n.duration, 4), n.syllable) for n in track.notes]


def test_midi_round_trip_keeps_everything(tmp_path: Path) -> None:
    song = small_song()
    back = Song.from_midi(song.to_midi(tmp_path / "song.mid"))
    assert (back.key, back.tempo_bpm, back.meter, back.title) == ("A minor", 92.0, "4/4", "Night Shift")
    assert note_tuples(back.melody) == note_tuples(song.melody)
    assert [n.line for n in back.melody.notes] == [n.line for n in song.melody.notes]
    assert [(s.name, s.start_bar, s.bars, s.chords, s.lyrics) for s in back.sections] == \
           [(s.name, s.start_bar, s.bars, s.chords, s.lyrics) for s in song.sections]
    assert [(t.name, t.role, t.program, t.is_drum) for t in back.tracks] == \
           [(t.name, t.role, t.program, t.is_drum) for t in song.tracks]
    assert note_tuples(back.tracks[1]) == note_tuples(song.tracks[1])
    assert back.style_tags == ["indie-folk"]


def test_midi_lyric_events_and_drum_channel(tmp_path: Path) -> None:
    path = small_song().to_midi(tmp_path / "song.mid")
    midi = mido.MidiFile(str(path))
    lyrics = [m.text for t in midi.tracks for m in t if m.type == "lyrics"]
    assert lyrics[:3] == ["Driv-", "ing", "home"] and "/the" in lyrics
    drum_channels = {m.channel for m in midi.tracks[-1] if m.type == "note_on"}
    assert drum_channels == {9}


def test_musicxml_opens_in_music21_with_same_notes(tmp_path: Path) -> None:
    from music21 import converter, harmony

    song = small_song()
    path = song.to_musicxml(tmp_path / "lead.musicxml")
    score = converter.parse(str(path))
    notes = [(n.pitch.midi, float(n.offset), float(n.quarterLength)) for n in score.parts[0].stripTies().flatten().getElementsByClass("Note")]
    assert notes == [(n.pitch, n.start, n.duration) for n in song.melody.notes]
    lyrics = [n.lyric for n in score.parts[0].flatten().getElementsByClass("Note") if n.lyric]
    assert lyrics == ["Driv", "ing", "home", "at", "dawn", "the", "road", "is", "long"]
    figures = [c.figure for c in score.flatten().getElementsByClass(harmony.ChordSymbol)]
    assert len(figures) == 6 and figures[0] == "Am"
    back = Song.from_musicxml(path)
    assert back.key == "A minor" and back.meter == "4/4" and back.tempo_bpm == pytest.approx(92)
    assert note_tuples(back.melody) == note_tuples(song.melody)
    assert back.sections[0].chords == ["Am", "F C/E", "Dm7 G7", "Am"]


def test_lrc_has_every_line_at_its_time() -> None:
    song = small_song()
    pairs = parse_lrc(song.to_lrc())
    assert [text for _, text in pairs] == ["Driving home at dawn", "the road is long"]
    assert pairs[1][0] == pytest.approx(8 * 60 / 92, abs=0.01)


def test_json_round_trip() -> None:
    song = small_song()
    assert Song.from_json(song.to_json()) == song


def test_real_corpus_file_reads(tmp_path: Path) -> None:
    from music21 import corpus

    path = corpus.getWork("bach/bwv40.8")
    song = Song.from_musicxml(Path(path))
    assert song.key == "F minor"
    assert song.meter == "4/4"
    assert len(song.tracks) == 3 and len(song.melody.notes) > 30
    assert [n.syllable for n in song.melody.notes if n.syllable][:4] == ["Freu-", "et", "euch,", "ihr"]
    again = Song.from_midi(song.to_midi(tmp_path / "bach.mid"))
    assert note_tuples(again.tracks[0]) == note_tuples(song.tracks[0])


@pytest.mark.parametrize("bad", [{"key": "H minor"}, {"meter": "4/5"}, {"tempo_bpm": 0}])
def test_bad_values_are_refused(bad: dict) -> None:
    with pytest.raises((TunesmithError, ValueError)):
        Song(**bad)


def test_unknown_chord_is_refused() -> None:
    with pytest.raises((TunesmithError, ValueError)):
        Section(name="verse", kind="verse", start_bar=0, bars=1, chords=["Xq7"])


def test_corrupt_midi_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(TunesmithError, match="not a readable MIDI"):
        Song.from_midi(bad)
