"""style_transfer: the melody is kept (note-level F1 after transposition), harmony follows the
style's idiom, keys, modes and meters change as asked (measured audio: test_restyle_targets.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.music.song import Song
from tools.music.theory import parse_key
from tools.registry import ToolContext
from tools.restyle import StyleTransferArgs, restyle_song, style_transfer
from tools.restyle.harmony import change_meter, semitones_between


def melody_f1(reference: Song, estimate: Song, *, shift: int = 0) -> float:
    """Onset/pitch F1 (mir_eval, 50 ms onsets, offsets ignored) of two melodies in seconds."""
    import mir_eval

    def arrays(song: Song, transpose: int):
        notes = sorted(song.melody.notes, key=lambda n: n.start)
        intervals = np.array([[song.beats_to_seconds(n.start), song.beats_to_seconds(n.end)] for n in notes])
        pitches = np.array([440.0 * 2 ** ((n.pitch + transpose - 69) / 12) for n in notes])
        return intervals, pitches

    ri, rp = arrays(reference, shift)
    ei, ep = arrays(estimate, 0)
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, offset_ratio=None)
    return f1


@pytest.fixture(scope="module")
def chorale(tmp_path_factory) -> Path:
    """Eight bars of a Bach chorale from music21's corpus, as MusicXML."""
    from music21 import corpus

    path = tmp_path_factory.mktemp("chorale") / "bwv66_6.musicxml"
    corpus.parse("bach/bwv66.6").measures(0, 8).write("musicxml", fp=str(path))
    return path


@pytest.fixture(scope="module")
def song() -> Song:
    from tools.song import compose_song, make_blueprint

    lyrics = "[verse]\nthe road is long tonight\nthe lights are burning low\n[chorus]\nsing it out loud\nsing it all night long\n"
    return compose_song(make_blueprint({"lyrics": lyrics, "genre": "pop", "seed": 2, "tempo_bpm": 112}), seed=2)


def test_jazz_keeps_melody_and_speaks_jazz(song):
    jazz, decided = restyle_song(song, StyleTransferArgs(source="-", target_style="swinging jazz"))
    assert decided["style"] == "jazz"
    assert melody_f1(song, jazz) >= 0.95
    assert [n.syllable for n in jazz.melody.notes] == [n.syllable for n in song.melody.notes]
    chords = [c for s in jazz.sections for bar in s.chords for c in bar.split()]
    assert sum(any(q in c for q in ("7", "9")) for c in chords) / len(chords) > 0.8  # sevenths and ninths
    assert any(len(bar.split()) == 2 for s in jazz.sections for bar in s.chords)  # a ii-V split somewhere
    assert {t.role for t in jazz.tracks} >= {"bass", "comp", "drums"}


def test_mode_and_key_changes_map_scale_degrees(song):
    minor, _ = restyle_song(song, StyleTransferArgs(source="-", target_style="pop", mode="minor"))
    source, target = parse_key(song.key), parse_key(minor.key)
    assert target.mode == "minor" and target.tonic == source.tonic
    degrees = lambda s, k: [k.scale.index(n.pitch % 12) if n.pitch % 12 in k.scale else None for n in s.melody.notes]
    assert degrees(song, source) == degrees(minor, target)  # every note on the same scale degree
    moved, _ = restyle_song(song, StyleTransferArgs(source="-", target_style="pop", key="F major"))
    shift = semitones_between(source, parse_key("F major"))
    octave = round((np.mean([n.pitch for n in moved.melody.notes]) - np.mean([n.pitch for n in song.melody.notes]) - shift) / 12)
    assert melody_f1(song, moved, shift=shift + 12 * octave) >= 0.95


def test_waltz_rebars_in_three(song):
    waltz, _ = restyle_song(song, StyleTransferArgs(source="-", target_style="waltz"))
    assert waltz.meter == "3/4"
    assert [n.pitch for n in waltz.melody.notes] == [n.pitch for n in song.melody.notes]
    starts = [n.start for n in waltz.melody.notes]
    assert starts == sorted(starts)
    back = change_meter(waltz, "4/4").model_copy(update={"tempo_bpm": song.tempo_bpm})
    assert melody_f1(song, back) >= 0.95  # the re-barring is exactly invertible


def test_tool_on_corpus_musicxml(chorale, tmp_path):
    """The tool end to end on a score; the measured targets (tempo, mode, meter, instruments, as
    caption_music hears them) are in test_restyle_targets.py."""
    from tools.music.theory import bar_beats
    from tools.song.presets import load_preset

    source = Song.from_musicxml(chorale)
    result = style_transfer(StyleTransferArgs(source=str(chorale), target_style="rock", tempo_bpm=120,
                                              mode="major" if parse_key(source.key).mode == "minor" else "minor",
                                              vocals="none"), ToolContext(workdir=tmp_path))
    song = result.song
    assert result.parent_id is None and (tmp_path / "song.wav").is_file()
    # melody kept: the soprano line, in the new mode
    soprano = Song(tempo_bpm=120, melody=source.melody, key=source.key)
    degrees_src = [n.pitch % 12 for n in soprano.melody.notes]
    assert len(song.melody.notes) == len(soprano.melody.notes)
    assert [round(n.start, 3) for n in song.melody.notes] == [round(n.start, 3) for n in soprano.melody.notes]
    assert len(degrees_src) > 20
    # preset instruments present in the written MIDI
    preset = load_preset("rock")
    programs = {t.program for t in Song.from_midi(tmp_path / "song.mid").tracks}
    assert {preset.instruments.bass.program, preset.instruments.comp.program} <= programs
    assert parse_key(song.key).mode != parse_key(source.key).mode and song.tempo_bpm == 120
    assert bar_beats(song.meter) == 4.0


def test_waltz_meter_in_the_midi(song, tmp_path):
    result = style_transfer(StyleTransferArgs(source=_saved(song, tmp_path), target_style="waltz"),
                            ToolContext(workdir=tmp_path / "w"))
    assert Song.from_midi(tmp_path / "w" / "song.mid").meter == "3/4"
    assert result.data["manifest"]["meter"] == "3/4"


def _saved(song: Song, folder: Path) -> str:
    path = folder / "source.mid"
    song.to_midi(path)
    return str(path)


def test_swing_and_instrumentation_arguments(song):
    straight, _ = restyle_song(song, StyleTransferArgs(source="-", target_style="pop", swing=0.0))
    swung, _ = restyle_song(song, StyleTransferArgs(source="-", target_style="pop", swing=0.33,
                                                    instrumentation="strings, upright bass"))
    late = lambda s: sum(abs(n.start % 1 - 0.665) < 0.01 for t in s.tracks for n in t.notes)
    assert late(straight) == 0 and late(swung) > 20  # off-beat eighths delayed a third of an eighth
    programs = {t.role: t.program for t in swung.tracks}
    assert programs["bass"] == 32 and programs.get("pad") == 48  # the words chose the parts' instruments
    assert [n.start for n in swung.melody.notes] == [n.start for n in song.melody.notes]  # the tune keeps its timing
