"""Comparing two versions of a song: what changed in tempo, key, meter, form, chords, melody,
lyrics and instruments, per section, as plain data a chat reply or UI can show side by side."""

from __future__ import annotations

from tools.music.song import Song


def _section_notes(song: Song, name: str) -> list[tuple]:
    section = next(s for s in song.sections if s.name == name)
    start, end = section.start_bar * song.beats_per_bar, section.end_bar * song.beats_per_bar
    return [(n.pitch, round(n.start - start, 3), round(n.duration, 3), n.syllable)
            for n in song.melody.notes if start <= n.start < end]


def _section_parts(song: Song, name: str) -> dict[str, int]:
    section = next(s for s in song.sections if s.name == name)
    start, end = section.start_bar * song.beats_per_bar, section.end_bar * song.beats_per_bar
    return {t.name: sum(1 for n in t.notes if start <= n.start < end) for t in song.tracks}


def compare_songs(before: Song, after: Song) -> dict:
    """A structured diff: song-level fields that changed, sections added/removed, and per common
    section which of bars/chords/energy/melody/lyrics/parts changed (with before/after values)."""
    fields = {}
    for name in ("title", "key", "tempo_bpm", "meter", "style_tags"):
        a, b = getattr(before, name), getattr(after, name)
        if a != b:
            fields[name] = {"before": a, "after": b}
    names_a, names_b = [s.name for s in before.sections], [s.name for s in after.sections]
    sections = {}
    for name in [n for n in names_b if n in names_a]:
        sa, sb = before.find_section(name), after.find_section(name)
        changed = {}
        for attr in ("bars", "chords", "energy", "lyrics"):
            if getattr(sa, attr) != getattr(sb, attr):
                changed[attr] = {"before": getattr(sa, attr), "after": getattr(sb, attr)}
        if _section_notes(before, name) != _section_notes(after, name):
            changed["melody"] = {"before_notes": len(_section_notes(before, name)),
                                 "after_notes": len(_section_notes(after, name))}
        pa, pb = _section_parts(before, name), _section_parts(after, name)
        if pa != pb:
            changed["parts"] = {"before": pa, "after": pb}
        if sa.start_bar != sb.start_bar:
            changed["moved"] = {"before_bar": sa.start_bar, "after_bar": sb.start_bar}
        if changed:
            sections[name] = changed
    return {"song": fields, "sections_added": [n for n in names_b if n not in names_a],
            "sections_removed": [n for n in names_a if n not in names_b], "sections_changed": sections,
            "unchanged_sections": [n for n in names_b if n in names_a and n not in sections]}
