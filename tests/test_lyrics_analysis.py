"""analyze_lyrics on public-domain poems and songs (tests/data/poems) and on lyrics made for the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.lyrics.analysis import analyze, scheme_of
from tools.music.errors import TunesmithError

POEMS = Path(__file__).parent / "data" / "poems"
EXPECTED = json.loads((POEMS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scheme_detection_on_poems(name):
    result = analyze((POEMS / name).read_text(encoding="utf-8"))
    assert result.schemes == EXPECTED[name]["schemes"], EXPECTED[name]["form"]


def test_at_least_ten_poems_of_several_forms():
    assert len(EXPECTED) >= 10
    forms = " ".join(e["form"] for e in EXPECTED.values())
    for form in ("sonnet", "limerick", "ballad", "nursery"):
        assert form in forms


@pytest.mark.parametrize("name, meter", [("sonnet_130.txt", "iambic pentameter"),
                                         ("lear_limerick.txt", "anapestic"),
                                         ("frost_stopping_by_woods.txt", "iambic tetrameter")])
def test_meter_guess(name, meter):
    assert analyze((POEMS / name).read_text()).meter.startswith(meter)


def test_per_line_facts():
    result = analyze((POEMS / "amazing_grace.txt").read_text())
    first = result.lines[0]
    assert first.text == "Amazing grace! How sweet the sound"
    assert first.syllables == 8 and first.stress == "01010101"
    assert first.end_word == "sound" and first.rhyme == "A"
    assert [s.section for s in result.stanzas] == ["verse 1", "verse 2"]
    assert all(s.kind == "verse" for s in result.stanzas)


def test_sections_internal_rhymes_and_warnings():
    text = """[Verse]
The night was bright and the light was white
I walked along the river by the sea

[Chorus]
Oh oh
We will sing and dance and shout and run and play across the field in the pouring rain all day
Stay with me

[Pre-Chorus]
Big red dogs bark loud
"""
    result = analyze(text)
    assert [(s.section, s.kind) for s in result.stanzas] == [("verse 1", "verse"), ("chorus", "chorus"),
                                                             ("pre-chorus", "prechorus")]
    assert ("night", "bright") in result.lines[0].internal_rhymes
    assert any("line 4" in w and "syllables" in w for w in result.warnings)
    assert any("stress clash" in w for w in result.warnings)
    data = result.to_dict()
    assert data["schemes"] == result.schemes and len(data["lines"]) == 6


def test_scheme_of_examples():
    assert scheme_of(["day", "night", "away", "light"]) == "ABAB"
    assert scheme_of(["star", "are", "high", "sky"]) == "AABB"
    assert scheme_of(["lamb", "snow", "went", "go"]) == "ABCB"


def test_unknown_words_are_flagged_but_analysed():
    result = analyze("The zorblaxian sings tonight\nbeneath the glimmerlight")
    assert result.schemes == ["AA"]
    assert any("zorblaxian" in w for w in result.warnings)


@pytest.mark.parametrize("bad", ["", "   \n\n", "1234 ...", "a\x00b", 42, "x" * 60_000])
def test_bad_input(bad):
    with pytest.raises(TunesmithError):
        analyze(bad)
