"""Lyrics into song sections: honour [verse]/[chorus] tags, split untagged text sensibly.

Tags name the section kind ([verse], [Verse 2], [pre-chorus], [chorus], [hook], [bridge],
[intro], [outro]). Untagged text splits at blank lines into stanzas (or every four lines); a
stanza that returns is the chorus; otherwise the second stanza becomes the chorus and comes back
after every later verse, because songs return to their chorus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.music.errors import TunesmithError

KIND_ALIASES = {
    "verse": "verse", "v": "verse", "chorus": "chorus", "hook": "chorus", "refrain": "chorus",
    "pre-chorus": "prechorus", "prechorus": "prechorus", "pre chorus": "prechorus", "pre": "prechorus",
    "bridge": "bridge", "middle 8": "bridge", "intro": "intro", "outro": "outro", "coda": "outro",
    "post-chorus": "chorus", "instrumental": "instrumental", "solo": "instrumental", "break": "instrumental",
}
MAX_LYRIC_CHARS = 20_000
MAX_LINE_WORDS = 24
_TAG = re.compile(r"^\s*[\[(]\s*([A-Za-z][A-Za-z \-]*?)\s*(\d+)?\s*[\])]\s*:?\s*$")


@dataclass
class LyricSection:
    kind: str
    lines: list[str] = field(default_factory=list)


def _kind_of(tag: str) -> str:
    key = tag.strip().lower()
    if key in KIND_ALIASES:
        return KIND_ALIASES[key]
    for alias, kind in KIND_ALIASES.items():
        if key.startswith(alias):
            return kind
    raise TunesmithError(f"Lyric section tag [{tag}] is unknown",
                         hint="use [verse], [pre-chorus], [chorus], [bridge], [intro] or [outro]")


def _clean_line(line: str) -> str:
    line = re.sub(r"\s+", " ", line.strip())
    words = line.split(" ")
    return " ".join(words[:MAX_LINE_WORDS])


def parse_lyrics(text: str) -> list[LyricSection]:
    """Sections in singing order from user lyrics.

    Raises:
        TunesmithError: empty or oversized text, or an unknown tag.
    """
    if text is None or not text.strip():
        raise TunesmithError("The lyrics are empty", hint="paste some lines or leave lyrics out")
    if len(text) > MAX_LYRIC_CHARS:
        raise TunesmithError(f"The lyrics are {len(text)} characters; the limit is {MAX_LYRIC_CHARS}")
    if not re.search(r"[A-Za-z]", text):
        raise TunesmithError("The lyrics contain no words to sing")
    raw_lines = text.replace("\r\n", "\n").split("\n")
    if any(_TAG.match(line) for line in raw_lines):
        return _tagged(raw_lines)
    return _untagged(raw_lines)


def _tagged(raw_lines: list[str]) -> list[LyricSection]:
    sections: list[LyricSection] = []
    by_kind: dict[str, list[str]] = {}
    for raw in raw_lines:
        match = _TAG.match(raw)
        if match:
            sections.append(LyricSection(_kind_of(match.group(1))))
            continue
        line = _clean_line(raw)
        if not line:
            continue
        if not sections:
            sections.append(LyricSection("verse"))
        sections[-1].lines.append(line)
    for section in sections:
        # an empty [chorus] tag repeats the chorus sung before ("[Chorus]" alone as a reminder)
        if not section.lines and section.kind in by_kind:
            section.lines = list(by_kind[section.kind])
        if section.lines and section.kind in ("chorus",):
            by_kind.setdefault(section.kind, section.lines)
    return [s for s in sections if s.lines or s.kind in ("intro", "outro", "instrumental")]


def _stanzas(raw_lines: list[str]) -> list[list[str]]:
    stanzas: list[list[str]] = [[]]
    for raw in raw_lines:
        line = _clean_line(raw)
        if line:
            stanzas[-1].append(line)
        elif stanzas[-1]:
            stanzas.append([])
    stanzas = [s for s in stanzas if s]
    if len(stanzas) == 1 and len(stanzas[0]) > 6:
        lines = stanzas[0]
        stanzas = [lines[i:i + 4] for i in range(0, len(lines), 4)]
    return stanzas


def _untagged(raw_lines: list[str]) -> list[LyricSection]:
    stanzas = _stanzas(raw_lines)
    keyed = ["\n".join(s).lower() for s in stanzas]
    repeated = {k for k in keyed if keyed.count(k) > 1}
    if repeated:
        return [LyricSection("chorus" if k in repeated else "verse", list(s)) for k, s in zip(keyed, stanzas)]
    if len(stanzas) == 1:
        return [LyricSection("verse", stanzas[0])]
    chorus = stanzas[1]
    sections = [LyricSection("verse", stanzas[0]), LyricSection("chorus", list(chorus))]
    for stanza in stanzas[2:]:
        sections.append(LyricSection("verse", stanza))
        sections.append(LyricSection("chorus", list(chorus)))
    return sections
