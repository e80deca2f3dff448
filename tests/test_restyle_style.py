"""An edit re-arranges a song in its own style: the tagged preset (composed or restyled songs),
or for an imported song the nearest preset by meter, tempo and instruments, said in the reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.music.song import Song
from tools.registry import ToolContext
from tools.restyle import EditSongArgs, StyleTransferArgs, edit_song, restyle_song
from tools.restyle.edit import EditFields, apply_fields, change_energy
from tools.restyle.sections import beat_range, resolve
from tools.restyle.sources import load_source
from tools.restyle.style import SongStyle, guess_style, song_style
from tools.song.presets import load_preset


def _corpus(tmp_path: Path, name: str, bars: int) -> Path:
    from music21 import corpus

    path = tmp_path / (name.replace("/", "_") + ".musicxml")
    corpus.parse(name).measures(0, bars).write("musicxml", fp=str(path))
    return path


@pytest.fixture(scope="module")
def folk() -> Song:
    from tools.song import compose_song, make_blueprint

    lyrics = "[verse]\nwe walk along the shore\n[chorus]\nhold on to me\n"
    return compose_song(make_blueprint({"lyrics": lyrics, "genre": "folk", "seed": 3, "tempo_bpm": 100}), seed=3)


def _as(name: str) -> SongStyle:
    return SongStyle(preset=load_preset(name), method="tag", reason="test")


def _band(song: Song) -> list:
    return sorted((t.role, t.program, n.pitch, n.start, n.velocity) for t in song.tracks for n in t.notes)


def test_tagged_song_keeps_its_style_through_midi(folk, tmp_path):
    """A folk song written to MIDI and edited keeps the folk band (not pop's)."""
    path = tmp_path / "folk.mid"
    folk.to_midi(path)
    loaded = load_source(ToolContext(workdir=tmp_path), str(path)).song
    style = song_style(loaded)
    assert style.method == "tag" and style.preset.name == "folk"
    result = edit_song(EditSongArgs(source=str(path), section="chorus", energy="+"), ToolContext(workdir=tmp_path / "e"))
    assert "as folk (the song's style)" in result.summary
    target = resolve(loaded, "chorus")
    assert _band(result.song) == _band(change_energy(loaded, target, 1, style=_as("folk")))
    assert _band(result.song) != _band(change_energy(loaded, target, 1, style=_as("pop")))  # the old default


def test_restyled_song_edits_in_its_new_style(folk):
    jazz, _ = restyle_song(folk, StyleTransferArgs(source="-", target_style="jazz"))
    assert song_style(jazz).preset.name == "jazz"
    target = resolve(jazz, "chorus")
    edited, changes = apply_fields(jazz, target, EditFields(energy=1))
    assert "as jazz (the song's style)" in changes[0]
    assert _band(edited) == _band(change_energy(jazz, target, 1, style=_as("jazz")))
    assert _band(edited) != _band(change_energy(jazz, target, 1, style=_as("pop")))


@pytest.mark.parametrize("name, bars, expected", [
    ("schumann_robert/opus41no1/movement2", 8, "waltz"),  # 6/8 string quartet: the triple pulse decides
    ("mozart/k80/movement4", 8, "cinematic"),  # strings in duple time: the string band
    ("bach/bwv66.6", 8, "pop"),  # four piano voices, no drums: nothing beats the default
])
def test_imported_scores_get_the_nearest_preset(tmp_path, name, bars, expected):
    song = load_source(ToolContext(workdir=tmp_path), str(_corpus(tmp_path, name, bars))).song
    assert not song.style_tags
    style = song_style(song)
    assert style.method == "guess" and style.preset.name == expected, style.reason
    assert song.meter in style.reason and "no style tag" in style.reason
    assert guess_style(song) == style  # deterministic


def test_imported_song_made_bigger_keeps_its_own_parts(tmp_path):
    """The chorale's inner voices stay (louder) in the edited section; the band adds what it lacks."""
    path = _corpus(tmp_path, "bach/bwv66.6", 8)
    song = load_source(ToolContext(workdir=tmp_path), str(path)).song
    result = edit_song(EditSongArgs(source=str(path), section="verse 1", energy="+"), ToolContext(workdir=tmp_path / "e"))
    assert "guessed" in result.summary and "as pop" in result.summary
    edited = result.song
    a, b = beat_range(song, song.find_section("verse 1"))
    for before in song.tracks:
        after = next(t for t in edited.tracks if t.name == before.name and t.program == before.program)
        old = [n for n in before.notes if a <= n.start < b]
        new = [n for n in after.notes if a <= n.start < b]
        assert [(n.pitch, n.start) for n in new] == [(n.pitch, n.start) for n in old] != []
        assert all(m.velocity >= n.velocity for m, n in zip(new, old)) and sum(m.velocity for m in new) > sum(
            n.velocity for n in old)
    added = {t.role for t in edited.tracks} - {t.role for t in song.tracks}
    assert {"bass", "drums"} <= added


def test_flute_added_to_an_instrumental_doubles_the_melody(tmp_path):
    song = load_source(ToolContext(workdir=tmp_path), str(_corpus(tmp_path, "bach/bwv66.6", 8))).song
    edited, changes = apply_fields(song, resolve(song, "verse 1"), EditFields(add=["flute"]))
    flute = next(t for t in edited.tracks if t.program == 73)
    a, b = beat_range(song, song.find_section("verse 1"))
    assert [(n.pitch, n.start) for n in flute.notes] == [(n.pitch, n.start) for n in song.melody.notes if a <= n.start < b]
    assert "as pop (guessed" in changes[0]
