"""Arrangement: the preset's instruments playing its patterns over the blueprint's chords.

Bass, comping, a second comping part in loud sections, pads and drums (GM channel 10) come from
pattern data (``data/patterns.json``, ``data/drums.json``); energy per section scales velocities
and decides which parts play (fuller choruses); a drum fill closes each section that leads into
another, a crash opens choruses; a lead instrument plays the chorus hook in the intro, the
instrumental break and the outro (re-fitted to those sections' chords).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tools.music.song import Note, Track
from tools.music.theory import Chord, bar_beats, parse_chord, parse_key
from tools.song.blueprint import Blueprint
from tools.song.presets import Preset, drum_patterns, load_preset, note_patterns

DRUM_VELOCITY = {"X": 118, "x": 98, "o": 70, "g": 42}
CRASH = 49
COMP_RANGE = (52, 74)
BASS_LOW = 36  # roots sit in C2..B2


@dataclass
class SectionSpan:
    kind: str
    start: float  # beats
    bars: int
    energy: float
    roles: list[str]
    chords: list[str]


def swing_time(t: float, swing: float) -> float:
    """Delay off-beat eighths by ``swing`` of an eighth (0.33 ≈ triplet feel)."""
    if swing <= 0:
        return t
    beat, frac = divmod(t, 1.0)
    if abs(frac - 0.5) < 1e-6:
        return beat + 0.5 + swing * 0.5
    return t


def _voicing(chord: Chord, previous: list[int] | None) -> list[int]:
    """Close voicing of up to four chord tones in the comping range, nearest the previous one."""
    tones = [(chord.root + i) % 12 for i in chord.intervals if i < 12][:4]
    if len(tones) < 3:
        tones = tones + [(chord.root + 12) % 12]
    centre = sum(previous) / len(previous) if previous else 62.0
    best, best_cost = None, 1e9
    for rotation in range(len(tones)):
        order = tones[rotation:] + tones[:rotation]
        for base in range(COMP_RANGE[0], COMP_RANGE[0] + 12):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                nxt = notes[-1] + ((pc - notes[-1]) % 12 or 12)
                notes.append(nxt)
            if notes[-1] > COMP_RANGE[1]:
                continue
            cost = abs(sum(notes) / len(notes) - centre) + (0 if previous is None else
                                                            sum(min(abs(a - b) for b in previous) for a in notes) * 0.3)
            if cost < best_cost:
                best, best_cost = notes, cost
    return best or [60 + (t - 0) % 12 for t in tones]


def _bass_pitch(token: str, chord: Chord, next_chord: Chord) -> int:
    root = BASS_LOW + (chord.bass - BASS_LOW) % 12
    third = 3 if chord.is_minor else 4
    seventh = 11 if "maj7" in chord.quality else 10
    return {"R": root, "5": root + 7, "8": root + 12, "3": root + third, "7": root + seventh,
            "A": BASS_LOW + (next_chord.root - BASS_LOW) % 12 - 1}.get(token, root)


def _comp_pitches(token: str, chord: Chord, voicing: list[int]) -> list[int]:
    if token == "C":
        return voicing
    if token == "T":
        return voicing[-3:] if len(voicing) > 3 else voicing[1:]
    if token == "L":
        # a power chord with the chord's third on top: distorted guitars' own overtones put a
        # major third in every chord, and without a written third minor songs sounded major
        low = 40 + (chord.root - 40) % 12
        third = next((i for i in chord.intervals if i in (3, 4)), None)
        return [low, low + 7, low + 12] + ([low + 12 + third] if third is not None else [])
    if token in ("B", "B5"):
        low = 45 + (chord.root - 45) % 12
        return [low + (7 if token == "B5" else 0)]
    if token.isdigit():
        ladder = voicing + [v + 12 for v in voicing]
        return [ladder[(int(token) - 1) % len(ladder)]]
    return voicing


class Arranger:
    """Builds every accompaniment track for one blueprint (deterministic given its seed)."""

    def __init__(self, blueprint: Blueprint, chord_at, rng: random.Random) -> None:
        self.bp = blueprint
        self.preset: Preset = load_preset(blueprint.style)
        self.bar = bar_beats(blueprint.meter)
        self.chord_at = chord_at
        self.rng = rng
        self.spans: list[SectionSpan] = []
        start = 0.0
        for s in blueprint.sections:
            self.spans.append(SectionSpan(s.kind, start, s.bars, s.energy, list(s.instruments), list(s.chords)))
            start += s.bars * self.bar

    def _velocity(self, base: int, energy: float) -> int:
        return int(min(127, max(1, base * (0.72 + 0.4 * energy))))

    def pattern_track(self, role: str) -> Track | None:
        spec = getattr(self.preset.instruments, role)
        if spec is None:
            return None
        program = self.bp.instrumentation.get(role, spec.program)
        pattern = note_patterns()[spec.pattern]
        notes: list[Note] = []
        voicing: list[int] | None = None
        for span in self.spans:
            if role not in span.roles:
                continue
            for b in range(span.bars):
                bar_start = span.start + b * self.bar
                t = 0.0
                while t < self.bar - 1e-6:
                    for offset, duration, token, velocity in pattern["events"]:
                        at = t + offset
                        if at >= self.bar - 1e-6 or velocity <= 0:
                            continue
                        length = (self.bar - at) if duration < 0 else min(duration, self.bar - at)
                        beat = bar_start + at
                        chord = parse_chord(self.chord_at(beat))
                        next_chord = parse_chord(self.chord_at(bar_start + self.bar))
                        voicing = _voicing(chord, voicing) if token in "CT123456" or token.isdigit() else voicing
                        if role == "bass":
                            pitches = [_bass_pitch(token, chord, next_chord)]
                        else:
                            pitches = _comp_pitches(token, chord, voicing or _voicing(chord, None))
                        start = swing_time(beat, self.bp.swing)
                        end = swing_time(beat + length, self.bp.swing)
                        vel = self._velocity(velocity, span.energy)
                        for p in pitches:
                            notes.append(Note(pitch=p, start=round(start, 4), duration=round(max(end - start, 0.05), 4),
                                              velocity=vel))
                    t += pattern["beats"]
        if not notes:
            return None
        return Track(name={"comp2": "Comp 2"}.get(role, role.title()), program=program, role=role, notes=notes,
                     volume=spec.volume)

    def drum_track(self) -> Track | None:
        name = self.preset.instruments.drums
        if name == "none":
            return None
        pattern = drum_patterns()[name]
        steps_per_beat = 4
        notes: list[Note] = []
        for index, span in enumerate(self.spans):
            following = self.spans[index + 1] if index + 1 < len(self.spans) else None
            plays = "drums" in span.roles
            leads_in = following is not None and "drums" in following.roles
            for b in range(span.bars):
                last_bar = b == span.bars - 1
                if plays and last_bar and following is not None:
                    grid = pattern["fill"] or pattern["hits"]
                elif plays:
                    grid = pattern["hits"]
                elif last_bar and leads_in:
                    grid = pattern["fill"]  # a fill brings the drums in at the next section
                else:
                    continue
                bar_start = span.start + b * self.bar
                for pitch, hits in grid.items():
                    for step, char in enumerate(hits):
                        at = step / steps_per_beat
                        if char not in DRUM_VELOCITY or at >= self.bar - 1e-6:
                            continue
                        jitter = self.rng.randint(-5, 5)
                        notes.append(Note(pitch=int(pitch), start=round(swing_time(bar_start + at, self.bp.swing), 4),
                                          duration=0.25, velocity=max(1, min(127, self._velocity(DRUM_VELOCITY[char], span.energy) + jitter))))
            if plays and span.kind in ("chorus", "instrumental") or (span.kind == "verse" and index == 1 and plays):
                notes.append(Note(pitch=CRASH, start=span.start, duration=1.0, velocity=self._velocity(100, span.energy)))
        if not notes:
            return None
        return Track(name="Drums", program=0, is_drum=True, role="drums", notes=notes, volume=0.9)

    def lead_track(self, hooks: dict[str, list[Note]]) -> Track | None:
        """The chorus hook on the preset's lead instrument where nobody sings."""
        spec = self.preset.instruments.lead
        hook = hooks.get("chorus") or hooks.get("verse")
        if spec is None or not hook or self.bp.vocals == "none":
            return None
        key = parse_key(self.bp.key)
        scale = set(key.scale)
        notes: list[Note] = []
        for span in self.spans:
            if "lead" not in span.roles:
                continue
            # leave the intro's last bar free so the singer's entry is clear
            length = span.bars * self.bar - (self.bar if span.kind == "intro" and span.bars > 2 else 0)
            for n in hook:
                if n.start >= length:
                    break
                start = span.start + n.start
                chord = parse_chord(self.chord_at(start))
                pitch = _fit_to_chord(n.pitch, chord, scale, strong=(n.start % 1.0 == 0 and n.duration >= 1))
                notes.append(Note(pitch=pitch + (12 if pitch < 60 else 0), start=round(start, 4),
                                  duration=round(min(n.duration, length - n.start), 4), velocity=88))
            if span.kind == "outro" and notes:
                # end on the tonic, held to the last bar
                end = span.start + span.bars * self.bar
                tonic = min(range(60, 84), key=lambda p: (p % 12 != key.tonic, abs(p - notes[-1].pitch)))
                notes.append(Note(pitch=tonic, start=end - self.bar, duration=self.bar, velocity=84))
                notes = [n for n in notes if not (n.start >= end - self.bar and n.pitch != tonic) and n.start < end]
        if not notes:
            return None
        return Track(name="Lead", program=self.bp.instrumentation.get("lead", spec.program), role="lead", notes=notes,
                     volume=spec.volume)

    def tracks(self, hooks: dict[str, list[Note]]) -> list[Track]:
        made = [self.drum_track(), self.pattern_track("bass"), self.pattern_track("comp"),
                self.pattern_track("comp2"), self.pattern_track("pad"), self.lead_track(hooks)]
        return [t for t in made if t is not None]


def _fit_to_chord(pitch: int, chord: Chord, scale: set[int], *, strong: bool) -> int:
    allowed = set(chord.pitch_classes) if strong else scale | set(chord.pitch_classes)
    if pitch % 12 in allowed:
        return pitch
    return min((p for p in range(pitch - 3, pitch + 4) if p % 12 in allowed), key=lambda p: abs(p - pitch), default=pitch)
