"""Syllables with stress for the melody, from the lyrics capability's `syllabify`.

`tools.lyrics.pronounce` owns syllabification (CMUdict with a g2p fallback, spelling chunks fitted
to the phonetic syllables); this module only adapts it to what the melody needs and marks
one-syllable function words unstressed, as they are sung.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tools.music.errors import TunesmithError


@dataclass(frozen=True)
class SungSyllableText:
    """One syllable of a lyric word: its spelling chunk and stress (0 none, 1 primary, 2 secondary)."""

    text: str
    stress: int


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")
_FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for from with as is are was were be am i you he she it we they "
    "my your his her its our their me him us them that this these those if so than then there when while "
    "can will would could should do does did has have had not no".split())


def words_of(line: str) -> list[str]:
    return _WORD.findall(line)


@lru_cache(maxsize=1)
def _syllabify():
    try:
        from tools.lyrics.pronounce import syllabify
    except ImportError as error:
        raise TunesmithError("The lyrics capability (tools.lyrics) is missing, so lyrics cannot be set to music",
                             hint="install Tunesmith completely, or use vocals='none'") from error
    return syllabify


@lru_cache(maxsize=8192)
def syllabify_word(word: str) -> tuple[SungSyllableText, ...]:
    """A word's syllables with stress; one-syllable function words count as unstressed."""
    # chunks with no spelling (seen for digits: "42") cannot carry a lyric event: drop them
    result = tuple(SungSyllableText(s.text, int(s.stress)) for s in _syllabify()(word) if s.text.strip())
    if not result:
        result = (SungSyllableText(word, 1),)
    if len(result) == 1 and word.lower() in _FUNCTION_WORDS:
        result = (SungSyllableText(result[0].text, 0),)
    return result


def syllabify_line(line: str) -> list[tuple[str, tuple[SungSyllableText, ...]]]:
    """(word, syllables) for each word of a lyric line."""
    return [(word, syllabify_word(word)) for word in words_of(line)]
