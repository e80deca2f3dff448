"""edit_song: section addressing, every edit field, audio identity of untouched sections, the
version tree (undo to the parent) and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.registry import ToolContext
from tools.restyle.diff import compare_songs
from tools.restyle.edit import EditFields, apply_fields, parse_instruction
from tools.restyle.tools import edit_fields_of
from tools.restyle.render import RING_S, render_sections
from tools.restyle.sections import beat_range, resolve

LYRICS = ("[verse]\nthe road is long tonight\nthe lights are burning low\n"
          "[chorus]\nsing it out loud\nsing it all night long\n")


@pytest.fixture(scope="module")
def song() -> Song:
    from tools.song import compose_song, make_blueprint

    blueprint = make_blueprint({"prompt": "a night drive", "lyrics": LYRICS, "genre": "pop", "seed": 1,
                                "tempo_bpm": 120})
    return compose_song(blueprint, seed=1)


def _notes_in(song: Song, name: str, track_filter=lambda t: True) -> list:
    a, b = beat_range(song, song.find_section(name))
    return sorted((t.name, n.pitch, round(n.start - a, 3), n.velocity) for t in song.tracks if track_filter(t)
                  for n in t.notes if a <= n.start < b)


def test_addresses(song):
    assert resolve(song, "chorus").names == ["chorus"]
    assert resolve(song, "chorus 1").names == ["chorus"]
    assert resolve(song, "the intro").names == ["intro"]
    target = resolve(song, "verse line 2")
    assert target.names == ["verse"] and target.line == 1
    assert len(resolve(song, None).sections) == len(song.sections)
    with pytest.raises(TunesmithError) as error:
        resolve(song, "bridge 3")
    assert "intro" in str(error.value) and "chorus" in str(error.value)  # lists the sections
    with pytest.raises(TunesmithError):
        resolve(song, "verse line 9")
    with pytest.raises(TunesmithError):
        resolve(Song(), "chorus")  # empty song


def test_instruction_words(song):
    fields = parse_instruction("make it bigger and add strings, without drums, 2 bars longer, in E minor", song)
    assert fields.energy > 0 and fields.add == ["strings"] and fields.remove == ["drums"]
    assert fields.bars == 2 and fields.key == "E minor"
    assert parse_instruction("a bit faster", song).tempo_bpm == pytest.approx(132.0)
    assert parse_instruction("softer", song).energy < 0


def test_energy_changes_only_the_chorus(song):
    edited, changes = apply_fields(song, resolve(song, "chorus"), EditFields(energy=1))
    assert changes and edited.find_section("chorus").energy > song.find_section("chorus").energy
    for name in ("intro", "verse", "outro"):
        assert _notes_in(edited, name) == _notes_in(song, name)
    before = _notes_in(song, "chorus")
    after = _notes_in(edited, "chorus")
    assert after != before
    assert np.mean([n[3] for n in after]) > np.mean([n[3] for n in before]) or len(after) > len(before)
    assert edited.melody.notes == song.melody.notes


def test_add_and_remove_instruments(song):
    added, _ = apply_fields(song, resolve(song, "chorus"), EditFields(add=["strings"]))
    strings = [t for t in added.tracks if t.program == 48]
    assert strings and strings[0].notes
    a, b = beat_range(added, added.find_section("chorus"))
    assert all(a <= n.start < b for n in strings[0].notes)
    removed, _ = apply_fields(song, resolve(song, "chorus"), EditFields(remove=["drums"]))
    assert _notes_in(removed, "chorus", lambda t: t.is_drum) == []
    assert _notes_in(removed, "verse", lambda t: t.is_drum) == _notes_in(song, "verse", lambda t: t.is_drum) != []
    with pytest.raises(TunesmithError):
        apply_fields(song, resolve(song, "chorus"), EditFields(add=["theremin-kazoo"]))


def test_bars_extend_and_shorten(song):
    longer, _ = apply_fields(song, resolve(song, "chorus"), EditFields(bars=2))
    chorus, outro = longer.find_section("chorus"), longer.find_section("outro")
    assert chorus.bars == song.find_section("chorus").bars + 2 and len(chorus.chords) == chorus.bars
    assert outro.start_bar == song.find_section("outro").start_bar + 2
    assert _notes_in(longer, "outro") == _notes_in(song, "outro")  # moved, unchanged
    shorter, _ = apply_fields(song, resolve(song, "chorus"), EditFields(bars=-1))
    assert shorter.find_section("chorus").bars == song.find_section("chorus").bars - 1
    assert _notes_in(shorter, "outro") == _notes_in(song, "outro")
    with pytest.raises(TunesmithError):
        apply_fields(song, resolve(song, "chorus"), EditFields(bars=-40))


def _sung_words(song: Song, line: int) -> str:
    text = "".join((n.syllable or "") + ("" if (n.syllable or "").endswith("-") else " ")
                   for n in sorted(song.melody.notes, key=lambda n: n.start) if n.line == line and n.syllable)
    return text.replace("- ", "").replace("-", "").strip()


def test_lyrics_line_replacement_and_rewrite(song):
    edited, _ = apply_fields(song, resolve(song, "verse line 2"), EditFields(lyrics="the stars are shining bright"))
    index = song.lyric_lines().index(song.find_section("verse").lyrics[1])
    assert edited.lyric_lines()[index] == "the stars are shining bright"
    assert _sung_words(edited, index).replace(" ", "") == "thestarsareshiningbright"
    assert _sung_words(edited, 0) == _sung_words(song, 0)  # other lines untouched
    rewritten, _ = apply_fields(song, resolve(song, "chorus line 1"), EditFields(lyrics="rewrite"))
    chorus_line = song.lyric_lines().index(song.find_section("chorus").lyrics[0])
    assert rewritten.lyric_lines()[chorus_line] != song.lyric_lines()[chorus_line]
    assert _sung_words(rewritten, chorus_line)


def test_key_and_tempo(song):
    edited, _ = apply_fields(song, resolve(song, "chorus"), EditFields(key="B minor"))
    assert edited.find_section("chorus").chords != song.find_section("chorus").chords
    assert edited.find_section("verse").chords == song.find_section("verse").chords
    faster, _ = apply_fields(song, resolve(song, None), EditFields(tempo_bpm=140))
    assert faster.tempo_bpm == 140 and faster.melody.notes == song.melody.notes


def test_untouched_sections_render_identically(song):
    full = render_sections(song, vocals="female")
    edited, _ = apply_fields(song, resolve(song, "chorus"), EditFields(energy=1))
    edit = render_sections(edited, vocals="female", gain_db=full.gain_db)  # an edit keeps its parent's master gain
    assert edit.rendered == ["chorus"] and set(edit.reused) == {"intro", "verse", "outro"}
    chorus_start = full.segment_starts["chorus"]
    outro_start = full.segment_starts["outro"]
    ring = int(RING_S * 44100)
    assert np.array_equal(full.audio[:chorus_start], edit.audio[:chorus_start])  # sample-exact
    assert np.array_equal(full.audio[outro_start + ring:], edit.audio[outro_start + ring:])
    a, b = full.audio[outro_start:].ravel(), edit.audio[outro_start:].ravel()
    assert np.corrcoef(a, b)[0, 1] >= 0.99
    assert not np.array_equal(full.audio[chorus_start:outro_start], edit.audio[chorus_start:outro_start])


def test_edit_tool_versions_and_undo(song, tmp_path):
    from agent.store import Store
    from tools.config import settings
    from tools.restyle import EditSongArgs, edit_song

    store = Store(settings().home)
    parent = store.add_artifact(kind="song", summary="original", song=song, tool="text_to_song")
    ctx = ToolContext(workdir=tmp_path / "edit", artifacts=store)
    result = edit_song(EditSongArgs(source=parent.id, section="chorus", instruction="bigger"), ctx)
    assert result.parent_id == parent.id and result.song is not None
    assert (tmp_path / "edit" / "song.wav").is_file() and "chorus" in result.summary
    child = store.add_artifact(kind="song", summary=result.summary, song=result.song, parent_id=result.parent_id)
    tree = store.version_tree(child.id)
    assert [(node, up) for node, up, _ in tree] == [(parent.id, None), (child.id, parent.id)]
    undone = store.song_of(store.lineage(child.id)[-2])  # undo: the parent version, unchanged
    assert undone == song
    diff = compare_songs(undone, result.song)
    assert list(diff["sections_changed"]) == ["chorus"] and "verse" in diff["unchanged_sections"]
    with pytest.raises(TunesmithError):
        edit_song(EditSongArgs(source=parent.id, section="chorus", instruction="hmm"), ctx)


def test_bad_sources(tmp_path):
    from tools.restyle import EditSongArgs, StyleTransferArgs, edit_song, style_transfer

    text = tmp_path / "notes.txt"
    text.write_text("not music at all")
    ctx = ToolContext(workdir=tmp_path / "out")
    with pytest.raises(TunesmithError):
        style_transfer(StyleTransferArgs(source=str(text), target_style="jazz"), ctx)
    with pytest.raises(TunesmithError):
        edit_song(EditSongArgs(source=str(tmp_path / "missing.mid"), section="chorus", instruction="bigger"), ctx)
    empty = tmp_path / "empty.mid"
    Song(title="empty").to_midi(empty)
    with pytest.raises(TunesmithError):
        style_transfer(StyleTransferArgs(source=str(empty), target_style="jazz"), ctx)


def test_planner_style_arguments(song):
    """The planner's argument builders say energy "up", name one instrument as a string, and use
    ordinal section words: the tool accepts them."""
    from tools.restyle import EditSongArgs

    args = EditSongArgs.model_validate({"source": "x", "section": "last chorus", "energy": "up", "add": "strings"})
    assert args.energy == "+" and args.add == ["strings"]
    assert resolve(song, "first verse").names == ["verse"] and resolve(song, "last chorus").names == ["chorus"]
    with pytest.raises(TunesmithError):
        resolve(song, "second bridge")


def test_versions_are_mastered_and_edits_keep_the_parents_gain(song, tmp_path):
    """A restyle is mastered to −14 LUFS like render_song; an edit of it keeps its master gain, so
    the written WAVs agree sample for sample outside the edited section and its ring-out."""
    import soundfile

    from agent.store import Store
    from tools.config import settings
    from tools.music.mix import integrated_loudness
    from tools.restyle import EditSongArgs, StyleTransferArgs, edit_song, style_transfer

    store = Store(settings().home)
    short = song.model_copy(update={"sections": [s for s in song.sections if s.name in ("verse", "chorus", "outro")]})
    first = short.sections[0].start_bar
    short = short.model_copy(update={
        "sections": [s.model_copy(update={"start_bar": s.start_bar - first}) for s in short.sections],
        "melody": short.melody.model_copy(update={"notes": [n.model_copy(update={"start": n.start - first * 4})
                                                            for n in short.melody.notes if n.start >= first * 4]}),
        "tracks": [t.model_copy(update={"notes": [n.model_copy(update={"start": n.start - first * 4})
                                                 for n in t.notes if n.start >= first * 4]}) for t in short.tracks]})
    origin = store.add_artifact(kind="song", summary="original", song=short, tool="text_to_song")
    restyled = style_transfer(StyleTransferArgs(source=origin.id, target_style="folk", vocals="none"),
                              ToolContext(workdir=tmp_path / "r", artifacts=store))
    master = restyled.data["manifest"]["master"]
    assert master["gain_from"] == "this version" and abs(master["lufs"] + 14) <= 0.3
    parent = store.add_artifact(kind="song", summary=restyled.summary, song=restyled.song, files=restyled.files,
                                parent_id=origin.id, tool="style_transfer")
    edited = edit_song(EditSongArgs(source=parent.id, section="chorus", energy="-"),
                       ToolContext(workdir=tmp_path / "e", artifacts=store))
    assert edited.data["manifest"]["master"]["gain_from"] == "parent"
    assert edited.data["manifest"]["master"]["gain_db"] == master["gain_db"]
    assert edited.data["manifest"]["render"]["rendered_sections"] == ["chorus"]
    before, rate = soundfile.read(tmp_path / "r" / "song.wav", dtype="int16")
    after, _ = soundfile.read(tmp_path / "e" / "song.wav", dtype="int16")
    chorus = edited.song.find_section("chorus")
    start = int(round(short.beats_to_seconds(chorus.start_bar * 4) * rate))
    end = int(round(short.beats_to_seconds(chorus.end_bar * 4) * rate)) + int(RING_S * rate)
    assert np.array_equal(before[:start], after[:start]) and np.array_equal(before[end:], after[end:])
    assert not np.array_equal(before[start:end], after[start:end])
    quieter = integrated_loudness(after[start:end].astype(np.float32) / 32768, rate)
    assert quieter < integrated_loudness(before[start:end].astype(np.float32) / 32768, rate)  # not normalised away


def test_energy_down_thins_only_the_chorus(song):
    edited, changes = apply_fields(song, resolve(song, "chorus"), EditFields(energy=-2))
    assert "energy down in chorus" in changes[0]
    assert edited.find_section("chorus").energy == pytest.approx(song.find_section("chorus").energy - 0.5)
    for name in ("intro", "verse", "outro"):
        assert _notes_in(edited, name) == _notes_in(song, name)
    before, after = _notes_in(song, "chorus"), _notes_in(edited, "chorus")
    assert len(after) < len(before) or sum(n[3] for n in after) < sum(n[3] for n in before), (len(before), len(after))
    assert edited.melody.notes == song.melody.notes  # the tune and its words stay


def test_bad_edit_input(song, tmp_path):
    from tools.restyle import EditSongArgs, edit_song

    ctx = ToolContext(workdir=tmp_path / "out")
    empty = tmp_path / "song.json"
    empty.write_text(Song(title="nothing").to_json())
    with pytest.raises(TunesmithError, match="empty"):
        edit_song(EditSongArgs(source=str(empty), section="chorus", energy="+"), ctx)
    with pytest.raises(TunesmithError, match="empty"):
        apply_fields(song, resolve(song, "verse line 1"), EditFields(lyrics="  \n "))
    with pytest.raises(TunesmithError, match="one section"):
        apply_fields(song, resolve(song, None), EditFields(bars=2))
    with pytest.raises(TunesmithError, match="No part matches"):
        apply_fields(song, resolve(song, "chorus"), EditFields(remove=["theremin"]))
    with pytest.raises(TunesmithError, match="invalid"):
        edit_fields_of(EditSongArgs(source="x", key="H major"), song)
    with pytest.raises(ValueError):
        EditSongArgs(source="x", tempo_bpm=500)  # outside 40..220: refused before anything runs


def test_vocals_field_makes_an_instrumental_that_stays_one(song, tmp_path):
    from tools.restyle import EditSongArgs, edit_song
    from tools.restyle.style import vocals_of

    path = tmp_path / "song.json"
    path.write_text(song.to_json())
    result = edit_song(EditSongArgs(source=str(path), vocals="none"), ToolContext(workdir=tmp_path / "out"))
    assert "vocals: none" in result.summary.lower() and result.data["manifest"]["vocals"] == "none"
    assert "none vocals" in result.song.style_tags and vocals_of(result.song) == "none"  # later edits do not sing
    assert result.song.melody.notes == song.melody.notes  # the tune stays, played instead of sung
