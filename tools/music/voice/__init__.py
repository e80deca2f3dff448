"""Singing voice: a song's melody and syllables sung by espeak-ng speech re-pitched with WORLD.

Entry point: `sing_song(song, voice=...)` → mono float32 audio at 44.1 kHz, as long as the song.
Phrases are independent: the song renderer sings them all in its helper process with
`sing_phrases`, while the main process renders the band.
"""

from __future__ import annotations

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.music.voice.phonemes import clean_word
from tools.music.voice.singer import SungNote, SungSyllable, VoiceParams, group_phrases, singer

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


def sing_phrases(phrases: list[list[SungSyllable]], voice: str | VoiceParams, sample_rate: int) -> list[tuple[float, np.ndarray]]:
    """(start seconds, audio) of each phrase, by this process's singer (and its caches)."""
    performer = singer()
    return [performer.sing_phrase(phrase, voice=voice, sample_rate=sample_rate) for phrase in phrases]


def sing_song(song: Song, *, voice: str | VoiceParams = "female", sample_rate: int = 44100,
              total_samples: int | None = None) -> np.ndarray:
    """The melody sung with its syllables; silence where nothing is sung.

    Args:
        voice: "female", "male" or a style's `VoiceParams`.

    Raises:
        TunesmithError: unknown voice, a melody without syllables, or espeak-ng missing.
    """
    if isinstance(voice, str) and voice not in VOICE_NAMES:
        raise TunesmithError(f"Voice {voice!r} is unknown", hint="use 'female' or 'male'")
    syllables = song_syllables(song)
    if not syllables:
        raise TunesmithError("The melody carries no lyrics to sing", hint="add lyrics or use vocals='none'")
    if total_samples is None:
        total_samples = int((song.duration_seconds + 1.5) * sample_rate)
    phrases = group_phrases(syllables)
    out = np.zeros(total_samples, dtype=np.float32)
    # in song order, so overlapping breaths sum the same way every time
    for start, audio in sing_phrases(phrases, voice, sample_rate):
        first = int(round(start * sample_rate))
        lo, hi = max(first, 0), min(first + audio.size, total_samples)
        if hi > lo:
            out[lo:hi] += audio[lo - first:hi - first]
    return out
