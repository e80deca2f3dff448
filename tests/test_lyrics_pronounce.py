"""Pronunciation and syllables: CMUdict words, spelling chunks fitted to phonetic syllables, G2P for the rest."""

from __future__ import annotations

import random

import pytest

from tools.lyrics import g2p
from tools.lyrics.pronounce import (ARPABET_VOWELS, cmu_dict, is_known, pronunciations, split_phonemes,
                                    syllabify, syllabify_line, syllable_count)


@pytest.mark.parametrize("word, chunks, stresses", [
    ("driving", ["driv", "ing"], [1, 0]),
    ("lovely", ["love", "ly"], [1, 0]),
    ("create", ["cre", "ate"], [0, 1]),
    ("seeing", ["see", "ing"], [1, 0]),
    ("quiet", ["qui", "et"], [1, 0]),
    ("beautiful", ["beau", "ti", "ful"], [1, 0, 0]),
    ("remember", ["re", "mem", "ber"], [0, 1, 0]),
    ("yesterday", ["yes", "ter", "day"], [1, 0, 2]),
    ("don't", ["don't"], [1]),
    ("runnin'", ["run", "nin'"], [1, 0]),
])
def test_common_words_split_like_a_songbook(word, chunks, stresses):
    sylls = syllabify(word)
    assert [s.text for s in sylls] == chunks
    assert [s.stress for s in sylls] == stresses


def test_chunks_match_cmu_vowel_count_on_a_dictionary_sample():
    words = random.Random(7).sample(sorted(cmu_dict()), 3000)
    for word in words:
        sylls = syllabify(word)
        vowels = sum(1 for p in pronunciations(word)[0] if p[:2] in ARPABET_VOWELS)
        assert "".join(s.text for s in sylls) == word
        assert len(sylls) == max(1, vowels), word
        assert [p for s in sylls for p in s.phonemes] == pronunciations(word)[0]


def test_unknown_words_get_a_pronunciation():
    assert g2p.available()
    for word in ("zorblaxian", "tunesmith", "skrrt", "glimmerous"):
        assert not is_known(word)
        pron = pronunciations(word)[0]
        assert any(p[:2] in ARPABET_VOWELS for p in pron)
        assert "".join(s.text for s in syllabify(word)) == word
    assert syllable_count("zorblaxian") == 4 or syllable_count("zorblaxian") == 3
    assert pronunciations("tunesmith")[0][:3] == ["T", "UW1", "N"]


def test_numbers_and_hyphens():
    assert syllable_count("21") == 3
    assert [s.text for s in syllabify("well-known")] == ["well-", "known"]


def test_line_keeps_apostrophes_and_drops_punctuation():
    words = syllabify_line("Don't stop believin', hold on — to that feelin'!")
    texts = ["".join(s.text for s in w) for w in words]
    assert texts == ["Don't", "stop", "believin'", "hold", "on", "to", "that", "feelin'"]
    assert syllabify_line("...") == []
    assert syllabify("") == [] and syllabify("!!") == []


def test_maximal_onset_split():
    assert split_phonemes(["EH1", "K", "S", "T", "R", "AH0"]) == [("EH1", "K"), ("S", "T", "R", "AH0")]


@pytest.mark.parametrize("word, count", [("café", 2), ("naïve", 2), ("Zoë", 2), ("1000000", 3), ("ok", 2)])
def test_accents_and_numbers(word, count):
    sylls = syllabify(word)
    assert "".join(s.text for s in sylls) == word
    assert len(sylls) == count == syllable_count(word)


def test_line_words_keep_accented_letters():
    assert [w for w in __import__("tools.lyrics.pronounce", fromlist=["words_of"]).words_of("naïve señor, café!")] == \
        ["naïve", "señor", "café"]
