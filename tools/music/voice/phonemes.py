"""Words → espeak phonemes → syllables split at vowel nuclei.

espeak-ng must never read spelled syllables ("kle" becomes /kliː/), so a whole word is phonemized
and spoken once; its phoneme events are then grouped into as many syllables as the lyric has for
that word, each split at a vowel nucleus. The singer cuts the word's audio at those boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VOWEL_START = set("aeiouAEIOUV03@")
STRESS_MARKS = "',%="


def is_vowel(phoneme: str) -> bool:
    """True for espeak vowel mnemonics ("'aI", "@L", "3:"); stress marks are ignored."""
    core = phoneme.lstrip(STRESS_MARKS)
    return bool(core) and core[0] in VOWEL_START


def is_pause(phoneme: str) -> bool:
    return phoneme.startswith("_") or not phoneme.strip()


@dataclass(frozen=True)
class SyllableSpan:
    """Indices into a word's phoneme list: [start, vowel) onset, [vowel, vowel_end) nucleus, [vowel_end, end) coda."""

    start: int
    vowel: int
    vowel_end: int
    end: int


def split_syllables(phonemes: list[str], count: int) -> list[SyllableSpan]:
    """Group a word's phonemes into ``count`` syllables at vowel nuclei.

    One consonant between nuclei starts the next syllable; of two or more, the first closes the
    syllable before (a plain maximal-onset rule). When the lyric has more syllables than the word
    has nuclei, the last nucleus is shared (the singer holds it); with fewer, nuclei merge.
    """
    count = max(1, count)
    n = len(phonemes)
    nuclei = [i for i, p in enumerate(phonemes) if is_vowel(p)]
    if not nuclei:
        # a word without a vowel ("hmm", "shh"): sing its loudest voiced consonant as the nucleus
        voiced = [i for i, p in enumerate(phonemes) if p.lstrip(STRESS_MARKS)[:1] in set("mnNlrwjvzZD")]
        nuclei = [voiced[0] if voiced else max(0, n - 1)]
    if len(nuclei) > count:
        # merge: keep the first count-1 nuclei, the rest fold into the last syllable
        nuclei = nuclei[: count - 1] + [nuclei[count - 1]]
        merged_last = True
    else:
        merged_last = False
    boundaries = [0]
    for left, right in zip(nuclei, nuclei[1:]):
        consonants = right - left - 1
        boundaries.append(right - consonants if consonants <= 1 else left + 2)
    boundaries.append(n)
    spans: list[SyllableSpan] = []
    for k, vowel in enumerate(nuclei):
        start, end = boundaries[k], boundaries[k + 1]
        vowel_end = vowel + 1
        if merged_last and k == len(nuclei) - 1:
            # extend the nucleus through every later vowel so the coda is only the final consonants
            later = [i for i in range(vowel, end) if is_vowel(phonemes[i])]
            vowel_end = later[-1] + 1
        spans.append(SyllableSpan(start, vowel, vowel_end, end))
    while len(spans) < count:
        last = spans[-1]
        # more lyric syllables than nuclei ("fire" as fi-re): the extra one re-sings the vowel
        spans.append(SyllableSpan(last.vowel, last.vowel, last.vowel_end, last.end))
    return spans


_WORD_CHARS = re.compile(r"[^a-z0-9']+")


def clean_word(text: str) -> str:
    """Lower-case letters, digits and apostrophes only: what espeak should read for a sung word."""
    return _WORD_CHARS.sub("", text.lower().replace("’", "'")).strip("'")
