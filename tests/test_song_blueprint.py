"""Presets, nearest-preset mapping, lyric placement and the blueprint sized to the duration."""

from __future__ import annotations

import json

import pytest

from tools.music.errors import TunesmithError
from tools.music.theory import degree_chord, parse_chord, parse_key
from tools.song.blueprint import SongArgs, make_blueprint
from tools.song.placement import parse_lyrics
from tools.song.presets import all_presets, drum_patterns, load_preset, nearest_preset, note_patterns

REQUIRED = ["pop", "rock", "punk", "folk", "country", "blues", "jazz", "bossa nova", "reggae", "ska", "funk",
            "hip-hop", "lo-fi", "edm", "synthpop", "ballad", "gospel", "waltz", "lullaby", "city pop",
            "chinese folk", "cinematic", "sea shanty"]


def test_every_required_style_has_a_consistent_preset():
    presets = all_presets()
    assert set(REQUIRED) <= set(presets)
    for preset in presets.values():
        for key in ("C major", "F# minor", "Bb major"):
            for bank in preset.chords.values():
                for progression in bank:
                    for numeral in progression:
                        parse_chord(degree_chord(parse_key(key), numeral))
        assert preset.instruments.drums in drum_patterns()
        for role in ("bass", "comp", "comp2", "pad"):
            spec = getattr(preset.instruments, role)
            assert spec is None or spec.pattern in note_patterns(), (preset.name, role)
        assert preset.tempo[0] <= preset.tempo[1]
    assert load_preset("waltz").meter == "3/4"
    assert load_preset("Chinese Folk").scale == "pentatonic"
    with pytest.raises(TunesmithError):
        load_preset("polka-step")


@pytest.mark.parametrize("query,expected", [
    ("bossa nova", "bossa nova"), ("k-pop", "pop"), ("church choir praising the lord", "gospel"),
    ("irish drinking song for sailors", "sea shanty"), ("a tender song to help a baby sleep", "lullaby"),
    ("rapping over a beat", "hip-hop"), ("steel guitar and cowboy boots", "country"),
])
def test_nearest_preset(query, expected):
    match = nearest_preset(query)
    assert match.preset.name == expected
    assert match.method in ("exact", "minilm")


def test_tagged_lyrics_keep_their_sections_and_empty_chorus_tags_repeat():
    sections = parse_lyrics("[Verse 1]\none two\nthree four\n\n[Chorus]\nla di da\n[verse 2]\nfive six\n[chorus]\n")
    assert [s.kind for s in sections] == ["verse", "chorus", "verse", "chorus"]
    assert sections[3].lines == ["la di da"]


def test_untagged_lyrics_split_into_verses_and_a_returning_chorus():
    text = "a b c\nd e f\n\ng h i\nj k l\n\nm n o\np q r"
    sections = parse_lyrics(text)
    assert [s.kind for s in sections] == ["verse", "chorus", "verse", "chorus"]
    assert sections[1].lines == sections[3].lines == ["g h i", "j k l"]
    repeated = parse_lyrics("x y\n\nchorus line\n\nz w\n\nchorus line")
    assert [s.kind for s in repeated] == ["verse", "chorus", "verse", "chorus"]


@pytest.mark.parametrize("text", ["", "   \n ", "1234 !!!", "[kazoo solo]\nla la"])
def test_bad_lyrics_are_refused(text):
    with pytest.raises(TunesmithError):
        parse_lyrics(text)


@pytest.mark.parametrize("genre,duration", [("pop", 30), ("pop", 90), ("pop", 180), ("folk", 60), ("waltz", 45),
                                            ("edm", 120), ("jazz", 75), ("sea shanty", 150)])
def test_blueprint_form_is_sized_to_the_duration(genre, duration):
    blueprint = make_blueprint(SongArgs(genre=genre, duration_s=duration, vocals="none", seed=3))
    assert abs(blueprint.duration_s - duration) <= 0.05 * duration
    kinds = [s.kind for s in blueprint.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro"
    assert "verse" in kinds and (duration < 60 or "chorus" in kinds)
    for section in blueprint.sections:
        assert len(section.chords) == section.bars


def test_blueprint_honours_explicit_arguments_and_round_trips_as_json():
    args = SongArgs(prompt="a happy song", genre="reggae", key="Bb major", tempo_bpm=84, vocals="male",
                    lyrics="[verse]\nsun is shining\n[chorus]\nfeel alright", seed=5)
    blueprint = make_blueprint(args)
    assert (blueprint.key, blueprint.tempo_bpm, blueprint.vocals, blueprint.style) == ("Bb major", 84, "male", "reggae")
    assert blueprint.lyrics_source == "user"
    assert [s.lyrics for s in blueprint.sections if s.lyrics] == [["sun is shining"], ["feel alright"]]
    assert all(parse_chord(c) for s in blueprint.sections for c in s.chords)
    again = make_blueprint(SongArgs(blueprint=json.loads(blueprint.model_dump_json())))
    assert again == blueprint


def test_mood_sets_the_mode_and_an_edited_blueprint_is_validated():
    assert parse_key(make_blueprint(SongArgs(genre="pop", mood="melancholy", seed=1)).key).mode == "minor"
    assert parse_key(make_blueprint(SongArgs(genre="synthpop", mood="happy", seed=1)).key).mode == "major"
    broken = json.loads(make_blueprint(SongArgs(genre="pop", vocals="none")).model_dump_json())
    broken["sections"][0]["chords"][0] = "Hmaj7"
    with pytest.raises(TunesmithError):
        make_blueprint(SongArgs(blueprint=broken))
    with pytest.raises(TunesmithError):
        make_blueprint({"key": "H minor"})
