"""Keys, scales and chord symbols as pitch-class arithmetic.

Everything here is pure and tiny so the composer, the analysers and the planner's normalisers
agree on one spelling of keys ("Bb major", "F# minor") and one chord-symbol grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tools.music.errors import TunesmithError

PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
MODES = ("major", "minor")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Keys whose signatures use flats; the tonic and its notes are spelled with flats there.
FLAT_MAJOR_TONICS = {5, 10, 3, 8, 1, 6}  # F Bb Eb Ab Db Gb
FLAT_MINOR_TONICS = {2, 7, 0, 5, 10, 3}  # D G C F Bb Eb

CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "mMaj7": (0, 3, 7, 11),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "7sus4": (0, 5, 7, 10),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14),
    "7b9": (0, 4, 7, 10, 13),
    "7#9": (0, 4, 7, 10, 15),
    "11": (0, 4, 7, 10, 14, 17),
    "m11": (0, 3, 7, 10, 14, 17),
    "13": (0, 4, 7, 10, 14, 21),
    "6/9": (0, 4, 7, 9, 14),
}
QUALITY_ALIASES = {
    "maj": "", "M": "", "min": "m", "-": "m", "mi": "m", "M7": "maj7", "Δ": "maj7", "Δ7": "maj7",
    "min7": "m7", "-7": "m7", "ø": "m7b5", "ø7": "m7b5", "o": "dim", "°": "dim", "o7": "dim7",
    "°7": "dim7", "+": "aug", "sus": "sus4", "69": "6/9", "min9": "m9", "min6": "m6",
}
_NOTE_RE = re.compile(r"^([A-Ga-g])([#b♯♭]*)")


def note_name_to_pc(name: str) -> int:
    """Pitch class of a spelled note name such as ``Bb``, ``F#`` or ``c``."""
    match = _NOTE_RE.match(name.strip())
    if not match:
        raise TunesmithError(f"Note name {name!r} is invalid; should be e.g. C, F# or Bb")
    letter, accidentals = match.groups()
    pc = PITCH_CLASSES[letter.upper()]
    pc += accidentals.count("#") + accidentals.count("♯")
    pc -= accidentals.count("b") + accidentals.count("♭")
    return pc % 12


def pc_name(pc: int, *, flats: bool = False) -> str:
    return (FLAT_NAMES if flats else SHARP_NAMES)[pc % 12]


def note_name(pitch: int, *, flats: bool = False) -> str:
    """Scientific pitch name of a MIDI note: 60 → "C4", 70 → "A#4" (or "Bb4" with ``flats``)."""
    return f"{pc_name(pitch, flats=flats)}{pitch // 12 - 1}"


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode; ``str(key)`` gives the canonical "Bb major" spelling."""

    tonic: int
    mode: str

    @property
    def uses_flats(self) -> bool:
        return self.tonic in (FLAT_MAJOR_TONICS if self.mode == "major" else FLAT_MINOR_TONICS)

    @property
    def tonic_name(self) -> str:
        return pc_name(self.tonic, flats=self.uses_flats)

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the scale (natural minor for minor keys), tonic first."""
        steps = MAJOR_SCALE if self.mode == "major" else NATURAL_MINOR_SCALE
        return tuple((self.tonic + s) % 12 for s in steps)

    @property
    def relative(self) -> "Key":
        if self.mode == "major":
            return Key((self.tonic + 9) % 12, "minor")
        return Key((self.tonic + 3) % 12, "major")

    @property
    def parallel(self) -> "Key":
        return Key(self.tonic, "minor" if self.mode == "major" else "major")

    @property
    def sharps(self) -> int:
        """Signature as a count of sharps (negative for flats), as MIDI key meta and music21 use."""
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        fifths = (major_tonic * 7) % 12  # position on the circle of fifths from C
        return fifths - 12 if fifths > 6 or major_tonic in FLAT_MAJOR_TONICS else fifths

    def spell(self, pc: int) -> str:
        return pc_name(pc, flats=self.uses_flats)

    def __str__(self) -> str:
        return f"{self.tonic_name} {self.mode}"


@lru_cache(maxsize=512)
def parse_key(text: str) -> Key:
    """Parse "A minor", "Bb major", "f# minor", "Am", "C" into a `Key`.

    Raises:
        TunesmithError: when the text names no key.
    """
    cleaned = text.strip().replace("♭", "b").replace("♯", "#")
    match = re.fullmatch(r"([A-Ga-g])\s*(sharp|flat|#|b(?![a-z]{2})|)\s*(.*)", cleaned, flags=re.I)
    if not match:
        raise TunesmithError(f"Key {text!r} is invalid; should be e.g. 'A minor' or 'Bb major'")
    letter, accidental, rest = match.groups()
    accidental = {"sharp": "#", "flat": "b"}.get(accidental.lower(), accidental)
    rest = rest.strip().lower()
    if rest in ("", "major", "maj", "ma", "ionian"):
        mode = "major"
    elif rest in ("minor", "min", "m", "mi", "aeolian"):
        mode = "minor"
    else:
        raise TunesmithError(f"Key {text!r} has an unknown mode {rest!r}; use 'major' or 'minor'")
    return Key(note_name_to_pc(letter + accidental), mode)


