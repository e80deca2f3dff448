"""Harmony and pitch transforms that keep a melody's notes and order: transposition, mode change
by scale degree, meter conversion, and re-voicing chords into a style's idiom.

Every function is pure (Song in, new Song out) so each can be tested on its own and composed by
`style_transfer` and `edit_song`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from tools.music.song import Note, Section, Song, Track
from tools.music.theory import Key, bar_beats, chord_symbol, parse_chord, parse_key, pc_name

DATA = Path(__file__).parent / "data"
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)


@lru_cache(maxsize=1)
def idioms() -> dict:
    """Per-style harmony idioms (which extension per degree, substitutions) from ``data/idioms.json``."""
    return json.loads((DATA / "idioms.json").read_text())


def semitones_between(a: Key, b: Key) -> int:
    """The smallest shift (−5..+6) taking tonic ``a`` to tonic ``b``."""
    shift = (b.tonic - a.tonic) % 12
    return shift - 12 if shift > 6 else shift


def _steps(mode: str) -> tuple[int, ...]:
    return MAJOR_STEPS if mode == "major" else MINOR_STEPS


def map_pitch_class_offset(interval: int, source_mode: str, target_mode: str) -> int:
    """Where an interval above the tonic lands when its scale degree moves to the other mode.

    Diatonic intervals map degree to degree (major 3rd → minor 3rd); chromatic ones keep their
    distance from the degree below them.
    """
    src, dst = _steps(source_mode), _steps(target_mode)
    interval %= 12
    degree = max(i for i, s in enumerate(src) if s <= interval)
    return dst[degree] + (interval - src[degree])


def map_pitch(pitch: int, source: Key, target: Key) -> int:
    """A MIDI pitch moved into ``target`` by scale degree (and octave-nearest transposition)."""
    interval = (pitch - source.tonic) % 12
    base = pitch - interval  # the source tonic at or below the pitch
    mapped = base + map_pitch_class_offset(interval, source.mode, target.mode)
    return max(0, min(127, mapped + semitones_between(source, target)))


def map_chord(symbol: str, source: Key, target: Key) -> str:
    """A chord symbol moved by scale degree: root mapped; the third follows the target scale."""
    chord = parse_chord(symbol)
    interval = (chord.root - source.tonic) % 12
    root = (target.tonic + map_pitch_class_offset(interval, source.mode, target.mode)) % 12
    bass = (target.tonic + map_pitch_class_offset((chord.bass - source.tonic) % 12, source.mode, target.mode)) % 12
    quality = chord.quality
    if source.mode != target.mode and interval in _steps(source.mode):
        degree = _steps(source.mode).index(interval)
        third = _diatonic_third(degree, target.mode)
        seventh = _diatonic_seventh(degree, target.mode)
        if degree == 4 and target.mode == "minor" and quality in ("7", "9", "7b9"):
            pass  # a dominant keeps its leading tone (harmonic minor)
        elif quality in ("", "m"):
            quality = "" if third == 4 else "m"
            if degree == 6 and target.mode == "major":
                quality = "dim"
        elif quality in ("7", "maj7", "m7", "m7b5"):
            quality = {(4, 11): "maj7", (4, 10): "7", (3, 10): "m7", (3, 9): "m7b5"}.get((third, seventh), quality)
            if degree == 6 and target.mode == "major":
                quality = "m7b5"
    return chord_symbol(root, quality, target, bass if bass != root else None)


def _diatonic_third(degree: int, mode: str) -> int:
    steps = _steps(mode)
    return (steps[(degree + 2) % 7] - steps[degree]) % 12


def _diatonic_seventh(degree: int, mode: str) -> int:
    steps = _steps(mode)
    return (steps[(degree + 6) % 7] - steps[degree]) % 12


def _map_sections(song: Song, chord_fn) -> list[Section]:
    return [s.model_copy(update={"chords": [" ".join(chord_fn(c) for c in bar.split()) for bar in s.chords]})
            for s in song.sections]


def _map_tracks(song: Song, pitch_fn) -> tuple[Track, list[Track]]:
    def moved(track: Track) -> Track:
        if track.is_drum:
            return track
        return track.model_copy(update={"notes": [n.model_copy(update={"pitch": pitch_fn(n.pitch)}) for n in track.notes]})

    return moved(song.melody), [moved(t) for t in song.tracks]


def change_key(song: Song, key: str) -> Song:
    """The song in another key (and mode): melody, parts and chords moved by scale degree."""
    source, target = parse_key(song.key), parse_key(key)
    if source == target:
        return song
    melody, tracks = _map_tracks(song, lambda p: map_pitch(p, source, target))
    return song.model_copy(update={"key": str(target), "melody": melody, "tracks": tracks,
                                   "sections": _map_sections(song, lambda c: map_chord(c, source, target))})


def transpose_song(song: Song, semitones: int) -> Song:
    """Every pitched note and chord shifted by ``semitones``; the key follows."""
    if semitones == 0:
        return song
    key = parse_key(song.key)
    target = Key((key.tonic + semitones) % 12, key.mode)
    melody, tracks = _map_tracks(song, lambda p: max(0, min(127, p + semitones)))
    return song.model_copy(update={"key": str(target), "melody": melody, "tracks": tracks, "sections": _map_sections(
        song, lambda c: chord_symbol((parse_chord(c).root + semitones) % 12, parse_chord(c).quality, target,
                                     (parse_chord(c).bass + semitones) % 12 if parse_chord(c).bass != parse_chord(c).root else None))})


def fit_range(song: Song, low: int, high: int) -> Song:
    """Shift the melody by whole octaves so most of it sits inside [low, high] (a voice's range)."""
    pitches = [n.pitch for n in song.melody.notes]
    if not pitches:
        return song
    centre = (low + high) / 2
    mean = sum(pitches) / len(pitches)
    octaves = round((centre - mean) / 12)
    if octaves == 0:
        return song
    notes = [n.model_copy(update={"pitch": max(0, min(127, n.pitch + 12 * octaves))}) for n in song.melody.notes]
    return song.model_copy(update={"melody": song.melody.model_copy(update={"notes": notes})})


def change_meter(song: Song, meter: str) -> Song:
    """Re-bar the song in ``meter``: each old bar becomes one new bar, every note keeps its order,
    pitch and relative place in its bar (times scale by the bar-length ratio), chords stay per bar.
    """
    old, new = song.beats_per_bar, bar_beats(meter)
    if abs(old - new) < 1e-9:
        return song.model_copy(update={"meter": meter})
    ratio = new / old

    def remap(note: Note) -> Note:
        bar, within = divmod(note.start, old)
        start = bar * new + within * ratio
        return note.model_copy(update={"start": round(start, 4), "duration": round(max(note.duration * ratio, 0.05), 4)})

    melody, tracks = (song.melody.model_copy(update={"notes": [remap(n) for n in song.melody.notes]}),
                      [t.model_copy(update={"notes": [remap(n) for n in t.notes]}) for t in song.tracks])
    return song.model_copy(update={"meter": meter, "melody": melody, "tracks": tracks})


def _degree(chord_root: int, key: Key) -> int | None:
    interval = (chord_root - key.tonic) % 12
    steps = _steps(key.mode)
    return steps.index(interval) if interval in steps else None


def revoice_chords(song: Song, style: str) -> Song:
    """Chords re-voiced in the style's idiom (``data/idioms.json``).

    ``extend``: diatonic chords become the style's extended chords per degree (jazz sevenths and
    ninths). ``ii_v``: a bar resolving a fifth down into the next bar's chord is split into that
    chord's ii–V. ``tritone``: the last dominant of each section resolving down a fifth becomes
    its tritone substitute (bII7). Styles without an entry keep their chords.
    """
    idiom = idioms().get(style)
    if not idiom:
        return song
    key = parse_key(song.key)
    extensions = idiom.get("extend", {}).get(key.mode, {})

    def extend(symbol: str) -> str:
        chord = parse_chord(symbol)
        degree = _degree(chord.root, key)
        if degree is None or chord.quality not in ("", "m", "dim", "7", "maj7", "m7") or chord.bass != chord.root:
            return symbol
        quality = extensions.get(str(degree + 1))
        if quality is None:
            return symbol
        minor = quality.startswith("m") and not quality.startswith("maj")
        if chord.quality in ("", "maj7", "7") and minor or chord.quality in ("m", "m7") and not minor:
            return symbol  # a borrowed chord: keep its third
        return chord_symbol(chord.root, quality, key)

    sections = []
    for section in song.sections:
        bars = [" ".join(extend(c) for c in bar.split()) for bar in section.chords]
        if idiom.get("ii_v"):
            for i in range(len(bars) - 1):
                here, there = bars[i].split(), bars[i + 1].split()
                if len(here) != 1 or not there:
                    continue
                a, b = parse_chord(here[0]), parse_chord(there[0])
                if (a.root - b.root) % 12 == 7 and a.quality in ("7", "", "9") and b.quality not in ("7", "9"):
                    ii = chord_symbol((b.root + 2) % 12, "m7b5" if b.is_minor else "m7", key)
                    bars[i] = f"{ii} {chord_symbol(a.root, '7', key)}"
        if idiom.get("tritone"):
            for i in range(len(bars) - 2, -1, -1):
                parts, target = bars[i].split(), bars[i + 1].split()
                last = parse_chord(parts[-1])
                if last.quality == "7" and (last.root - parse_chord(target[0]).root) % 12 == 7:
                    parts[-1] = pc_name((last.root + 6) % 12, flats=True) + "7"  # bII7 is spelled flat
                    bars[i] = " ".join(parts)
                    break
        sections.append(section.model_copy(update={"chords": bars}))
    return song.model_copy(update={"sections": sections})
