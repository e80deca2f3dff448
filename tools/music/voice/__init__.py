"""Singing voice: a song's melody and syllables sung by espeak-ng speech re-pitched with WORLD.

Entry point: `sing_song(song, voice=...)` → mono float32 audio at 44.1 kHz, as long as the song.
"""

from __future__ import annotations

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.music.voice.phonemes import clean_word
from tools.music.voice.singer import SungNote, SungSyllable, group_phrases, singer

VOICE_NAMES = ("female", "male")


def song_syllables(song: Song, *, transpose: int = 0) -> list[SungSyllable]:
    """The melody as syllables to sing: words rebuilt from "driv-"/"ing", melisma notes attached."""
    groups: list[tuple[str, list]] = []  # (syllable text, notes)
    for note in sorted(song.melody.notes, key=lambda n: n.start):
        if note.syllable is not None and note.syllable.strip():
            groups.append((note.syllable.strip(), [note]))
        elif groups:
            groups[-1][1].append(note)
    result: list[SungSyllable] = []
    word_parts: list[tuple[str, list]] = []

    def flush() -> None:
        word = clean_word("".join(text.rstrip("-") for text, _ in word_parts))
        if word:
            for index, (_, notes) in enumerate(word_parts):
                result.append(SungSyllable(word=word, index=index, count=len(word_parts), notes=tuple(
                    SungNote(song.beats_to_seconds(n.start), song.beats_to_seconds(n.end), float(n.pitch + transpose))
                    for n in notes)))
        word_parts.clear()

    for text, notes in groups:
        word_parts.append((text, notes))
        if not text.endswith("-"):
            flush()
    if word_parts:
        flush()
    return result


def sing_song(song: Song, *, voice: str = "female", sample_rate: int = 44100,
              total_samples: int | None = None) -> np.ndarray:
    """The melody sung with its syllables; silence where nothing is sung.

    Raises:
        TunesmithError: unknown voice, a melody without syllables, or espeak-ng missing.
    """
    if voice not in VOICE_NAMES:
        raise TunesmithError(f"Voice {voice!r} is unknown", hint="use 'female' or 'male'")
    syllables = song_syllables(song)
    if not syllables:
        raise TunesmithError("The melody carries no lyrics to sing", hint="add lyrics or use vocals='none'")
    if total_samples is None:
        total_samples = int((song.duration_seconds + 1.5) * sample_rate)
    out = np.zeros(total_samples, dtype=np.float32)
    performer = singer()
    for phrase in group_phrases(syllables):
        start, audio = performer.sing_phrase(phrase, voice=voice, sample_rate=sample_rate)
        first = int(round(start * sample_rate))
        lo, hi = max(first, 0), min(first + audio.size, total_samples)
        if hi > lo:
            out[lo:hi] += audio[lo - first:hi - first]
    return out
