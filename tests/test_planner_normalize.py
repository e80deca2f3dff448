"""Value normalisers: numbers, keys, durations and names in the words people use."""

from __future__ import annotations

import pytest

from adapters import normalize as nz


@pytest.mark.parametrize("text, seconds", [
    ("two and a half minutes", 150), ("around 2 and a half minutes", 150), ("a one-minute riff", 60),
    ("3 min 20 s", 200), ("45 sec", 45), ("ninety seconds", 90), ("an hour and a half", 5400),
    ("half an hour", 1800), ("a minute and a half", 90), ("four and a half minutes", 270),
    ("1:30 long", 90), ("no length here", None),
])
def test_durations_in_words(text, seconds):
    assert nz.parse_duration_s(text) == seconds


@pytest.mark.parametrize("text, key", [
    ("folk song, 100 bpm, G major", "G major"), ("b flat minor please", "Bb minor"),
    ("in F# min", "F# minor"), ("E-flat major", "Eb major"), ("transpose it to G minor", "G minor"),
    ("key of D", "D major"), ("synthpop, f sharp minor", "F# minor"), ("in Ab major", "Ab major"),
    ("in a happy mood", None), ("make a song", None), ("C-sharp minor ballad", "C# minor"),
])
def test_keys_spell_flats_and_sharps(text, key):
    assert nz.parse_key(text) == key


@pytest.mark.parametrize("text, bpm", [
    ("90 bpm", 90), ("at 128BPM", 128), ("ninety bpm", 90), ("a hundred and twenty bpm", 120),
    ("ninety five bpm", 95), ("tempo 100", 100), ("120 beats per minute", 120), ("bpm please", None),
    ("9000 bpm", None),
])
def test_tempos(text, bpm):
    assert nz.parse_tempo(text) == bpm


def test_counts_minutes_vocals_and_schemes():
    assert nz.parse_count("give me 10 songs for a bath") == 10
    assert nz.parse_count("a dozen tracks") == 12
    assert nz.parse_count("top five results") == 5
    assert nz.parse_count("build me a workout playlist, twenty songs") == 20
    assert nz.parse_minutes("about 90 minutes") == 90
    assert nz.parse_minutes("an hour of music") == 60
    assert nz.parse_vocals("with a male singer") == "male"
    assert nz.parse_vocals("sung by a woman") == "female"
    assert nz.parse_vocals("instrumental rock riff") == "none"
    assert nz.parse_rhyme_scheme("rhyme scheme ABCB") == "ABCB"
    assert nz.parse_rhyme_scheme("rhyme scheme abab please") == "ABAB"


def test_genres_map_to_presets_and_every_preset_is_reachable():
    assert nz.find_genre("make me a hip hop track") == "hip-hop"
    assert nz.find_genre("lofi beat for studying") == "lo-fi"
    assert nz.find_genre("a dreamy synthwave tune") == "synthpop"
    assert nz.find_genre("bossanova about a cafe") == "bossa nova"
    assert nz.find_genre("a song about my day") is None
    # a compound names its own preset: the brief's own request is folk, not the "indie" → pop alias
    assert nz.find_genre("a melancholy indie-folk song about driving home after a night shift") == "folk"
    assert nz.find_genre("an indie pop song") == "pop"
    for preset in nz.presets()["genres"]:
        assert nz.find_genre(f"a {preset} song") == preset
    assert set(nz.presets()["genre_aliases"].values()) <= set(nz.presets()["genres"])


def test_query_keywords():
    assert nz.normalise_query("hymns in G major") == "hymn G major"
    assert nz.normalise_query("reels in the catalogue") == "reel"


@pytest.mark.parametrize("text, focus", [
    ("what key is it in?", "key"), ("is it major or minor?", "key"), ("how fast is this one", "tempo"),
    ("what's the time signature", "meter"), ("what are the chords?", "chords"), ("who plays on it", "instruments"),
    ("what's the mood like", "mood"), ("describe the form", "structure"), ("how loud is it", "loudness"),
    ("what key and tempo is it in", "key"), ("describe it", None), ("tell me about this file", None),
])
def test_caption_focus(text, focus):
    assert nz.caption_focus(text) == focus
