"""Re-arranging an existing Song with a style preset's band (drums, bass, comping, pads, lead).

The song engine's `Arranger` works from a `Blueprint`; this module builds that blueprint from a
Song (its sections, chords, energy, lyrics) so a transcribed or imported melody gets the same
arrangement a composed song of that style would. Hook for the song engine: an
``arrange_song(song, preset)`` there would make `blueprint_for` unnecessary.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

from tools.music.errors import TunesmithError
from tools.music.song import Note, Song, Track
from tools.song.arrangement import Arranger
from tools.song.blueprint import VOICE_RANGES, Blueprint, BlueprintSection, StyleMatch
from tools.song.compose import VOCAL_PROGRAM, chord_lookup
from tools.song.presets import Preset

DATA = Path(__file__).parent / "data"
ROLES = ("bass", "comp", "comp2", "pad", "lead", "drums")


@lru_cache(maxsize=1)
def instruments() -> dict[str, dict]:
    """Instrument words → {"program", "role"} (``data/instruments.json``)."""
    return json.loads((DATA / "instruments.json").read_text())


def instrument(name: str) -> tuple[str, int, str]:
    """(canonical name, GM program, role) for an instrument word.

    Raises:
        TunesmithError: unknown instrument; the hint lists known ones.
    """
    wanted = " ".join(name.lower().replace("-", " ").split())
    table = instruments()
    if wanted.endswith("s") and wanted not in table and wanted[:-1] in table:
        wanted = wanted[:-1]
    if wanted not in table:
        raise TunesmithError(f"Instrument {name!r} is unknown", hint="known: " + ", ".join(sorted(table)))
    entry = table[wanted]
    return wanted, int(entry["program"]), entry["role"]


def default_roles(preset: Preset, kind: str, energy: float, vocals: str) -> list[str]:
    """Which parts play in a section (the song engine's rule: fuller as energy rises)."""
    roles = ["bass", "comp"]
    if energy >= 0.4 and preset.instruments.drums != "none":
        roles.append("drums")
    if preset.instruments.pad and (energy >= 0.6 or kind in ("intro", "outro")):
        roles.append("pad")
    if preset.instruments.comp2 and energy >= 0.8:
        roles.append("comp2")
    if kind in ("intro", "outro", "instrumental") or vocals == "none":
        roles.append("lead")
    return roles


def blueprint_for(song: Song, preset: Preset, *, vocals: str, swing: float | None = None,
                  instrumentation: dict[str, int] | None = None, roles: dict[str, list[str]] | None = None,
                  seed: int = 0) -> Blueprint:
    """A blueprint that describes ``song`` as it stands, in ``preset``'s band."""
    if not song.sections:
        raise TunesmithError("The song has no sections to arrange", hint="give a song with at least one bar")
    programs = {role: spec.program for role, spec in preset.instruments if role != "drums" and spec is not None}
    programs["drums"] = 0 if preset.instruments.drums != "none" else -1
    programs.update(instrumentation or {})
    sections = []
    for s in song.sections:
        chords = list(s.chords[: s.bars]) or ["C"]
        chords += [chords[-1]] * (s.bars - len(chords))
        sections.append(BlueprintSection(
            name=s.name, kind=s.kind, bars=s.bars, chords=chords, energy=s.energy, lyrics=list(s.lyrics),
            instruments=(roles or {}).get(s.name, default_roles(preset, s.kind, s.energy, vocals))))
    voice = vocals if vocals in VOICE_RANGES else "female"
    return Blueprint(title=song.title, style=preset.name, style_match=StyleMatch(query=preset.name, method="exact", score=1.0),
                     key=song.key, tempo_bpm=min(max(song.tempo_bpm, 31), 259), meter=song.meter,
                     swing=preset.swing if swing is None else swing, scale=preset.scale, vocals=voice,
                     voice_range=VOICE_RANGES[voice], instrumentation=programs, sections=sections,
                     lyrics_source="user" if any(s.lyrics for s in song.sections) else "none", seed=seed)


def hooks_of(song: Song) -> dict[str, list[Note]]:
    """The first chorus's (and verse's) melody, re-timed from 0: what a lead instrument quotes."""
    hooks: dict[str, list[Note]] = {}
    for section in song.sections:
        if section.kind in ("chorus", "verse") and section.kind not in hooks:
            start = section.start_bar * song.beats_per_bar
            end = section.end_bar * song.beats_per_bar
            notes = [n.model_copy(update={"start": n.start - start}) for n in song.melody.notes if start <= n.start < end]
            if notes:
                hooks[section.kind] = notes
    return hooks


def band_tracks(song: Song, blueprint: Blueprint, *, seed: int = 0) -> list[Track]:
    """The preset's accompaniment tracks over the song's chords (deterministic given the seed)."""
    arranger = Arranger(blueprint, chord_lookup(blueprint), random.Random(seed * 104729 + 3))
    return arranger.tracks(hooks_of(song))


def rearrange(song: Song, preset: Preset, *, vocals: str, swing: float | None = None,
              instrumentation: dict[str, int] | None = None, seed: int = 0) -> Song:
    """The song's melody, lyrics and harmony with ``preset``'s band replacing its accompaniment."""
    blueprint = blueprint_for(song, preset, vocals=vocals, swing=swing, instrumentation=instrumentation, seed=seed)
    tracks = band_tracks(song, blueprint, seed=seed)
    instrumental = vocals == "none"
    melody = song.melody.model_copy(update={
        "name": "Lead melody" if instrumental else "Vocals",
        "program": blueprint.instrumentation.get("lead", 73) if instrumental else VOCAL_PROGRAM,
        "role": "melody", "volume": 0.75 if instrumental else 1.0})
    tags = [preset.name, f"{vocals} vocals"]  # "none vocals" too: an instrumental of a sung melody stays one
    return song.model_copy(update={"tracks": tracks, "melody": melody, "style_tags": tags})
