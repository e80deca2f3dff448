"""Attribute words, captions, energy and feature vectors for catalogue tracks.

Captions are written from the attributes (a template over correct tags is nearly as good as LLM
prose, FACTS.md), so the 15k default entries get theirs in milliseconds. The same words feed the
embedder, the query parser and the "reason" line of a search hit.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.track import TrackRecord

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def data_file(name: str) -> dict:
    with (DATA / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def _band(value: float, bands: list) -> str:
    for limit, word in bands:
        if value < limit:
            return word
    return bands[-1][1]


def tempo_word(bpm: float) -> str:
    return _band(bpm, data_file("describe.json")["tempo_bands"])


def duration_word(seconds: float) -> str:
    return _band(seconds, data_file("describe.json")["duration_bands"])


def mood_words(record: TrackRecord) -> str:
    family = record.mode_family or "none"
    return data_file("describe.json")["moods"][family][tempo_word(record.tempo_bpm)]


def instrument_families(names: list[str]) -> list[str]:
    """Normalised instrument words plus their families ("violin" → "violin", "strings")."""
    table = data_file("describe.json")["instrument_families"]
    families: list[str] = []
    words: list[str] = []
    for name in names:
        lowered = name.lower()
        for word, family in table.items():
            if word in lowered:
                if family not in families:
                    families.append(family)
                if word not in words and word != family:
                    words.append(word)
    return families + words


def pick_mode(sharps: int, pc_counts: list[int], final_pc: int | None) -> tuple[int, str]:
    """Tonic pitch class and mode from a key signature, pitch-class counts and the final bass note.

    The final bass note names the tonic in tonal music (the classic signature + final rule); when
    it is neither the major nor the relative minor tonic (modal signatures, Dorian-notated minor),
    the tonic is the final note and the mode is the better-correlating Temperley profile.
    """
    major_tonic = (sharps * 7) % 12
    minor_tonic = (major_tonic + 9) % 12
    if final_pc == major_tonic:
        return major_tonic, "major"
    if final_pc == minor_tonic:
        return minor_tonic, "minor"
    profiles = data_file("describe.json")["key_profiles"]
    counts = np.asarray(pc_counts, dtype=float)
    if counts.sum() == 0:
        return major_tonic, "major"

    def fit(tonic: int, mode: str) -> float:
        profile = np.roll(np.asarray(profiles[mode]), tonic)
        return float(np.corrcoef(counts, profile)[0, 1])

    if final_pc is not None:
        return final_pc, max(("major", "minor"), key=lambda m: fit(final_pc, m))
    return max(((major_tonic, "major"), (minor_tonic, "minor")), key=lambda tm: fit(*tm))


def estimate_energy(record: TrackRecord) -> float:
    """0..1 from tempo, note density and texture: what playlist flow and video matching need."""
    tempo = min(1.0, max(0.0, (record.tempo_bpm - 50.0) / 170.0))
    per_part = record.note_count / max(1, record.parts) / max(1.0, record.duration_s)
    density = min(1.0, per_part / 5.0)
    texture = min(record.parts, 5) / 5.0
    energy = 0.55 * tempo + 0.3 * density + 0.15 * texture
    if record.mode_family == "minor":
        energy -= 0.05
    return round(min(1.0, max(0.0, energy)), 3)


def _locale_words(locale: str) -> str:
    parts = [p.strip() for p in locale.replace("/", ",").split(",") if p.strip()]
    return ", ".join(parts[-2:]) if parts else ""


def caption(record: TrackRecord, collection_name: str) -> str:
    """One paragraph describing the track from its attributes."""
    mood = mood_words(record)
    genre = record.genre or "piece"
    origin = f"{record.region} " if record.region and record.region.lower() not in genre.lower() else ""
    sentences = [f"{record.title}: a {mood} {origin}{genre} from {collection_name}"
                 + (f", {record.era}" if record.era and record.era != "traditional" else "")
                 + (f", by {record.composer}" if record.composer else "") + "."]
    key_text = f"in {record.key}" if record.key else "in an unstated key"
    meter_text = f" in {record.meter} time ({record.meter_class})" if record.meter else ""
    sentences.append(f"It is {key_text}{meter_text}, {tempo_word(record.tempo_bpm)} at about "
                     f"{round(record.tempo_bpm)} BPM, a {duration_word(record.duration_s)} piece of about "
                     f"{round(record.duration_s)} seconds.")
    voices = ", ".join(record.instruments[:5]) if record.instruments else "a single melodic line"
    texture = "a single melody" if record.parts <= 1 else f"{record.parts} parts"
    words = "with sung words" if record.has_lyrics else "instrumental, without words"
    sentences.append(f"Scored for {voices} ({texture}), spanning {record.ambitus} semitones, {words}.")
    locale = _locale_words(record.locale)
    if locale:
        sentences.append(f"Collected in {locale}.")
    return " ".join(sentences)


def summary(record: TrackRecord, collection_name: str) -> str:
    """The caption's attribute words without title, numbers or place: the text that is embedded.

    15k corpus captions reduce to ~1,500 distinct summaries, so the first index build embeds
    1,500 short texts instead of 15,000 paragraphs (titles are matched as words at query time).
    """
    genre = record.genre or "piece"
    origin = f"{record.region} " if record.region and record.region.lower() not in genre.lower() else ""
    key = record.key or "unstated key"
    meter = f"{record.meter} {record.meter_class} time" if record.meter else "free time"
    instruments = ", ".join(record.instruments[:3]) or "single melody"
    era = f", {record.era}" if record.era else ""
    words = "with sung words" if record.has_lyrics else "instrumental"
    return (f"a {mood_words(record)} {origin}{genre} from {collection_name}{era}; {key}, {meter}, "
            f"{tempo_word(record.tempo_bpm)}, {duration_word(record.duration_s)}; {instruments}, {words}")


def camelot_xy(record: TrackRecord) -> tuple[float, float]:
    """The key as a point on the circle of fifths (0, 0 when unknown) so near keys are near."""
    from retrieval.camelot import camelot_code

    code = camelot_code(record.tonic, record.mode) if record.tonic and record.mode else None
    if code is None:
        return 0.0, 0.0
    angle = 2 * math.pi * (code[0] - 1) / 12
    return math.cos(angle), math.sin(angle)


FEATURE_NAMES = ("tempo", "energy", "major", "duple", "triple", "compound", "ambitus", "parts", "density",
                 "register", "lyrics", "fifths_x", "fifths_y")


def feature_vector(record: TrackRecord) -> np.ndarray:
    """Numbers for "sounds like" search; z-scored across the catalogue before comparing."""
    family = record.mode_family
    x, y = camelot_xy(record)
    density = record.note_count / max(1, record.parts) / max(1.0, record.duration_s)
    return np.array([
        record.tempo_bpm / 100.0, record.energy,
        1.0 if family == "major" else 0.0 if family == "minor" else 0.5,
        float(record.meter_class == "duple"), float(record.meter_class == "triple"),
        float(record.meter_class == "compound"),
        record.ambitus / 24.0, math.log1p(record.parts), min(density, 10.0) / 5.0,
        (record.pitch_low + record.pitch_high) / 2.0 / 72.0, float(record.has_lyrics), x, y,
    ], dtype=np.float32)
