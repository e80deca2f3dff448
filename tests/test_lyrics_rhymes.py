"""Rhyme kinds on a table of word pairs, and find_rhymes ranking, filters, multi-word rhymes and errors."""

from __future__ import annotations

import pytest

from tools.lyrics.rhymes import find_rhymes, rhyme_match, rhymes_with
from tools.music.errors import TunesmithError

PAIRS = [
    ("light", "night", "perfect"),
    ("day", "away", "perfect"),
    ("heart", "apart", "perfect"),
    ("nation", "station", "perfect"),
    ("desire", "fire", "perfect"),
    ("leave", "believe", "identical"),
    ("home", "stone", "near"),
    ("fill", "feel", "near"),
    ("time", "mine", "near"),
    ("make", "pain", "assonance"),
    ("lake", "name", "assonance"),
    ("lake", "fate", "near"),
    ("love", "live", "consonance"),
    ("bold", "build", "consonance"),
    ("orange", "door hinge", "multisyllabic"),
    ("nation", "patience", "multisyllabic"),
]


@pytest.mark.parametrize("a, b, kind", PAIRS)
def test_rhyme_kind_table(a, b, kind):
    match = rhyme_match(a, b)
    assert match is not None and match.kind == kind, (a, b, match)


@pytest.mark.parametrize("a, b", [("cat", "dog"), ("river", "mountain"), ("blue", "green")])
def test_non_rhymes(a, b):
    assert not rhymes_with(a, b)


def test_homophones_and_self_are_not_rhymes():
    assert rhyme_match("right", "write").kind == "identical"
    words = [r.word for r in find_rhymes("right", "perfect", limit=500)]
    assert "write" not in words and "right" not in words and "rite" not in words
    assert "night" in words and "light" in words


def test_perfect_rhymes_ranked_by_frequency():
    found = find_rhymes("heart", "perfect", limit=10)
    assert all(r.kind == "perfect" and r.score == 1.0 for r in found)
    zipfs = [r.zipf for r in found]
    assert zipfs == sorted(zipfs, reverse=True)
    assert {"part", "start", "apart"} <= {r.word for r in found}


def test_all_kinds_rank_perfect_first_and_carry_syllables():
    found = find_rhymes("love", "all", limit=200)
    kinds = [r.kind for r in found]
    assert kinds[0] == "perfect" and "near" in kinds
    assert kinds.index("near") > max(i for i, k in enumerate(kinds) if k == "perfect")
    above = next(r for r in found if r.word == "above")
    assert above.syllables == 2


def test_syllable_filter_and_multiword():
    two = find_rhymes("fire", "perfect", syllables=2, limit=50)
    assert two and all(r.syllables == 2 for r in two)
    multi = find_rhymes("orange", "multisyllabic", limit=1000)
    phrases = {r.word for r in multi if r.multiword}
    assert "door hinge" in phrases


def test_unknown_word_still_rhymes():
    found = find_rhymes("glimmerlight", "perfect", limit=20)
    assert {"night", "light"} & {r.word for r in found}


@pytest.mark.parametrize("word, kind, limit", [("", "all", 10), ("!!", "all", 10), ("love", "slanty", 10),
                                               ("love", "all", 0), ("two words", "all", 10)])
def test_bad_input(word, kind, limit):
    with pytest.raises(TunesmithError):
        find_rhymes(word, kind, limit=limit)
