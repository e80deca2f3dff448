"""Style presets: one JSON file per style in ``data/presets``, and mapping free text to the nearest.

A preset fixes what a style means musically (tempo range, meter, mode, chord banks as Roman
numerals per section kind, instruments with their patterns, drum groove, vocal range). Unknown
style words map to the nearest preset by MiniLM similarity of name, aliases and description; only
where MiniLM is not installed does plain string similarity decide (and the result says which).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from tools.music.errors import TunesmithError

DATA = Path(__file__).parent / "data"


class InstrumentSpec(BaseModel):
    program: int = Field(ge=0, le=127)
    pattern: str
    volume: float = 0.8


class Instruments(BaseModel):
    bass: InstrumentSpec
    comp: InstrumentSpec
    comp2: InstrumentSpec | None = None
    pad: InstrumentSpec | None = None
    lead: InstrumentSpec | None = None
    drums: str


class MelodySpec(BaseModel):
    density: float = 1.0  # syllables per beat relative to the default
    low: int = 57  # MIDI range of the default voice
    high: int = 76


class Preset(BaseModel):
    """A style as data; see `data/presets/*.json`."""

    name: str
    aliases: list[str]
    description: str
    tempo: tuple[float, float]
    meter: str
    mode: str
    swing: float = 0.0
    scale: str = "diatonic"
    vocals: str = "female"
    chords: dict[str, list[list[str]]]
    instruments: Instruments
    melody: MelodySpec
    form: list[str]

    @property
    def default_tempo(self) -> float:
        return round((self.tempo[0] + self.tempo[1]) / 2)


@lru_cache(maxsize=1)
def all_presets() -> dict[str, Preset]:
    """Every preset by name, read once from the data folder."""
    presets: dict[str, Preset] = {}
    for path in sorted((DATA / "presets").glob("*.json")):
        preset = Preset.model_validate_json(path.read_text())
        presets[preset.name] = preset
    return presets


@lru_cache(maxsize=1)
def drum_patterns() -> dict:
    return json.loads((DATA / "drums.json").read_text())


@lru_cache(maxsize=1)
def note_patterns() -> dict:
    return json.loads((DATA / "patterns.json").read_text())


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9/&]+", " ", text.lower()).strip()


def load_preset(name: str) -> Preset:
    """The preset named (or aliased) exactly ``name``.

    Raises:
        TunesmithError: no preset has that name; the hint lists them.
    """
    wanted = _normalise(name)
    for preset in all_presets().values():
        if wanted == _normalise(preset.name) or wanted in (_normalise(a) for a in preset.aliases):
            return preset
    raise TunesmithError(f"Style {name!r} is not a preset", hint="known: " + ", ".join(all_presets()))


@dataclass(frozen=True)
class PresetMatch:
    preset: Preset
    score: float
    method: str  # exact | minilm | string


def _preset_text(preset: Preset) -> str:
    return f"{preset.name}: {', '.join(preset.aliases)}. {preset.description}"


@lru_cache(maxsize=1)
def _encoder():
    """MiniLM from the installed package (offline), or None where it is missing."""
    from tools.music.resources import minilm_path

    path = minilm_path()
    if path is None:
        return None
    try:
        from sentence_transformers import SentenceTransformer  # deferred: loads torch
    except ImportError:
        return None
    return SentenceTransformer(str(path), device="cpu")


@lru_cache(maxsize=1)
def _preset_matrix():
    encoder = _encoder()
    names = list(all_presets())
    texts = [_preset_text(all_presets()[n]) for n in names]
    return names, encoder.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def nearest_preset(text: str) -> PresetMatch:
    """The preset closest to a style word or phrase ("darkwave", "sad acoustic song about rain").

    An exact name or alias (or one contained in the text as a whole word) wins outright; otherwise
    MiniLM cosine similarity against each preset's name, aliases and description decides.
    """
    if not text or not text.strip():
        return PresetMatch(all_presets()["pop"], 0.0, "default")
    wanted = _normalise(text)
    presets = all_presets()
    # whole-word alias hits, longest first ("bossa nova" before "nova")
    hits: list[tuple[int, Preset]] = []
    for preset in presets.values():
        for alias in [preset.name, *preset.aliases]:
            a = _normalise(alias)
            if a == wanted:
                return PresetMatch(preset, 1.0, "exact")
            if re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", wanted):
                hits.append((len(a), preset))
    if hits:
        return PresetMatch(max(hits, key=lambda h: h[0])[1], 0.99, "exact")
    encoder = _encoder()
    if encoder is not None:
        names, matrix = _preset_matrix()
        query = encoder.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        scores = matrix @ query
        best = int(scores.argmax())
        return PresetMatch(presets[names[best]], float(scores[best]), "minilm")
    ratios = {name: max(difflib.SequenceMatcher(None, wanted, _normalise(a)).ratio()
                        for a in [p.name, *p.aliases]) for name, p in presets.items()}
    best_name = max(ratios, key=ratios.get)
    return PresetMatch(presets[best_name], ratios[best_name], "string")
