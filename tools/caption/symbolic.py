"""Symbolic features of a Song: key, meter, chords, instruments, texture, vocals, range, structure.

Each function measures one attribute from the notes so the same code describes a score, a MIDI
file, a Tunesmith song and an audio transcription.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tools.music.song import Song, Track

VOCAL_PROGRAMS = {52, 53, 54}  # Choir Aahs, Voice Oohs, Synth Voice


def pitched_notes(song: Song) -> list:
    return [n for t in song.all_tracks() if not t.is_drum for n in t.notes]


def instrument_name(track: Track) -> str:
    """General MIDI name of a track's program (the drum kit for drum tracks)."""
    if track.is_drum:
        return "Drum Kit"
    import pretty_midi

    return pretty_midi.program_to_instrument_name(track.program)


def instruments(song: Song) -> list[dict]:
    """Instruments ranked by sounding time (MidiCaps keeps the top five)."""
    time: Counter = Counter()
    for track in song.all_tracks():
        time[instrument_name(track)] += sum(n.duration for n in track.notes)
    total = sum(time.values()) or 1.0
    return [{"name": name, "share": round(t / total, 3), "confidence": 1.0} for name, t in time.most_common(5)]


def voice_count(notes: list) -> tuple[int, float]:
    """(maximum, mean) number of notes sounding at once, sampled on a 1/4-beat grid."""
    if not notes:
        return 0, 0.0
    end = max(n.start + n.duration for n in notes)
    grid = np.arange(0, end, 0.25)
    counts = np.zeros(len(grid))
    for n in notes:
        counts[(grid >= n.start) & (grid < n.start + n.duration)] += 1
    sounding = counts[counts > 0]
    return int(counts.max()), float(sounding.mean()) if sounding.size else 0.0


def texture(notes: list) -> tuple[str, float, int]:
    """Solo line, homophonic or polyphonic, with a confidence, and the typical number of voices.

    Homophony shows as voices that start together: the share of onsets shared by ≥ 2 notes.
    """
    peak, mean = voice_count(notes)
    voices = int(round(mean))
    if mean < 1.3:
        return "solo line", round(float(np.clip(1.6 - mean, 0.3, 1.0)), 2), 1
    onsets = Counter(round(n.start, 2) for n in notes)
    shared = sum(1 for c in onsets.values() if c >= 2) / len(onsets)
    if shared >= 0.6:
        return "homophonic", round(float(shared), 2), max(voices, 2)
    return "polyphonic", round(float(1 - shared), 2), max(voices, 2)


def vocals(song: Song) -> tuple[bool, float]:
    """Whether a part is sung: lyric syllables on the melody, or a voice program."""
    if any(n.syllable for n in song.melody.notes):
        return True, 1.0
    if any(t.program in VOCAL_PROGRAMS and not t.is_drum and t.notes for t in song.all_tracks()):
        return True, 0.8
    return False, 0.8


def melody_track(song: Song) -> Track | None:
    if song.melody.notes:
        return song.melody
    pitched = [t for t in song.tracks if not t.is_drum and t.notes]
    return max(pitched, key=lambda t: np.mean([n.pitch for n in t.notes])) if pitched else None


def melodic_range(song: Song) -> dict | None:
    """Lowest and highest melody notes and the span in semitones."""
    import pretty_midi

    track = melody_track(song)
    if track is None:
        return None
    low, high = min(n.pitch for n in track.notes), max(n.pitch for n in track.notes)
    return {"lowest": pretty_midi.note_number_to_name(low), "highest": pretty_midi.note_number_to_name(high),
            "semitones": high - low}


def bar_vectors(notes: list, beats_per_bar: float, bars: int) -> np.ndarray:
    """One 12-d duration-weighted pitch-class vector per bar (unit length), for self-similarity."""
    vectors = np.zeros((bars, 12))
    for n in notes:
        first, last = int(n.start // beats_per_bar), int((n.start + n.duration - 1e-6) // beats_per_bar)
        for bar in range(first, min(last, bars - 1) + 1):
            lo, hi = bar * beats_per_bar, (bar + 1) * beats_per_bar
            vectors[bar, n.pitch % 12] += max(0.0, min(n.start + n.duration, hi) - max(n.start, lo))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def structure(notes: list, beats_per_bar: float, *, phrase_bars: int = 4) -> dict | None:
    """Repeated sections from the self-similarity of 4-bar phrases: letters like "A A B A".

    Two phrases get the same letter when their bar-by-bar pitch-class vectors correlate ≥ 0.9 on
    average; the confidence is the mean similarity of the matches found (0.5 when none repeat).
    """
    if not notes:
        return None
    end = max(n.start + n.duration for n in notes)
    bars = int(np.ceil(end / beats_per_bar - 1e-6))
    phrases = bars // phrase_bars
    if phrases < 2:
        return None
    vec = bar_vectors(notes, beats_per_bar, phrases * phrase_bars).reshape(phrases, phrase_bars, 12)
    letters: list[str] = []
    sims: list[float] = []
    for i in range(phrases):
        best, best_sim = None, 0.0
        for j in range(i):
            sim = float(np.mean(np.sum(vec[i] * vec[j], axis=1)))
            if sim > best_sim:
                best, best_sim = j, sim
        if best is not None and best_sim >= 0.9:
            letters.append(letters[best])
            sims.append(best_sim)
        else:
            letters.append(chr(ord("A") + len(set(letters))) if len(set(letters)) < 26 else "Z")
    repeated = len(letters) - len(set(letters))
    return {"form": " ".join(letters), "phrase_bars": phrase_bars, "repeats": repeated,
            "confidence": round(float(np.mean(sims)) if sims else 0.5, 2)}