@dataclass(frozen=True)
class Chord:
    """A parsed chord symbol: root, quality, chord tones (semitones above the root), bass."""

    symbol: str
    root: int
    quality: str
    intervals: tuple[int, ...]
    bass: int

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(sorted({(self.root + i) % 12 for i in self.intervals}))

    @property
    def is_minor(self) -> bool:
        return 3 in self.intervals and 4 not in self.intervals


_CHORD_RE = re.compile(r"^([A-G][#b♯♭]?)([^/]*)(?:/([A-G][#b♯♭]?))?$")


@lru_cache(maxsize=2048)
def parse_chord(symbol: str) -> Chord:
    """Parse a lead-sheet chord symbol ("Am7", "Bbmaj7", "D/F#", "F#m7b5", "N.C." is refused).

    Raises:
        TunesmithError: when the symbol is not a chord this grammar knows.
    """
    text = symbol.strip()
    match = _CHORD_RE.match(text)
    if not match:
        raise TunesmithError(f"Chord {symbol!r} is invalid; should be e.g. Am7, Bbmaj7 or D/F#")
    root_name, quality, bass_name = match.groups()
    quality = QUALITY_ALIASES.get(quality, quality)
    if quality not in CHORD_QUALITIES:
        raise TunesmithError(
            f"Chord {symbol!r} has an unknown quality {quality!r}",
            hint="known: " + ", ".join(q or "(major)" for q in CHORD_QUALITIES),
        )
    root = note_name_to_pc(root_name)
    bass = note_name_to_pc(bass_name) if bass_name else root
    return Chord(text, root, quality, CHORD_QUALITIES[quality], bass)


def chord_symbol(root: int, quality: str, key: Key | None = None, bass: int | None = None) -> str:
    """Spell a chord symbol in the key's accidentals."""
    spell = key.spell if key else pc_name
    text = spell(root) + quality
    if bass is not None and bass % 12 != root % 12:
        text += "/" + spell(bass)
    return text


ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII"]
_CHROMATIC_DEGREE = {0: "I", 1: "bII", 2: "II", 3: "bIII", 4: "III", 5: "IV", 6: "#IV", 7: "V",
                     8: "bVI", 9: "VI", 10: "bVII", 11: "VII"}


def roman_numeral(chord: Chord, key: Key) -> str:
    """Roman numeral of a chord in a key: upper case for major, lower for minor, ° for diminished."""
    interval = (chord.root - key.tonic) % 12
    numeral = _CHROMATIC_DEGREE[interval]
    accidental = numeral[0] if numeral[0] in "b#" else ""
    base = numeral.lstrip("b#")
    if chord.is_minor or chord.quality in ("dim", "dim7", "m7b5"):
        base = base.lower()
    suffix = {"dim": "°", "dim7": "°7", "m7b5": "ø7", "aug": "+"}.get(chord.quality, "")
    if not suffix and "7" in chord.quality:
        suffix = "7"
    return accidental + base + suffix


def degree_chord(key: Key, numeral: str) -> str:
    """The chord symbol for a Roman numeral in a key ("vi" in C major → "Am", "bVII7" → "Bb7").

    Numerals: case gives the third (upper major, lower minor); suffixes 7, maj7, °, ø7, sus4, add9
    pass through as chord qualities. This lets chord banks be written once for every key.
    """
    match = re.fullmatch(r"([b#]?)([IViv]+)(.*)", numeral.strip())
    if not match:
        raise TunesmithError(f"Roman numeral {numeral!r} is invalid; should be e.g. I, vi, bVII7")
    accidental, roman, suffix = match.groups()
    degree = ROMAN.index(roman.upper())
    base_pc = (key.tonic + MAJOR_SCALE[degree]) % 12
    base_pc += {"b": -1, "#": 1}.get(accidental, 0)
    minor = roman.islower()
    suffix_map = {"°": "dim", "o": "dim", "°7": "dim7", "ø7": "m7b5", "ø": "m7b5", "+": "aug"}
    if suffix in suffix_map:
        quality = suffix_map[suffix]
    elif minor:
        quality = "m" + suffix if not suffix.startswith("m") else suffix
        quality = {"m7": "m7", "m": "m", "m9": "m9", "m6": "m6", "mmaj7": "mMaj7"}.get(quality, quality)
    else:
        quality = suffix
    if quality not in CHORD_QUALITIES:
        raise TunesmithError(f"Roman numeral {numeral!r} has an unknown quality {quality!r}")
    flats = key.uses_flats or accidental == "b"
    return pc_name(base_pc % 12, flats=flats) + quality


def bar_beats(meter: str) -> float:
    """Length of one bar in quarter-note beats ("6/8" → 3.0)."""
    numerator, denominator = parse_meter(meter)
    return numerator * 4.0 / denominator


def parse_meter(meter: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(1|2|4|8|16)\s*", meter)
    if not match:
        raise TunesmithError(f"Meter {meter!r} is invalid; should be e.g. 4/4, 3/4 or 6/8")
    return int(match.group(1)), int(match.group(2))
