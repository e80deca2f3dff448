"""Addressing parts of a song by name: "chorus", "chorus 2", "verse 1 line 3", "intro".

A name that matches a section exactly wins; "chorus 2" is the second section of kind chorus;
a bare kind ("chorus") with no exact match means every section of that kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.music.errors import TunesmithError
from tools.music.song import Section, Song

KIND_WORDS = {"pre-chorus": "prechorus", "pre chorus": "prechorus", "prechorus": "prechorus", "hook": "chorus",
              "refrain": "chorus", "middle 8": "bridge", "solo": "instrumental", "break": "instrumental"}


@dataclass(frozen=True)
class Target:
    """Sections an edit touches, and optionally one lyric line (0-based within the section)."""

    sections: tuple[Section, ...]
    line: int | None = None

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sections]


def _unknown(song: Song, address: str) -> TunesmithError:
    names = ", ".join(s.name for s in song.sections) or "(none)"
    return TunesmithError(f"The song has no section {address!r}", hint=f"sections: {names}")


def resolve(song: Song, address: str | None) -> Target:
    """The sections (and line) ``address`` names; None or "" or "whole song" means all sections.

    Raises:
        TunesmithError: no such section or line; the message lists the song's sections.
    """
    if not song.sections:
        raise TunesmithError("The song has no sections", hint="it is empty; make or import a song first")
    text = " ".join((address or "").lower().split())
    if text in ("", "all", "song", "whole song", "the whole song", "everything"):
        return Target(tuple(song.sections))
    line = None
    match = re.fullmatch(r"(.*?)\s*,?\s*line\s+(\d+)", text)
    if match:
        text, line = match.group(1).strip(), int(match.group(2)) - 1
    text = re.sub(r"^(the)\s+", "", text)
    ordinal = re.fullmatch(r"(first|second|third|fourth|last|final)\s+(.+)", text)
    if ordinal:
        word, rest = ordinal.groups()
        kind = KIND_WORDS.get(rest, rest)
        of_kind = [s for s in song.sections if s.kind == kind]
        if not of_kind:
            raise _unknown(song, address or "")
        index = {"first": 0, "second": 1, "third": 2, "fourth": 3}.get(word, len(of_kind) - 1)
        text = of_kind[index].name.lower() if index < len(of_kind) else text
    exact = [s for s in song.sections if s.name.lower() == text]
    if not exact:
        m = re.fullmatch(r"(.+?)\s*(\d+)?", text)
        word, number = (m.group(1).strip(), m.group(2)) if m else (text, None)
        kind = KIND_WORDS.get(word, word)
        of_kind = [s for s in song.sections if s.kind == kind]
        if number is not None:
            index = int(number) - 1
            exact = [of_kind[index]] if 0 <= index < len(of_kind) else []
        else:
            exact = of_kind
    if not exact:
        raise _unknown(song, address or "")
    if line is not None:
        if len(exact) > 1:
            exact = exact[:1]
        section = exact[0]
        if not 0 <= line < len(section.lyrics):
            raise TunesmithError(f"{section.name} has no line {line + 1}",
                                 hint=f"it has {len(section.lyrics)} lyric line(s)")
    return Target(tuple(exact), line)


def beat_range(song: Song, section: Section) -> tuple[float, float]:
    """Start and end of a section in beats."""
    return section.start_bar * song.beats_per_bar, section.end_bar * song.beats_per_bar


def global_line_index(song: Song, section: Section, line: int) -> int:
    """The index into ``song.lyric_lines()`` of a section's line."""
    index = 0
    for s in song.sections:
        if s.name == section.name:
            return index + line
        index += len(s.lyrics)
    raise _unknown(song, section.name)
