"""Attribute filters parsed from the words of a query ("Irish reel in D major", "slow minor air").

Hard filters (key, mode, meter, collection or region, genre, instrument, words present) narrow the
candidates; tempo and length words are soft (catalogue tempos are often estimates) and only nudge
the ranking. Explicit filters given as arguments override what the words say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from tools.music.errors import TunesmithError
from tools.music.theory import note_name_to_pc, parse_meter

from retrieval.corpus_source import _DANCE_WORDS
from retrieval.describe import data_file
from retrieval.track import MODE_FAMILY

_MODES = ("major", "minor", "dorian", "mixolydian", "lydian", "phrygian", "aeolian", "ionian")
_KEY_RE = re.compile(r"\b([A-Ga-g])(?:\s*(#|♯|b|♭|-sharp|-flat|\s+sharp|\s+flat))?\s+(" + "|".join(_MODES) + r")\b")
_GENRE_WORDS = {**{w: w for w in _DANCE_WORDS}, "chorale": "chorale", "chorales": "chorale", "madrigal": "madrigal",
                "madrigals": "madrigal", "mass": "mass movement", "masses": "mass movement", "folk song": "folk song",
                "folksong": "folk song", "string quartet": "string quartet", "airs": "air", "reels": "reel",
                "jigs": "jig", "hornpipes": "hornpipe", "marches": "march", "waltzes": "waltz"}
_INSTRUMENT_WORDS = {"choir": "choir", "choral": "choir", "voices": "choir", "vocal": "choir", "singers": "choir",
                     "violin": "strings", "violins": "strings", "fiddle": "fiddle", "strings": "strings", "string": "strings",
                     "piano": "piano", "organ": "organ", "flute": "woodwinds", "woodwind": "woodwinds",
                     "horn": "brass", "brass": "brass", "trumpet": "brass", "guitar": "guitar", "keyboard": "keyboard"}


@dataclass
class QueryFilters:
    """What a query asks for besides its free text. ``None`` means "not asked"."""

    tonic_pc: int | None = None
    mode: str | None = None
    meter: str | None = None
    meter_class: str | None = None
    collections: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    genres: set[str] = field(default_factory=set)
    instruments: set[str] = field(default_factory=set)
    lyrics: bool | None = None
    tempo_min: float | None = None
    tempo_max: float | None = None
    max_seconds: float | None = None
    min_seconds: float | None = None

    def hard_count(self) -> int:
        return sum(1 for value in (self.tonic_pc, self.mode, self.meter, self.meter_class, self.lyrics) if value is not None) + \
            sum(1 for value in (self.collections or self.regions, self.genres, self.instruments) if value)

    def describe(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, set()):
                out[f.name] = sorted(value) if isinstance(value, set) else value
        return out


def _sign(accidental: str | None) -> str:
    if not accidental:
        return ""
    accidental = accidental.strip().lstrip("-")
    return "#" if accidental in ("#", "♯", "sharp") else "b"


def parse_query(text: str) -> QueryFilters:
    """Filters named by the words of ``text``."""
    filters = QueryFilters()
    lowered = " " + (text or "").lower().replace("’", "'") + " "
    mode_only = re.search(r"\ban?\s+(major|minor)\s+(key|mode|tonality)\b", lowered)
    if mode_only:
        filters.mode = mode_only.group(1)
        lowered = lowered.replace(mode_only.group(0), " ")
    match = _KEY_RE.search(lowered)
    if match:
        letter, accidental, mode = match.groups()
        filters.tonic_pc = note_name_to_pc(letter.upper() + _sign(accidental))
        filters.mode = {"aeolian": "minor", "ionian": "major"}.get(mode, mode)
        lowered = lowered.replace(match.group(0), " ")
    if filters.mode is None:
        for mode in _MODES:
            if re.search(rf"\b{mode}\b", lowered):
                filters.mode = {"aeolian": "minor", "ionian": "major"}.get(mode, mode)
                break
        if filters.mode is None and re.search(r"\bmodal\b", lowered):
            filters.mode = "modal"
    meter = re.search(r"\b(\d{1,2})\s*/\s*(\d{1,2})\b", lowered)
    if meter:
        filters.meter = f"{int(meter.group(1))}/{int(meter.group(2))}"
    elif re.search(r"\b(triple (time|meter|metre)|three[- ]four|in three)\b", lowered):
        filters.meter_class = "triple"
    elif re.search(r"\bcompound (time|meter|metre)\b", lowered):
        filters.meter_class = "compound"
    for collection, info in data_file("collections.json").items():
        if collection.startswith("_"):
            continue
        for word in info.get("words", []):
            if re.search(rf"(?<![\w']){re.escape(word)}(?![\w'])", lowered):
                if word == info["region"].lower() or word in ("irish", "scottish", "scots"):
                    filters.regions.add(info["region"])
                else:
                    filters.collections.add(collection)
    for word, genre in sorted(_GENRE_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{re.escape(word)}\b", lowered):
            if genre == "air" and re.search(r"\b(on|in|open)\s+air\b", lowered):
                continue
            if not any(genre in g for g in filters.genres):
                filters.genres.add(genre)
    for word, family in _INSTRUMENT_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            filters.instruments.add(family)
    if re.search(r"\b(with (lyrics|words|text)|sung|texted|singing)\b", lowered):
        filters.lyrics = True
    elif re.search(r"\b(instrumental|without (lyrics|words)|no (lyrics|words))\b", lowered):
        filters.lyrics = False
    bpm = re.search(r"\b(\d{2,3})\s*(?:-|to|and)\s*(\d{2,3})\s*bpm\b", lowered)
    single = re.search(r"\b(under|below|over|above|around|about|at)?\s*(\d{2,3})\s*bpm\b", lowered)
    if bpm:
        filters.tempo_min, filters.tempo_max = sorted((float(bpm.group(1)), float(bpm.group(2))))
    elif single:
        value, word = float(single.group(2)), single.group(1)
        if word in ("under", "below"):
            filters.tempo_max = value
        elif word in ("over", "above"):
            filters.tempo_min = value
        else:
            filters.tempo_min, filters.tempo_max = value - 10, value + 10
    elif re.search(r"\bvery (fast|quick)\b", lowered):
        filters.tempo_min = 160.0
    elif re.search(r"\b(fast|quick|lively|upbeat|energetic|brisk)\b", lowered):
        filters.tempo_min = 120.0
    elif re.search(r"\b(slow|slowly|calm|gentle|relaxed)\b", lowered):
        filters.tempo_max = 80.0
    elif re.search(r"\b(moderate|medium tempo)\b", lowered):
        filters.tempo_min, filters.tempo_max = 80.0, 120.0
    if re.search(r"\bshort\b", lowered):
        filters.max_seconds = 45.0
    elif re.search(r"\blong\b", lowered):
        filters.min_seconds = 90.0
    return filters


def merge_filters(parsed: QueryFilters, explicit: dict | None) -> QueryFilters:
    """Explicit filter arguments (``{"key": "D major", "meter": "6/8", "collection": "bach"}``) win."""
    if not explicit:
        return parsed
    from tools.music.theory import parse_key

    for name, value in explicit.items():
        if value in (None, ""):
            continue
        if name == "key":
            key = parse_key(str(value))
            parsed.tonic_pc, parsed.mode = key.tonic, key.mode
        elif name == "mode":
            if str(value) not in (*MODE_FAMILY, "modal"):
                raise TunesmithError(f"Mode {value!r} is unknown; use major, minor, dorian, mixolydian or modal")
            parsed.mode = str(value)
        elif name == "meter":
            numerator, denominator = parse_meter(str(value))
            parsed.meter = f"{numerator}/{denominator}"
        elif name in ("collection", "collections"):
            values = value if isinstance(value, (list, tuple, set)) else [value]
            known = {k for k in data_file("collections.json") if not k.startswith("_")}
            for item in values:
                if item not in known:
                    raise TunesmithError(f"Collection {item!r} is unknown", hint="known: " + ", ".join(sorted(known)))
            parsed.collections = set(values)
        elif name in ("genre", "genres"):
            parsed.genres = set(value if isinstance(value, (list, tuple, set)) else [value])
        elif name in ("instrument", "instruments"):
            parsed.instruments = set(value if isinstance(value, (list, tuple, set)) else [value])
        elif name == "lyrics":
            parsed.lyrics = bool(value)
        elif name == "tempo_min":
            parsed.tempo_min = float(value)
        elif name == "tempo_max":
            parsed.tempo_max = float(value)
        elif name == "region":
            parsed.regions = {str(value)}
        else:
            raise TunesmithError(f"Filter {name!r} is unknown",
                                 hint="use key, mode, meter, collection, genre, instrument, lyrics, tempo_min, tempo_max, region")
    return parsed
