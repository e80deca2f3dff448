"""edit_song's changes: each edit field applied to the addressed sections only.

Everything outside the target keeps its notes (sections after a bar-count change keep their
content and move in time), so the section render cache reuses their audio.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.music.theory import parse_key
from tools.restyle.arrange import band_tracks, blueprint_for, default_roles, instrument
from tools.restyle.harmony import map_chord, map_pitch
from tools.restyle.sections import Target, beat_range, global_line_index
from tools.restyle.style import SongStyle, song_style, vocals_of
from tools.song.presets import Preset

DATA = Path(__file__).parent / "data"
ENERGY_STEP = 0.25
VELOCITY_PER_ENERGY = 0.6  # an imported part's velocity: +15 % per energy step


@lru_cache(maxsize=1)
def instruction_words() -> dict[str, list[str]]:
    return json.loads((DATA / "instructions.json").read_text())


@dataclass
class EditFields:
    """Structured edit (what the planner fills, or what `parse_instruction` reads from words)."""

    energy: float = 0.0  # +/- steps
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    bars: int = 0
    lyrics: str | None = None
    key: str | None = None
    tempo_bpm: float | None = None


def parse_instruction(text: str, song: Song) -> EditFields:
    """Free words → fields: "bigger", "add strings", "without drums", "faster", "2 bars longer", "in D minor"."""
    words = " ".join((text or "").lower().split())
    fields = EditFields()
    table = instruction_words()

    def has(group: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", words) for w in table[group])

    fields.energy = (1.0 if has("energy_up") else 0.0) - (1.0 if has("energy_down") else 0.0)
    if has("faster"):
        fields.tempo_bpm = round(song.tempo_bpm * 1.1, 2)
    elif has("slower"):
        fields.tempo_bpm = round(song.tempo_bpm / 1.1, 2)
    count = re.search(r"(\d+)\s+bars?", words)
    n = int(count.group(1)) if count else 2
    fields.bars = n if has("longer") else -n if has("shorter") else 0
    for verb, bucket in (("add|with|bring in", fields.add), ("remove|without|no|drop|mute", fields.remove)):
        for m in re.finditer(rf"\b(?:{verb})\s+(?:an?\s+|the\s+|some\s+)?([a-z ]+?)(?=$|,|\.|\band\b)", words):
            bucket.append(m.group(1).strip())
    key = re.search(r"\bin\s+([a-g](?:#|b| sharp| flat)?\s+(?:major|minor))\b", words)
    if key:
        fields.key = str(parse_key(key.group(1)))
    if has("rewrite"):
        fields.lyrics = "rewrite"
    return fields


def _in(note: Note, ranges: list[tuple[float, float]]) -> bool:
    return any(a <= note.start < b for a, b in ranges)


def change_energy(song: Song, target: Target, steps: float, *, style: SongStyle | None = None, seed: int = 0) -> Song:
    """Raise or lower the sections' energy in the song's own style (default: `song_style`).

    A song whose band came from its preset (tagged) is re-arranged there with the parts that
    energy brings (drums, pads, second comping) and velocities that follow it. An imported song
    (guessed style) keeps its own parts, played louder or softer, and gains only the band's parts
    for roles it has none of (a chorale made bigger gets bass and drums, not a second piano).
    """
    style = style or song_style(song)
    preset = style.preset
    vocals = vocals_of(song)
    names = set(target.names)
    sections = [s.model_copy(update={"energy": round(min(1.0, max(0.0, s.energy + ENERGY_STEP * steps)), 2)})
                if s.name in names else s for s in song.sections]
    edited = song.model_copy(update={"sections": sections})
    roles = {s.name: default_roles(preset, s.kind, s.energy, vocals) for s in sections}
    programs = {t.role: t.program for t in song.tracks if not t.is_drum}
    blueprint = blueprint_for(edited, preset, vocals=vocals, instrumentation=programs, roles=roles, seed=seed)
    gains = {s.name: 1.0 + VELOCITY_PER_ENERGY * (e.energy - s.energy)
             for s, e in zip(song.sections, sections) if s.name in names}
    return _splice_band(song, edited, blueprint, gains, seed, keep_own=style.method == "guess")


def _scaled(note: Note, gain: float) -> Note:
    return note.model_copy(update={"velocity": int(min(127, max(1, round(note.velocity * gain))))})


def _splice_band(original: Song, edited: Song, blueprint, gains: dict[str, float], seed: int, *,
                 keep_own: bool) -> Song:
    """The band's fresh parts replace the song's in the target sections (by role), or, with
    ``keep_own``, the song's parts stay (velocities times the section's gain) and only roles the
    song lacks are added. A second track of a role already replaced keeps its notes too."""
    spans = [(beat_range(edited, s), gains[s.name]) for s in edited.sections if s.name in gains]
    ranges = [span for span, _ in spans]

    def own(note: Note) -> Note:
        gain = next((g for (a, b), g in spans if a <= note.start < b), 1.0)
        return _scaled(note, gain) if gain != 1.0 else note

    fresh = {t.role: t for t in band_tracks(edited, blueprint, seed=seed)}
    played: set[str] = set()
    tracks: list[Track] = []
    for track in original.tracks:
        if keep_own or track.role in played:
            fresh.pop(track.role, None)  # the song's own part plays this role
            notes = [own(n) for n in track.notes]
        else:
            new = fresh.pop(track.role, None)
            notes = [n for n in track.notes if not _in(n, ranges)]
            notes += [n for n in (new.notes if new else []) if _in(n, ranges)]
        played.add(track.role)
        tracks.append(track.model_copy(update={"notes": sorted(notes, key=lambda n: (n.start, n.pitch))}))
    for role, new in fresh.items():  # a part the section now has that the song did not
        notes = [n for n in new.notes if _in(n, ranges)]
        if notes:
            tracks.append(new.model_copy(update={"notes": notes}))
    return edited.model_copy(update={"tracks": tracks})


def add_instrument(song: Song, target: Target, name: str, *, preset: Preset | None = None, seed: int = 0) -> Song:
    """A new part (its GM program, the style's pattern for its role) in the target sections.

    A lead instrument quotes the hook where a voice sings; in an instrumental song (where the
    band has no lead apart from the melody) it doubles the melody instead.
    """
    canonical, program, role = instrument(name)
    preset = preset or song_style(song).preset
    vocals = vocals_of(song)
    names = set(target.names)
    spec_role = role if role == "drums" or getattr(preset.instruments, role, None) is not None else "comp"
    roles = {s.name: [spec_role] for s in song.sections}
    blueprint = blueprint_for(song, preset, vocals=vocals, instrumentation={spec_role: program}, roles=roles, seed=seed)
    fresh = [t for t in band_tracks(song, blueprint, seed=seed) if t.role == spec_role]
    ranges = [beat_range(song, s) for s in song.sections if s.name in names]
    if not fresh and spec_role == "lead" and vocals == "none":
        fresh = [Track(name=canonical, program=program, role="lead", notes=song.melody.notes,
                       volume=preset.instruments.lead.volume)]
    if not fresh:
        raise TunesmithError(f"The {preset.name} style has no part a {canonical} could play")
    notes = [n for n in fresh[0].notes if _in(n, ranges)]
    if not notes:
        raise TunesmithError(f"A {canonical} would have nothing to play in {', '.join(target.names)}",
                             hint="name a section with a melody or chords")
    track = Track(name=canonical.title(), program=program, is_drum=spec_role == "drums", role=spec_role,
                  notes=notes, volume=fresh[0].volume)
    return song.model_copy(update={"tracks": [*song.tracks, track]})


def remove_instrument(song: Song, target: Target, name: str) -> Song:
    """Silence every part matching the name (track name, role or instrument word) in the target."""
    wanted = name.lower().strip()
    try:
        _, program, role = instrument(wanted)
    except TunesmithError:
        program, role = None, None
    ranges = [beat_range(song, s) for s in target.sections]
    hit = False
    tracks = []
    for t in song.tracks:
        matches = (t.name.lower() == wanted or t.role == wanted or (role == "drums" and t.is_drum)
                   or (program is not None and t.program == program and not t.is_drum))
        if matches:
            hit = True
            t = t.model_copy(update={"notes": [n for n in t.notes if not _in(n, ranges)]})
        tracks.append(t)
    if not hit:
        raise TunesmithError(f"No part matches {name!r}", hint="parts: " + ", ".join(t.name for t in song.tracks))
    return song.model_copy(update={"tracks": [t for t in tracks if t.notes]})


def change_bars(song: Song, target: Target, bars: int) -> Song:
    """Extend a section by repeating its last bars (instrumental), or shorten it from its end;
    everything after moves by the difference and keeps its content."""
    if bars == 0:
        return song
    if len(target.sections) != 1:
        raise TunesmithError("Changing the length needs one section", hint="name it, e.g. 'chorus 2'")
    section = target.sections[0]
    bar = song.beats_per_bar
    if bars < 0 and section.bars + bars < 1:
        raise TunesmithError(f"{section.name} has only {section.bars} bars", hint="shorten by fewer bars")
    start, end = beat_range(song, section)
    shift = bars * bar

    def moved(n: Note) -> Note:
        return n.model_copy(update={"start": round(n.start + shift, 4)}) if n.start >= end - 1e-6 else n

    def edit_track(track: Track, *, repeat: bool) -> Track:
        notes = []
        for n in track.notes:
            if bars < 0 and end + shift - 1e-6 <= n.start < end:
                continue  # cut bars
            notes.append(moved(n))
        if bars > 0 and repeat:
            src_start = max(start, end - shift)
            span = end - src_start
            for k in range(0, bars * int(round(bar)), max(1, int(round(span)))):
                for n in track.notes:
                    if src_start <= n.start < end and end + k + (n.start - src_start) < end + shift:
                        notes.append(n.model_copy(update={"start": round(end + k + n.start - src_start, 4)}))
        return track.model_copy(update={"notes": sorted(notes, key=lambda n: (n.start, n.pitch))})

    melody = edit_track(song.melody, repeat=False)
    sung_lines = {n.line for n in melody.notes if n.line is not None}
    tracks = [edit_track(t, repeat=True) for t in song.tracks]
    sections = []
    for s in song.sections:
        if s.name == section.name:
            chords = list(s.chords)
            chords = chords + [chords[(len(chords) - bars + i) % len(chords)] for i in range(bars)] if bars > 0 else chords[:bars]
            s = s.model_copy(update={"bars": s.bars + bars, "chords": chords})
        elif s.start_bar >= section.end_bar:
            s = s.model_copy(update={"start_bar": s.start_bar + bars})
        sections.append(s)
    edited = song.model_copy(update={"sections": sections, "melody": melody, "tracks": tracks})
    if bars < 0:
        edited = _drop_unsung_lines(edited, section.name, sung_lines, song)
    return edited


def _drop_unsung_lines(song: Song, name: str, sung: set[int], before: Song) -> Song:
    """After a cut, a lyric line none of whose notes remain leaves the section's lyrics."""
    keep: list[int] = []
    index = 0
    sections = []
    for s in song.sections:
        lines = []
        for text in s.lyrics:
            if s.name != name or index in sung:
                lines.append(text)
                keep.append(index)
            index += 1
        sections.append(s.model_copy(update={"lyrics": lines}))
    renumber = {old: new for new, old in enumerate(keep)}
    notes = [n.model_copy(update={"line": renumber.get(n.line)}) if n.line is not None else n for n in song.melody.notes]
    return song.model_copy(update={"sections": sections, "melody": song.melody.model_copy(update={"notes": notes})})


def change_section_key(song: Song, target: Target, key: str) -> Song:
    """Move the target sections into ``key`` by scale degree (a modulation); the rest stays."""
    source, dest = parse_key(song.key), parse_key(key)
    names = set(target.names)
    if len(names) == len(song.sections):
        from tools.restyle.harmony import change_key

        return change_key(song, key)
    ranges = [beat_range(song, s) for s in target.sections]

    def move(track: Track) -> Track:
        if track.is_drum:
            return track
        return track.model_copy(update={"notes": [n.model_copy(update={"pitch": map_pitch(n.pitch, source, dest)})
                                                  if _in(n, ranges) else n for n in track.notes]})

    sections = [s.model_copy(update={"chords": [" ".join(map_chord(c, source, dest) for c in b.split()) for b in s.chords]})
                if s.name in names else s for s in song.sections]
    return song.model_copy(update={"sections": sections, "melody": move(song.melody), "tracks": [move(t) for t in song.tracks]})


def replace_lyrics(song: Song, target: Target, text: str, *, seed: int = 0) -> Song:
    """New words for a line (or each line of the sections), sung on the same notes.

    "rewrite" asks the lyrics writer for lines of the same length. Syllables go onto the line's
    notes in order; spare notes become melisma, missing notes are made by splitting the longest.
    """
    from tools.song.syllables import syllabify_line

    sections = list(target.sections)
    slots: list[tuple[Section, int]] = ([(sections[0], target.line)] if target.line is not None
                                        else [(s, i) for s in sections for i in range(len(s.lyrics))])
    if not slots:
        raise TunesmithError("The addressed part has no lyric lines", hint="name a sung section")
    if text.strip().lower() == "rewrite":
        new_lines = _rewritten(song, slots, seed)
    else:
        new_lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not new_lines:
            raise TunesmithError("The new lyrics are empty")
        new_lines = (new_lines * len(slots))[: len(slots)] if len(new_lines) < len(slots) else new_lines[: len(slots)]
    notes = list(song.melody.notes)
    sections_out = {s.name: list(s.lyrics) for s in song.sections}
    for (section, line), words in zip(slots, new_lines):
        sections_out[section.name][line] = words
        index = global_line_index(song, section, line)
        syllables = [syl for _, sylls in syllabify_line(words) for syl in _texts(sylls)]
        notes = _resing(notes, index, syllables)
    sections = [s.model_copy(update={"lyrics": sections_out[s.name]}) for s in song.sections]
    return song.model_copy(update={"sections": sections, "melody": song.melody.model_copy(update={"notes": notes})})


def _texts(sylls) -> list[str]:
    parts = [getattr(s, "text", s if isinstance(s, str) else str(s)) for s in sylls]
    return [p + "-" if i < len(parts) - 1 else p for i, p in enumerate(parts)]


def _resing(notes: list[Note], line: int, syllables: list[str]) -> list[Note]:
    mine = sorted((n for n in notes if n.line == line), key=lambda n: n.start)
    others = [n for n in notes if n.line != line]
    if not mine:
        raise TunesmithError(f"Lyric line {line + 1} has no notes to sing it on")
    while len(mine) < len(syllables):
        longest = max(range(len(mine)), key=lambda i: mine[i].duration)
        n = mine[longest]
        half = round(n.duration / 2, 4)
        mine[longest:longest + 1] = [n.model_copy(update={"duration": half}),
                                     n.model_copy(update={"start": round(n.start + half, 4), "duration": half})]
    sung = [n.model_copy(update={"syllable": syllables[i] if i < len(syllables) else None}) for i, n in enumerate(mine)]
    return sorted(others + sung, key=lambda n: n.start)


def _rewritten(song: Song, slots: list[tuple[Section, int]], seed: int) -> list[str]:
    from tools.lyrics.writer import write_lyrics

    kind = slots[0][0].kind if slots[0][0].kind in ("verse", "chorus", "bridge", "prechorus") else "verse"
    topic = song.title if song.title and song.title != "Untitled" else " ".join(song.lyric_lines()[:2]) or "a song"
    lines: list[str] = []
    attempt = 0
    while len(lines) < len(slots) and attempt < 4:
        draft = write_lyrics(topic, structure=kind, seed=seed + 1 + attempt)
        lines += [line for section in draft.sections for line in section.lines]
        attempt += 1
    old = {s.lyrics[i] for s, i in slots}
    fresh = [line for line in lines if line not in old]
    if len(fresh) < len(slots):
        raise TunesmithError("The lyrics writer gave no new lines", hint="give the new words yourself")
    return fresh[: len(slots)]


def apply_fields(song: Song, target: Target, fields: EditFields, *, seed: int = 0) -> tuple[Song, list[str]]:
    """Apply every field; returns the new song and a list of what changed, in words."""
    changes: list[str] = []
    names = ", ".join(target.names)
    if fields.energy or fields.add:
        style = song_style(song)  # the band that re-arranges: the song's own, said in the reply
    if fields.energy:
        song = change_energy(song, target, fields.energy, style=style, seed=seed)
        changes.append(f"energy {'up' if fields.energy > 0 else 'down'} in {names}, {style.words}")
    for name in fields.remove:
        song = remove_instrument(song, target, name)
        changes.append(f"removed {name} from {names}")
    for name in fields.add:
        song = add_instrument(song, target, name, preset=style.preset, seed=seed)
        changes.append(f"added {name} to {names}" + ("" if fields.energy else f", {style.words}"))
    if fields.key:
        song = change_section_key(song, target, fields.key)
        changes.append(f"{names} in {fields.key}")
    if fields.lyrics:
        song = replace_lyrics(song, target, fields.lyrics, seed=seed)
        changes.append(f"new lyrics in {names}" + (f" line {target.line + 1}" if target.line is not None else ""))
    if fields.bars:
        song = change_bars(song, target, fields.bars)
        changes.append(f"{names} {'extended' if fields.bars > 0 else 'shortened'} by {abs(fields.bars)} bar(s)")
    if fields.tempo_bpm:
        song = song.model_copy(update={"tempo_bpm": float(fields.tempo_bpm)})
        changes.append(f"tempo {fields.tempo_bpm:g} BPM (the whole song: one tempo per song)")
    return Song.model_validate(song.model_dump()), changes
