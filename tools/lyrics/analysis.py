"""Analyse lyrics or verse: syllables, stress, rhyme letters, stanza schemes, internal rhymes, meter, singability.

The unit of rhyme scheme is the stanza (lines between blank lines or section tags such as
``[verse]``, ``[Chorus 2]``); letters restart in each stanza, as songwriters and prosody books
write them ("ABAB", "AABB", a sonnet's "ABABCDCDEFEFGG"). A line takes the letter of an earlier line
whose end word rhymes with it perfectly first, else one that slant-rhymes (near or multisyllabic);
repeating the same end word also counts (refrains).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, field

from tools.lyrics.pronounce import is_known, syllabify, words_of
from tools.lyrics.rhymes import rhyme_match
from tools.music.errors import TunesmithError

MAX_CHARS = 50_000
MAX_LINES = 2_000

FUNCTION_WORDS = frozenset(
    "a an the and or but nor so yet of to in on at by for from with as than that this these those if "
    "i me my you your he him his she her it its we us our they them their is am are was were be been "
    "do does did has have had can could will would shall should may might must not no "
    "when where while then there here what who whom which how oh ah".split())

_TAG = re.compile(r"^\s*\[\s*([A-Za-z][A-Za-z \-]*?)\s*(\d*)\s*\]\s*$")
_KIND_ALIASES = {"pre-chorus": "prechorus", "pre chorus": "prechorus", "prechorus": "prechorus", "hook": "chorus",
                 "refrain": "chorus", "chorus": "chorus", "verse": "verse", "bridge": "bridge", "intro": "intro",
                 "outro": "outro", "middle eight": "bridge", "post-chorus": "postchorus", "tag": "outro"}

METERS = {"iambic": "01", "trochaic": "10", "anapestic": "001", "dactylic": "100"}
FEET = {1: "monometer", 2: "dimeter", 3: "trimeter", 4: "tetrameter", 5: "pentameter", 6: "hexameter",
        7: "heptameter", 8: "octameter"}


@dataclass
class LineInfo:
    """One lyric line: its syllables, stresses ("0"/"1" per syllable), end word and rhyme letter."""

    index: int
    text: str
    section: str
    stanza: int
    syllables: int
    stress: str
    end_word: str
    rhyme: str = ""
    internal_rhymes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class StanzaInfo:
    section: str
    kind: str
    lines: list[int]
    scheme: str


@dataclass
class LyricsAnalysis:
    """What `analyze_lyrics` returns: per line facts, per stanza schemes, meter and warnings."""

    lines: list[LineInfo]
    stanzas: list[StanzaInfo]
    meter: str
    meter_fit: float
    warnings: list[str]

    @property
    def schemes(self) -> list[str]:
        return [s.scheme for s in self.stanzas]

    def to_dict(self) -> dict:
        return {"lines": [asdict(l) for l in self.lines], "stanzas": [asdict(s) for s in self.stanzas],
                "schemes": self.schemes, "meter": self.meter, "meter_fit": round(self.meter_fit, 3),
                "warnings": self.warnings}


def section_kind(tag: str) -> str:
    """Normalise a section tag ("Pre-Chorus", "Hook") to a kind ("prechorus", "chorus")."""
    t = tag.strip().lower()
    return _KIND_ALIASES.get(t, t.replace(" ", ""))


# -- stresses -------------------------------------------------------------------------------------
def word_stresses(word: str) -> str:
    """Stress marks for one word as sung: '1' stressed, '0' not; function monosyllables are unstressed."""
    sylls = syllabify(word)
    if not sylls:
        return ""
    if len(sylls) == 1:
        return "0" if word.lower().replace("\u2019", "'") in FUNCTION_WORDS else "1"
    return "".join("1" if s.stress == 1 else "0" for s in sylls)


def line_stress(line: str) -> str:
    return "".join(word_stresses(w) for w in words_of(line))


# -- rhyme letters --------------------------------------------------------------------------------
def _letters(count: int) -> list[str]:
    out = []
    for i in range(count):
        out.append(chr(ord("A") + i) if i < 26 else chr(ord("A") + i // 26 - 1) + chr(ord("A") + i % 26))
    return out


def end_words_rhyme(a: str, b: str, *, slant: bool = True) -> bool:
    """True when two end words rhyme for a listener (same word counts: refrains repeat)."""
    if a.lower() == b.lower():
        return True
    m = rhyme_match(a, b)
    if m is None:
        return False
    if m.kind == "perfect" or (m.kind == "identical" and m.score > 0):
        return True
    return slant and m.kind in ("near", "multisyllabic")


def scheme_of(end_words: list[str]) -> str:
    """Rhyme letters for a stanza's end words, e.g. ["day", "night", "away", "light"] -> "ABAB"."""
    letters: list[str] = []
    names = iter(_letters(len(end_words) + 1))
    for i, word in enumerate(end_words):
        found = None
        if word:
            for slant in (False, True):  # a perfect rhyme beats a slant one
                for j in range(i - 1, -1, -1):
                    if end_words[j] and end_words_rhyme(word, end_words[j], slant=slant):
                        found = letters[j]
                        break
                if found:
                    break
        letters.append(found or next(names))
    return "".join(letters)


def _internal_rhymes(line: str) -> list[tuple[str, str]]:
    words = [w for w in words_of(line) if w.lower() not in FUNCTION_WORDS]
    pairs = []
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            a, b = words[i], words[j]
            if a.lower() == b.lower():
                continue
            m = rhyme_match(a, b)
            if m is not None and m.kind in ("perfect", "multisyllabic"):
                pairs.append((a, b))
    return pairs


