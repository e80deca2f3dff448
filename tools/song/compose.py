"""Blueprint → `Song`: melody with syllables, then the arrangement around it.

`compose_song` is deterministic given the blueprint and seed, needs no audio stack, and returns
the editable project state every other tool (style transfer, edits, exports) works on.
"""

from __future__ import annotations

import bisect
import random

from tools.music.song import Section, Song, Track
from tools.music.theory import bar_beats
from tools.song.arrangement import Arranger, swing_time
from tools.song.blueprint import Blueprint
from tools.song.melody import compose_melody
from tools.song.placement import parse_lyrics

VOCAL_PROGRAM = 53  # GM "Voice Oohs": how the sung melody sounds in the MIDI file


def chord_lookup(blueprint: Blueprint):
    """A function beat → chord symbol over the blueprint's per-bar chords."""
    bar = bar_beats(blueprint.meter)
    starts: list[float] = []
    symbols: list[str] = []
    position = 0.0
    for section in blueprint.sections:
        for entry in section.chords[: section.bars]:
            parts = entry.split() or ["C"]
            for k, symbol in enumerate(parts):
                starts.append(position + k * bar / len(parts))
                symbols.append(symbol)
            position += bar
        for _ in range(section.bars - len(section.chords)):
            starts.append(position)
            symbols.append(symbols[-1] if symbols else "C")
            position += bar

    def chord_at(beat: float) -> str:
        index = bisect.bisect_right(starts, beat + 1e-6) - 1
        return symbols[max(0, min(index, len(symbols) - 1))]

    return chord_at


def _with_lyrics(blueprint: Blueprint, lyrics: str) -> Blueprint:
    """Put newly given lyrics into the blueprint's sung sections, section kind by kind, in order."""
    parsed = parse_lyrics(lyrics)
    queues: dict[str, list[list[str]]] = {}
    for section in parsed:
        queues.setdefault(section.kind, []).append(section.lines)
    sections = []
    for section in blueprint.sections:
        queue = queues.get(section.kind)
        lines = queue.pop(0) if queue else section.lyrics
        if queue is not None and not queue and section.kind == "chorus":
            queues[section.kind] = [lines]  # the chorus keeps returning with its words
        sections.append(section.model_copy(update={"lyrics": list(lines)}))
    return blueprint.model_copy(update={"sections": sections})


def compose_song(blueprint: Blueprint, lyrics: str | None = None, seed: int | None = None) -> Song:
    """The whole song, symbolic: sections, chords, melody with syllables, accompaniment tracks."""
    if lyrics:
        blueprint = _with_lyrics(blueprint, lyrics)
    seed = blueprint.seed if seed is None else seed
    chord_at = chord_lookup(blueprint)
    melody_notes, hooks = compose_melody(blueprint, chord_at=chord_at, rng=random.Random(seed * 7919 + 1))
    if blueprint.swing:
        melody_notes = [n.model_copy(update={
            "start": round(swing_time(n.start, blueprint.swing), 4),
            "duration": round(max(swing_time(n.end, blueprint.swing) - swing_time(n.start, blueprint.swing), 0.05), 4)})
            for n in melody_notes]
    arranger = Arranger(blueprint, chord_at, random.Random(seed * 104729 + 3))
    tracks = arranger.tracks(hooks)
    sections = []
    bar = 0
    for s in blueprint.sections:
        sections.append(Section(name=s.name, kind=s.kind, start_bar=bar, bars=s.bars, chords=list(s.chords[: s.bars]),
                                lyrics=list(s.lyrics), energy=s.energy))
        bar += s.bars
    instrumental = blueprint.vocals == "none"
    melody = Track(name="Lead melody" if instrumental else "Vocals",
                   program=blueprint.instrumentation.get("lead", 73) if instrumental else VOCAL_PROGRAM,
                   role="melody", notes=melody_notes, volume=0.75 if instrumental else 1.0)
    return Song(title=blueprint.title, key=blueprint.key, tempo_bpm=blueprint.tempo_bpm, meter=blueprint.meter,
                sections=sections, melody=melody, tracks=tracks,
                style_tags=[blueprint.style] + ([] if instrumental else [f"{blueprint.vocals} vocals"]))
