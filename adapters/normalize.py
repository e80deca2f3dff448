"""Value normalisers: turn the words people use into the canonical argument values tools take.

Deterministic on purpose: the model finds *where* a value is (spans, intent); these functions say
*what* it is ("two and a half minutes" → 150, "b flat minor" → "Bb minor", "a hundred bpm" → 100),
so a number is never a guess of the network.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data"

_UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "couple": 2, "dozen": 12, "half": 0.5, "quarter": 0.25,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_NUMBER_WORD = "|".join(sorted(list(_UNITS) + list(_TENS) + ["hundred", "and"], key=len, reverse=True))
_NUM = rf"(?:\d+(?:\.\d+)?|(?:(?:{_NUMBER_WORD})[\s-]*)+)"


@lru_cache(maxsize=1)
def presets() -> dict:
    """The song presets (genres), their aliases and the mood vocabulary, from adapters/data."""
    return json.loads((_DATA / "presets.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _focus_patterns() -> list[tuple[str, re.Pattern]]:
    table = json.loads((_DATA / "caption_focus.json").read_text(encoding="utf-8"))["focus"]
    return [(focus, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I))
            for focus, words in table.items()]


def caption_focus(text: str) -> str | None:
    """The attribute a question about a piece asks for ("what key is it in?" → "key"), the earliest
    named in the text; None for a plain "describe it"."""
    found = [(match.start(), focus) for focus, pattern in _focus_patterns() if (match := pattern.search(text))]
    return min(found)[1] if found else None


def words_to_number(text: str) -> float | None:
    """Parse "90", "2.5", "ninety", "a hundred and twenty", "two and a half" → a number.

    Returns None when the text holds no number.
    """
    text = text.strip().lower().replace("-", " ")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    digit = re.fullmatch(r"(\d+(?:\.\d+)?)\s+and\s+(a\s+)?half", text)
    if digit:
        return float(digit.group(1)) + 0.5
    total, current, seen = 0.0, 0.0, False
    tokens = text.split()
    for index, token in enumerate(tokens):
        if token == "and":
            continue
        if token in ("a", "an"):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            # "a hundred", "a dozen", "a half": the article is not a number; "half an (hour)": nor here
            if (following is not None and following != "and") or seen:
                continue
        if token in ("half", "quarter"):
            fraction = _UNITS[token]
            current = current + fraction if seen else fraction
            seen = True
        elif token in _UNITS:
            current += _UNITS[token]
            seen = True
        elif token in _TENS:
            current += _TENS[token]
            seen = True
        elif token == "hundred":
            current = (current or 1) * 100
            seen = True
        elif token.replace(".", "", 1).isdigit():
            current += float(token)
            seen = True
        else:
            return None
    return total + current if seen else None


def parse_tempo(text: str) -> int | None:
    """A tempo stated in BPM ("90 bpm", "at 120 beats per minute", "tempo 100", "ninety bpm")."""
    low = text.lower()
    match = re.search(rf"({_NUM})\s*(?:bpm|beats?\s*(?:per|a|/)\s*min(?:ute)?|b\.p\.m)", low)
    if not match:
        match = re.search(r"(?:tempo|speed)\s*(?:of|to|at|=|:)?\s*(\d{2,3})\b", low)
    if not match:
        return None
    value = words_to_number(match.group(1))
    if value is None or not 20 <= value <= 320:
        return None
    return int(round(value))


_TONIC_WORD = {"flat": "b", "sharp": "#"}


def parse_key(text: str) -> str | None:
    """A key like "Bb major", "b flat minor", "F# min", "in A", "E-flat major" → "Bb major".

    The tonic is spelled with a capital letter and ``b``/``#``; a bare tonic means major.
    """
    pattern = (r"(?<![a-z])(?:in|key of|key|to)\s+([a-gA-G])(?:\s*-?\s*(flat|sharp)|(b|#|♭|♯))?"
               r"(?:\s*-?\s*(major|minor|maj|min|m)\b)?")
    explicit = (r"(?<![A-Za-z])([A-Ga-g])(?:\s*-?\s*(flat|sharp)|(b|#|♭|♯))?\s*-?\s*"
                r"(major|minor|maj|min)\b")
    low_text = text
    match = re.search(explicit, low_text, flags=re.IGNORECASE)
    if not match:
        match = re.search(pattern, low_text, flags=re.IGNORECASE)
        if match and not match.group(4):
            # "in a" / "to a" is far more often an article than a key: demand a capital or accidental
            if match.group(1).islower() and not (match.group(2) or match.group(3)):
                return None
            after = low_text[match.end():match.end() + 1]
            if after.isalpha():
                return None
    if not match:
        return None
    tonic = match.group(1).upper()
    accidental = ""
    if match.group(2):
        accidental = _TONIC_WORD[match.group(2).lower()]
    elif match.group(3):
        accidental = {"♭": "b", "♯": "#"}.get(match.group(3), match.group(3).lower())
    mode_word = (match.group(4) or "major").lower()
    mode = "minor" if mode_word in ("minor", "min", "m") else "major"
    return f"{tonic}{accidental} {mode}"


_DURATION_UNIT = r"(hours?|hrs?|minutes?|mins?|seconds?|secs?|s\b|m\b|h\b)"


def _unit_seconds(unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("h"):
        return 3600
    if unit.startswith("m"):
        return 60
    return 1


def parse_duration_s(text: str) -> float | None:
    """A duration in seconds: "two and a half minutes" → 150, "1:30" → 90, "45 sec" → 45,
    "a one-minute riff" → 60, "3 min 20 s" → 200, "an hour" → 3600."""
    low = text.lower().replace("½", " and a half")
    clock = re.search(r"\b(\d{1,2}):(\d{2})\b", low)
    if clock and ("min" in low or "long" in low or "length" in low or "duration" in low):
        return float(int(clock.group(1)) * 60 + int(clock.group(2)))
    total = 0.0
    found = False
    for match in re.finditer(rf"({_NUM}(?:\s+and\s+(?:a\s+)?half)?)\s*-?\s*{_DURATION_UNIT}", low):
        value = words_to_number(match.group(1))
        if value is None:
            continue
        total += value * _unit_seconds(match.group(2))
        if re.match(r"\s+and\s+a\s+half\b", low[match.end():]):
            total += 0.5 * _unit_seconds(match.group(2))
        found = True
    half = re.search(r"\bhalf\s+an?\s+(hour|minute)", low)
    if half and not found:
        total += 0.5 * _unit_seconds(half.group(1))
        found = True
    return total if found and total > 0 else None


def parse_minutes(text: str) -> float | None:
    """A duration in minutes ("about 90 minutes" → 90, "an hour and a half" → 90)."""
    low = text.lower()
    seconds = parse_duration_s(low)
    return None if seconds is None else round(seconds / 60.0, 2)


def parse_count(text: str, nouns: str = r"songs?|tracks?|tunes?|pieces?|results?|items?|"
                                        r"rhymes?|words?|matches|options|suggestions|ones?") -> int | None:
    """A count of things: "10 songs", "a dozen tracks", "top five results"."""
    low = text.lower()
    match = re.search(rf"({_NUM})\s+(?:\w+\s+){{0,2}}?(?:{nouns})\b", low)
    if not match:
        match = re.search(rf"\btop\s+({_NUM})\b", low)
    if not match:
        return None
    value = words_to_number(match.group(1))
    if value is None or value < 1 or value != int(value) or value > 1000:
        return None
    return int(value)


def parse_vocals(text: str) -> str | None:
    """female | male | none, from "male singer", "a woman singing", "instrumental", "no vocals"."""
    low = text.lower()
    if re.search(r"\b(instrumental|no (?:vocals?|voice|singing|singer|lyrics)|without (?:vocals?|"
                 r"voice|singing|a singer|lyrics)|vocal-?less)\b", low):
        return "none"
    if re.search(r"\b(female|woman|women|girl|her voice|soprano|alto|lady|she sings)\b", low):
        return "female"
    if re.search(r"\b(male|man|men|guy|boy|his voice|baritone|tenor|he sings)\b", low):
        return "male"
    return None


def parse_rhyme_scheme(text: str) -> str | None:
    """A rhyme scheme in capitals ("ABAB", "AABB", "rhyme scheme abcb")."""
    match = re.search(r"\b([A-F]{4,8})\b", text)
    if match and len(set(match.group(1))) <= 4 and match.group(1)[0] == "A":
        return match.group(1)
    match = re.search(r"(?:rhyme scheme|scheme)\s*(?:of|:|=)?\s*([a-fA-F]{4,8})\b", text)
    if match:
        return match.group(1).upper()
    return None


def parse_rhyme_kind(text: str) -> str | None:
    """perfect | slant | near, when the request says so."""
    low = text.lower()
    for kind in ("perfect", "slant", "near", "multisyllabic", "internal"):
        if re.search(rf"\b{kind}\b", low):
            return kind
    if re.search(r"\b(exact|true)\s+rhymes?\b", low):
        return "perfect"
    if re.search(r"\b(half|imperfect|loose)\s+rhymes?\b", low):
        return "slant"
    return None


def _phrase_regex(phrase: str) -> str:
    return r"(?<![a-z0-9])" + re.escape(phrase).replace(r"\ ", r"[\s-]+") + r"(?![a-z0-9])"


def find_genre(text: str) -> str | None:
    """The first preset genre named in the text, through the alias table (longest match wins)."""
    data = presets()
    low = text.lower()
    names = {name: name for name in data["genres"]}
    names.update(data["genre_aliases"])
    best: tuple[int, int, str] | None = None
    for phrase, preset in names.items():
        match = re.search(_phrase_regex(phrase), low)
        if match:
            candidate = (match.start(), -len(phrase), preset)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def find_mood(text: str) -> str | None:
    """The first mood word of the vocabulary in the text."""
    data = presets()
    low = text.lower()
    best: tuple[int, str] | None = None
    vocabulary = {mood: mood for mood in data["moods"]}
    vocabulary.update(data["mood_aliases"])
    for word, mood in vocabulary.items():
        if word in ("slow", "fast", "heavy", "soft", "light", "epic"):
            continue  # tempo/weight words describe music, but are too often not the mood asked for
        match = re.search(_phrase_regex(word), low)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), mood if word not in data["mood_aliases"] else word)
    return best[1] if best else None


def singular(word: str) -> str:
    """A cheap English singular for search keywords ("hymns" → "hymn", "melodies" → "melody")."""
    low = word.lower()
    if len(low) > 4 and low.endswith("ies"):
        return word[:-3] + "y"
    if len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is", "os", "as")):
        return word[:-1]
    return word


_QUERY_STOP = {"in", "the", "a", "an", "for", "of", "some", "any", "me", "catalogue", "catalog",
               "library", "collection", "database", "please", "our", "my", "that", "are", "is",
               "with", "from", "by", "to", "all", "songs", "song", "tunes", "tune", "music", "pieces",
               "piece", "tracks", "track", "anything", "something", "stuff"}


def normalise_query(span: str) -> str:
    """Search keywords from a span: stop words and catalogue words dropped, nouns singular."""
    words = re.findall(r"[A-Za-z0-9#'&-]+", span)
    kept = [singular(w) if len(w) > 2 else w for w in words if w.lower() not in _QUERY_STOP]
    return " ".join(kept) if kept else span.strip()
