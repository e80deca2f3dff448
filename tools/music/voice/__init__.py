"""Singing voice: a song's melody and syllables sung by espeak-ng speech re-pitched with WORLD.

Entry point: `sing_song(song, voice=...)` → mono float32 audio at 44.1 kHz, as long as the song.
Phrases are independent, so a caller with a spare core passes a process pool and about half of
them are sung there (`sing_phrases` is the job it runs).
"""

from __future__ import annotations

from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool

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


def _phrase_key(phrase: list[SungSyllable]) -> tuple:
    """What a phrase sounds like, wherever it starts: repeated choruses share one key."""
    origin = phrase[0].start
    return tuple((s.word, s.index, s.count, tuple((round(n.start - origin, 4), round(n.end - origin, 4), n.pitch)
                                                  for n in s.notes)) for s in phrase)


def split_phrases(phrases: list[list[SungSyllable]], share: float) -> tuple[list[int], list[int]]:
    """Phrase indices (local, remote), ``share`` of the sung seconds remote.

    Repeats of one phrase stay on one side, so each process's phrase cache sings it once; the
    longest phrases are placed first (greedy), and the split depends only on the phrases, so a
    re-render of the same song sends the same phrases to the same worker (whose caches then hit).
    """
    groups: dict[tuple, list[int]] = {}
    for index, phrase in enumerate(phrases):
        groups.setdefault(_phrase_key(phrase), []).append(index)
    cost = {key: phrases[members[0]][-1].end - phrases[members[0]][0].start for key, members in groups.items()}
    total = sum(cost.values())
    local: list[int] = []
    remote: list[int] = []
    remote_cost = 0.0
    for key in sorted(groups, key=lambda k: (-cost[k], groups[k][0])):
        if remote_cost + cost[key] / 2 <= share * total:
            remote += groups[key]
            remote_cost += cost[key]
        else:
            local += groups[key]
    return sorted(local), sorted(remote)


def sing_song(song: Song, *, voice: str | VoiceParams = "female", sample_rate: int = 44100,
              total_samples: int | None = None,
              pool: Executor | None = None, share: float = 0.5) -> np.ndarray:
    """The melody sung with its syllables; silence where nothing is sung.

    Args:
        voice: "female", "male" or a style's `VoiceParams`.
        pool: a process pool to sing about ``share`` of the phrases in (while this process sings
            the rest). The phrases are synthesised the same way there, from that process's own
            word analyses (espeak-ng varies slightly call to call, so a word first analysed there
            may differ a little from here). A broken pool is sung around.

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
    local, remote = split_phrases(phrases, share) if pool is not None and len(phrases) > 1 else (
        list(range(len(phrases))), [])
    job = pool.submit(sing_phrases, [phrases[i] for i in remote], voice, sample_rate) if remote else None
    placed = dict(zip(local, sing_phrases([phrases[i] for i in local], voice, sample_rate)))
    if job is not None:
        try:
            placed.update(zip(remote, job.result()))
        except (BrokenProcessPool, OSError):
            placed.update(zip(remote, sing_phrases([phrases[i] for i in remote], voice, sample_rate)))
    out = np.zeros(total_samples, dtype=np.float32)
    for index in range(len(phrases)):  # in song order, so overlapping breaths sum the same way every time
        start, audio = placed[index]
        first = int(round(start * sample_rate))
        lo, hi = max(first, 0), min(first + audio.size, total_samples)
        if hi > lo:
            out[lo:hi] += audio[lo - first:hi - first]
    return out
