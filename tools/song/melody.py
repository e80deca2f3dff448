"""Melody: syllables placed on a rhythm that respects stress, pitched to fit chords and range.

Per lyric line: onsets are sampled from the rhythm of folk tunes (where notes start in the bar and
how long they wait for the next, learned from the Essen songs of the music21 corpus:
`rhythm_stats`, `rhythm`) with stressed syllables on strong beats, and the line ends on a long
note (a melisma now and then), then a breath. Pitches follow an arch contour around a
section-specific centre (choruses sit higher), move as folk tunes move (the probability of each
interval from each scale degree, learned from the same songs: `melody_stats`), favour chord tones
on stressed syllables, end phrases on chord tones and the section's last line on the tonic. The
first time a section kind is sung its melody is remembered: later sections of that kind with the
same syllable pattern sing it note for note (every chorus the same), different lyrics keep its
contour (verses vary).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from tools.music.song import Note
from tools.music.theory import Key, bar_beats, parse_chord, parse_key, parse_meter
from tools.song.blueprint import Blueprint, bars_per_line
from tools.song.melody_stats import load_stats
from tools.song.rhythm import line_onsets
from tools.song.rhythm_stats import load_rhythm, meter_family
from tools.song.syllables import syllabify_line

CENTRES = {"verse": 0.38, "prechorus": 0.5, "chorus": 0.62, "bridge": 0.55, "instrumental": 0.6,
           "intro": 0.55, "outro": 0.45}
# Candidate pitches are sampled with weight exp(-cost): the learned -log P(interval | degree) plus
# soft costs for leaving the contour and for non-chord tones on strong syllables. Weights were
# chosen by the interval histogram of composed songs against the corpus (KL 0.12-0.14 -> 0.03-0.06).
CONTOUR_WEIGHT = 0.1  # per semitone away from the arch
NON_CHORD_TONE_COST = 0.5  # a passing or neighbour tone on a stressed syllable
GRID = 0.25  # beats: the sixteenth grid the rhythm table is counted on
MAJOR_PENTATONIC = (0, 2, 4, 7, 9)
MINOR_PENTATONIC = (0, 3, 5, 7, 10)


@dataclass(frozen=True)
class LineSyllable:
    text: str  # spelling chunk, "-" appended when the word continues
    stress: int
    line: int | None


@dataclass
class PlacedNote:
    start: float  # beats from the slot start
    duration: float
    pitch: int = 0
    syllable: str | None = None
    stress: int = 0


@dataclass
class MelodyMemory:
    """What each section kind sang first: rhythm + pitches per line, keyed by stress pattern."""

    lines: dict[tuple[str, int], tuple[tuple[int, ...], list[PlacedNote]]] = field(default_factory=dict)


def line_syllables(line: str, line_index: int | None) -> list[LineSyllable]:
    result = []
    for _, syllables in syllabify_line(line):
        for k, s in enumerate(syllables):
            more = k < len(syllables) - 1
            result.append(LineSyllable(s.text + ("-" if more else ""), s.stress, line_index))
    return result


def place_rhythm(syllables: list[LineSyllable], slot: float, *, rng: random.Random, meter: str = "4/4",
                 bar_offset: float = 0.0) -> list[PlacedNote]:
    """Onsets and lengths (beats from the slot start) for one line's syllables.

    Onsets come from the corpus rhythm table and the syllables' stresses (`tools.song.rhythm`);
    a line with more syllables than the grid holds is spread evenly instead.
    """
    n = len(syllables)
    if n == 0:
        return []
    rest = 1.0 if slot >= 6 else 0.5
    usable = slot - rest
    family = meter_family(parse_meter(meter)[0]) or "duple"
    stats = load_rhythm(family)
    grid = round(usable / GRID)
    found = line_onsets([s.stress for s in syllables], grid, round(bar_offset / GRID) % stats.bar_units, stats, rng,
                        family=family, min_final=4 if grid >= n + 4 else 2)
    if found is not None:
        quantised = [k * GRID for k in found]
    else:
        quantised = list(np.linspace(0.0, max(0.0, slot - 1.25), n))
    notes = []
    for k, onset in enumerate(quantised):
        end = quantised[k + 1] if k + 1 < n else usable + (0 if rng.random() < 0.5 else rest / 2)
        notes.append(PlacedNote(onset, max(end - onset, 0.2), syllable=syllables[k].text, stress=syllables[k].stress))
    # the last syllable's long note becomes a two-note melisma now and then
    last = notes[-1]
    if last.duration >= 2.0 and rng.random() < 0.45:
        head = 1.0 if last.duration >= 2.5 else last.duration / 2
        notes.append(PlacedNote(last.start + head, last.duration - head, syllable=None, stress=0))
        last.duration = head
    return notes


class PitchChooser:
    """Chooses pitches for placed notes from the key, the chord under each note and a contour."""

    def __init__(self, blueprint: Blueprint, chord_at, rng: random.Random) -> None:
        self.key: Key = parse_key(blueprint.key)
        self.low, self.high = blueprint.voice_range
        self.chord_at = chord_at
        self.rng = rng
        if blueprint.scale == "pentatonic":
            steps = MAJOR_PENTATONIC if self.key.mode == "major" else MINOR_PENTATONIC
            self.scale_pcs = {(self.key.tonic + s) % 12 for s in steps}
        else:
            self.scale_pcs = set(self.key.scale)
        self.pentatonic = blueprint.scale == "pentatonic"
        third = 3 if self.key.mode == "minor" else 4
        self.open_cadence = {(self.key.tonic + 7) % 12, (self.key.tonic + 2) % 12, (self.key.tonic + third) % 12}
        self.stats = load_stats("pentatonic" if self.pentatonic else "diatonic", self.key.mode)

    def centre(self, kind: str) -> float:
        return self.low + CENTRES.get(kind, 0.5) * (self.high - self.low)

    def choose(self, notes: list[PlacedNote], slot_start: float, *, kind: str, previous: int | None,
               cadence: str) -> int:
        """Fill ``pitch`` on each note; returns the last pitch. ``cadence``: tonic | open | any."""
        centre = self.centre(kind)
        prev = previous if previous is not None else int(round(centre))
        count = len(notes)
        for j, note in enumerate(notes):
            chord = parse_chord(self.chord_at(slot_start + note.start))
            chord_pcs = set(chord.pitch_classes)
            beat = (slot_start + note.start) % 1.0
            final = j == count - 1
            strong = note.stress == 1 or (beat == 0 and note.duration >= 1.0)
            if final:
                # a phrase ends on a chord tone, always
                allowed = ((chord_pcs & self.scale_pcs) or self.scale_pcs) if self.pentatonic else chord_pcs
            else:
                allowed = self.scale_pcs if self.pentatonic else self.scale_pcs | chord_pcs
            position = j / max(count - 1, 1)
            target = centre + 3.0 * math.sin(math.pi * position) - (1.5 if j == count - 1 else 0.0)
            best: list[tuple[float, int]] = []
            for pitch in range(self.low, self.high + 1):
                pc = pitch % 12
                if pc not in allowed:
                    continue
                cost = self.stats.cost(prev, pitch, self.key.tonic) + CONTOUR_WEIGHT * abs(pitch - target)
                if strong and pc not in chord_pcs:
                    cost += NON_CHORD_TONE_COST
                if final:
                    if cadence == "tonic":
                        cost += 0.0 if pc == self.key.tonic else 2.5
                    elif cadence == "open":
                        cost += 0.0 if pc in self.open_cadence else 0.8
                best.append((cost, pitch))
            if not best:
                note.pitch = prev
                continue
            floor = min(c for c, _ in best)
            weights = [math.exp(floor - c) for c, _ in best]
            note.pitch = self.rng.choices([p for _, p in best], weights=weights)[0]
            prev = note.pitch
        return prev


def _pseudo_syllables(slot: float, rng: random.Random) -> list[LineSyllable]:
    """Stress patterns for an instrumental melody (no lyrics): 4–8 notes per line."""
    n = rng.randint(max(3, int(slot * 0.5)), max(4, int(slot * 0.9)))
    return [LineSyllable("", 1 if k % 2 == 0 else 0, None) for k in range(n)]


def _variant(remembered: list[PlacedNote], fresh: list[PlacedNote], scale_pcs: set[int]) -> list[PlacedNote]:
    """Fresh rhythm, the remembered contour: pitches resampled by relative position.

    Where the new line has more notes than the old one, two notes land on the same remembered
    pitch; the second then steps along the scale toward the next remembered pitch (a passing
    tone) instead of repeating, which is what a singer does with an extra syllable.
    """
    pitches = [n.pitch for n in remembered]
    last_index = -1
    for k, note in enumerate(fresh):
        position = k / max(len(fresh) - 1, 1)
        index = int(round(position * (len(pitches) - 1)))
        note.pitch = pitches[index]
        if index == last_index and k > 0:
            following = pitches[min(index + 1, len(pitches) - 1)]
            direction = 1 if following > note.pitch else -1
            note.pitch = _scale_step(fresh[k - 1].pitch, direction, scale_pcs)
        last_index = index
    return fresh


def _scale_step(pitch: int, direction: int, scale_pcs: set[int]) -> int:
    """The next pitch of the scale above (direction 1) or below (-1)."""
    candidate = pitch + direction
    while candidate % 12 not in scale_pcs:
        candidate += direction
    return candidate


def compose_melody(blueprint: Blueprint, *, chord_at, rng: random.Random) -> tuple[list[Note], dict[str, list[Note]]]:
    """Melody notes for the whole song, and each sung section kind's first melody (for hooks).

    Returns:
        (notes with syllables and line indices, {kind: notes relative to that section's start}).
    """
    bar = bar_beats(blueprint.meter)
    chooser = PitchChooser(blueprint, chord_at, rng)
    memory = MelodyMemory()
    notes: list[Note] = []
    hooks: dict[str, list[Note]] = {}
    line_index = 0
    section_start = 0.0
    previous: int | None = None
    instrumental = blueprint.vocals == "none"
    for section in blueprint.sections:
        beats = section.bars * bar
        lines = list(section.lyrics)
        sung = bool(lines)
        if not sung and instrumental and section.kind not in ("intro", "outro"):
            lines = [""] * max(1, section.bars // bars_per_line(blueprint.meter))
        if not lines:
            section_start += beats
            continue
        slot = beats / len(lines)
        section_notes: list[Note] = []
        for k, text in enumerate(lines):
            syllables = line_syllables(text, line_index) if sung else _pseudo_syllables(slot, rng)
            if not syllables:
                line_index += 1 if sung else 0
                continue
            stresses = tuple(s.stress for s in syllables)
            memory_key = (section.kind, k)
            remembered = memory.lines.get(memory_key)
            if remembered and remembered[0] == stresses and (not sung or remembered[1][0].syllable is not None):
                placed = [PlacedNote(n.start, n.duration, n.pitch, n.syllable, n.stress) for n in remembered[1]]
                # same stress pattern: same rhythm and pitches; the new words ride on them
                texts = iter(s.text for s in syllables)
                for n in placed:
                    if n.syllable is not None:
                        n.syllable = next(texts)
            else:
                placed = place_rhythm(syllables, slot, rng=rng, meter=blueprint.meter,
                                      bar_offset=(section_start + k * slot) % bar)
                last_line = k == len(lines) - 1
                cadence = "tonic" if last_line else ("open" if k % 2 == 0 else "any")
                if remembered:
                    placed = _variant(remembered[1], placed, chooser.scale_pcs)
                    # the cadence note is chosen afresh: the phrase must still end where it should
                    chooser.choose(placed[-1:], section_start + k * slot, kind=section.kind,
                                   previous=placed[-2].pitch if len(placed) > 1 else previous, cadence=cadence)
                else:
                    chooser.choose(placed, section_start + k * slot, kind=section.kind, previous=previous,
                                   cadence=cadence)
                memory.lines.setdefault(memory_key, (stresses, placed))
            for n in placed:
                note = Note(pitch=int(n.pitch), start=round(section_start + k * slot + n.start, 4),
                            duration=round(n.duration, 4), velocity=96 if n.stress == 1 else 84,
                            syllable=(n.syllable or None) if sung else None, line=line_index if sung else None)
                section_notes.append(note)
            previous = placed[-1].pitch
            if sung:
                line_index += 1
        notes.extend(section_notes)
        hooks.setdefault(section.kind, [n.model_copy(update={"start": n.start - section_start, "syllable": None})
                                        for n in section_notes])
        section_start += beats
    return notes, hooks