# -- meter ----------------------------------------------------------------------------------------
def _fit(stress: str, pattern: str) -> float:
    """Fraction of syllables agreeing with a repeating foot, best over the foot's phase (anacrusis)."""
    if not stress:
        return 0.0
    best = 0.0
    for phase in range(len(pattern)):
        expected = (pattern * (len(stress) // len(pattern) + 2))[phase:phase + len(stress)]
        # an unstressed syllable where a stress is due is common (promotion); a stress on a weak
        # position counts more against the meter
        score = sum(1.0 if e == s else (0.5 if e == "1" else 0.0) for e, s in zip(expected, stress))
        best = max(best, score / len(stress))
    return best


def guess_meter(stresses: list[str]) -> tuple[str, float]:
    """The meter that fits the lines best, with its fit 0..1 ("iambic tetrameter", 0.86); "free verse" under 0.7."""
    lines = [s for s in stresses if len(s) >= 2]
    if not lines:
        return "unknown", 0.0
    scores = {name: statistics.mean(_fit(s, pat) for s in lines) for name, pat in METERS.items()}
    name = max(scores, key=scores.get)
    fit = scores[name]
    if fit < 0.7:
        return "free verse", fit
    foot = len(METERS[name])
    feet = round(statistics.median(len(s) for s in lines) / foot)
    return f"{name} {FEET.get(feet, f'{feet}-foot')}", fit


# -- the analysis ---------------------------------------------------------------------------------
def _validate(text: object) -> str:
    if not isinstance(text, str):
        raise TunesmithError(f"lyrics must be text, got {type(text).__name__}", hint="pass the lyrics as a string")
    if "\x00" in text:
        raise TunesmithError("the lyrics contain binary data", hint="give plain text lyrics")
    if len(text) > MAX_CHARS:
        raise TunesmithError(f"the lyrics are {len(text)} characters; the limit is {MAX_CHARS}",
                             hint="analyse one song at a time")
    if not re.search(r"[A-Za-z]", text):
        raise TunesmithError("no words to analyse", hint="give lyrics with at least one line of words")
    return text


def analyze(text: str) -> LyricsAnalysis:
    """Analyse lyrics: per line syllables/stress/end word/rhyme letter, stanza schemes, meter, warnings.

    Args:
        text: lyrics; blank lines separate stanzas; lines like ``[verse]`` or ``[Chorus 2]`` start sections.

    Raises:
        TunesmithError: not text, empty, binary or too long.
    """
    text = _validate(text)
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(raw_lines) > MAX_LINES:
        raise TunesmithError(f"{len(raw_lines)} lines is more than {MAX_LINES}", hint="analyse one song at a time")
    stanzas: list[tuple[str, str, list[str]]] = []
    section, kind, counts = "", "", {}
    current: list[str] = []

    def close() -> None:
        nonlocal current
        if current:
            stanzas.append((section, kind, current))
        current = []

    for raw in raw_lines:
        tag = _TAG.match(raw)
        if tag:
            close()
            kind = section_kind(tag.group(1))
            counts[kind] = counts.get(kind, 0) + 1
            number = tag.group(2) or (str(counts[kind]) if kind == "verse" else "")
            section = f"{tag.group(1).strip().lower()} {number}".strip()
            continue
        line = raw.strip()
        if not line:
            close()
            continue
        if re.search(r"[A-Za-z0-9]", line):
            current.append(line)
    close()

    lines: list[LineInfo] = []
    infos: list[StanzaInfo] = []
    for s_index, (sec, kind, stanza_lines) in enumerate(stanzas):
        ends = []
        first = len(lines)
        for text_line in stanza_lines:
            words = words_of(text_line)
            stress = line_stress(text_line)
            end = words[-1] if words else ""
            ends.append(end)
            lines.append(LineInfo(len(lines), text_line, sec, s_index, len(stress), stress, end,
                                  internal_rhymes=_internal_rhymes(text_line)))
        scheme = scheme_of(ends)
        for k, letter in enumerate(scheme):
            lines[first + k].rhyme = letter
        infos.append(StanzaInfo(sec, kind, list(range(first, len(lines))), scheme))

    meter, fit = guess_meter([l.stress for l in lines])
    return LyricsAnalysis(lines, infos, meter, fit, _warnings(lines, infos))


def _warnings(lines: list[LineInfo], stanzas: list[StanzaInfo]) -> list[str]:
    """Singability problems a songwriter would fix: uneven line lengths, stress clashes, guessed words."""
    out: list[str] = []
    for st in stanzas:
        counts = [lines[i].syllables for i in st.lines]
        for i in st.lines:
            others = [lines[j].syllables for j in st.lines if j != i]
            if not others:
                continue
            typical = statistics.median(others)
            n = lines[i].syllables
            if n >= typical * 1.5 and n - typical >= 4:
                out.append(f"line {i + 1} has {n} syllables, its neighbours about {typical:g}: hard to fit the same melody")
            elif n <= typical * 0.5 and typical - n >= 4:
                out.append(f"line {i + 1} has only {n} syllables, its neighbours about {typical:g}")
        del counts
    for line in lines:
        if "111" in line.stress:
            out.append(f"line {line.index + 1}: three stressed syllables in a row (stress clash) in {line.text!r}")
        if line.syllables > 16:
            out.append(f"line {line.index + 1} has {line.syllables} syllables: long for one breath")
    unknown = sorted({w for line in lines for w in words_of(line.text) if not is_known(w)})
    if unknown:
        out.append("pronunciation guessed for: " + ", ".join(unknown[:20]))
    return out
