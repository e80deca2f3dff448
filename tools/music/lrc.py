"""Timed lyrics (LRC): one ``[mm:ss.xx]`` stamp per sung line, at its first syllable."""

from __future__ import annotations

from tools.music.song import Song


def format_timestamp(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"[{int(minutes):02d}:{rest:05.2f}]"


def line_start_times(song: Song) -> dict[int, float]:
    """Seconds at which each lyric line's first syllable is sung, keyed by line index."""
    starts: dict[int, float] = {}
    for note in song.melody.notes:
        if note.syllable is not None and note.line is not None and note.line not in starts:
            starts[note.line] = song.beats_to_seconds(note.start)
    return starts


def song_to_lrc(song: Song) -> str:
    lines = song.lyric_lines()
    starts = line_start_times(song)
    header = [f"[ti:{song.title}]", "[by:Tunesmith]"]
    body = [f"{format_timestamp(starts[i])}{text}" for i, text in enumerate(lines) if i in starts]
    return "\n".join(header + body) + "\n"


def parse_lrc(text: str) -> list[tuple[float, str]]:
    """(seconds, line) pairs from LRC text; tag lines such as ``[ti:…]`` are skipped."""
    import re

    pairs: list[tuple[float, str]] = []
    for raw in text.splitlines():
        match = re.match(r"\[(\d+):(\d+(?:\.\d+)?)\](.*)", raw)
        if match:
            pairs.append((int(match.group(1)) * 60 + float(match.group(2)), match.group(3).strip()))
    return pairs
