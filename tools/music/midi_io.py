"""Song ⇄ Standard MIDI File (type 1) with tempo, key, meter, section markers, chords and lyrics.

Lyrics follow the karaoke convention: one lyric event per sung syllable at its note onset; a
syllable that continues its word ends with "-"; the first syllable of every line but the first
starts with "/". Sections are marker events, chords and track roles are text events, so a song
written here reads back whole, and ordinary players just ignore the extras.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import mido

from tools.music.errors import TunesmithError
from tools.music.song import DRUM_CHANNEL, MAX_TEMPO_BPM, MIN_TEMPO_BPM, Note, Section, Song, Track
from tools.music.theory import Key, parse_key

TICKS_PER_BEAT = 480
CHORD_PREFIX = "chord:"
ROLE_PREFIX = "role:"
STYLE_PREFIX = "style:"
LINE_MARK = "/"


def _ticks(beats: float) -> int:
    return int(round(beats * TICKS_PER_BEAT))


def _key_meta_name(key: Key) -> str:
    # mido spells keys like "Bb" / "F#m"; its table holds one spelling per signature.
    name = key.tonic_name + ("m" if key.mode == "minor" else "")
    return {"A#": "Bb", "D#m": "Ebm", "Gb": "Gb", "G#": "Ab", "D#": "Eb", "A#m": "Bbm"}.get(name, name)


def _absolute_to_track(events: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0
    for tick, _order, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _conductor_track(song: Song) -> mido.MidiTrack:
    numerator, denominator = (int(x) for x in song.meter.split("/"))
    events: list[tuple[int, int, mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=song.title)),
        (0, 1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.tempo_bpm))),
        (0, 2, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)),
        (0, 3, mido.MetaMessage("key_signature", key=_key_meta_name(parse_key(song.key)))),
    ]
    for tag in song.style_tags:
        events.append((0, 4, mido.MetaMessage("text", text=STYLE_PREFIX + tag)))
    for section in song.sections:
        events.append((_ticks(section.start_bar * song.beats_per_bar), 5, mido.MetaMessage("marker", text=section.name)))
    for span in song.chord_timeline():
        events.append((_ticks(span.start), 6, mido.MetaMessage("text", text=CHORD_PREFIX + span.symbol)))
    return _absolute_to_track(events)


def _instrument_track(track: Track, channel: int, *, lyrics: bool) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=track.name)),
        (0, 1, mido.MetaMessage("text", text=ROLE_PREFIX + track.role)),
    ]
    if not track.is_drum:
        events.append((0, 2, mido.Message("program_change", program=track.program, channel=channel)))
    events.append((0, 3, mido.Message("control_change", control=7, value=min(127, int(100 * track.volume)), channel=channel)))
    previous_line: int | None = None
    for note in track.notes:
        on, off = _ticks(note.start), max(_ticks(note.start) + 1, _ticks(note.end))
        if lyrics and note.syllable is not None:
            text = note.syllable
            if previous_line is not None and note.line != previous_line:
                text = LINE_MARK + text
            previous_line = note.line
            events.append((on, 4, mido.MetaMessage("lyrics", text=text)))
        # note-offs sort before note-ons at the same tick so repeated pitches re-strike
        events.append((off, 3, mido.Message("note_off", note=note.pitch, velocity=0, channel=channel)))
        events.append((on, 5, mido.Message("note_on", note=note.pitch, velocity=note.velocity, channel=channel)))
    return _absolute_to_track(events)


def write_midi(song: Song, path: Path) -> Path:
    """Write a multitrack type-1 MIDI file; the melody (with lyric events) is the first part."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor_track(song))
    channels = (c for c in range(16) if c != DRUM_CHANNEL)
    if song.melody.notes:
        midi.tracks.append(_instrument_track(song.melody, next(channels), lyrics=True))
    for track in song.tracks:
        channel = DRUM_CHANNEL if track.is_drum else next(channels, 15)
        midi.tracks.append(_instrument_track(track, channel, lyrics=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(str(path))
    return path


def _key_from_meta(name: str) -> str:
    minor = name.endswith("m")
    return f"{name[:-1] if minor else name} {'minor' if minor else 'major'}"


def _join_syllables(syllables: list[str]) -> str:
    words: list[str] = []
    continuing = False
    for syllable in syllables:
        piece = syllable.rstrip("-")
        if continuing and words:
            words[-1] += piece
        else:
            words.append(piece)
        continuing = syllable.endswith("-")
    return " ".join(words)


def _open_midi(path: Path) -> mido.MidiFile:
    try:
        return mido.MidiFile(str(path))
    except (OSError, ValueError, EOFError, KeyError, IndexError) as error:
        raise TunesmithError(f"{path.name} is not a readable MIDI file: {error}") from error


def read_midi(path: Path) -> Song:
    """Read a MIDI file into a Song. Files not written by Tunesmith read as one section.

    Raises:
        TunesmithError: when the file is not a readable MIDI file.
    """
    return read_midi_with_timing(path)[0]


def read_midi_with_timing(path: Path) -> tuple[Song, bool]:
    """The Song and whether the file sets a tempo or a time signature at all.

    Without either, readers assume 120 BPM and 4/4: a performance or a transcription saved as MIDI
    keeps its notes in real time on that default grid, so the file's "tempo" says nothing. One parse
    gives both: the caption needs both, and a large file cost a second parse for the flag.

    Raises:
        TunesmithError: when the file is not a readable MIDI file.
    """
    midi = _open_midi(path)
    tpb = midi.ticks_per_beat or TICKS_PER_BEAT
    tempo_bpm, meter, key, title = 120.0, "4/4", "C major", path.stem
    markers: list[tuple[float, str]] = []
    chords: list[tuple[float, str]] = []
    style_tags: list[str] = []
    parts: list[Track] = []
    melody: Track | None = None
    seen_tempo = seen_meter = seen_key = False
    for index, midi_track in enumerate(midi.tracks):
        tick = 0
        name, role, program, is_drum = f"Track {index}", "", 0, False
        spans: list[tuple[int, int, int, int]] = []  # start tick, end tick, pitch, velocity
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        lyrics_at: dict[int, str] = {}
        for message in midi_track:
            tick += message.time
            kind = message.type
            # a tempo no Song can hold (a broken writer's 1 µs a beat: 60,000,000 BPM) is no tempo:
            # the file reads as untimed, and a caption hears its tempo instead of failing validation
            if kind == "set_tempo" and not seen_tempo \
                    and MIN_TEMPO_BPM < (bpm := mido.tempo2bpm(message.tempo)) < MAX_TEMPO_BPM:
                tempo_bpm, seen_tempo = round(bpm, 3), True
            elif kind == "time_signature" and not seen_meter:
                meter, seen_meter = f"{message.numerator}/{message.denominator}", True
            elif kind == "key_signature" and not seen_key:
                key, seen_key = _key_from_meta(message.key), True
            elif kind == "track_name":
                name = message.name or name
                if index == 0:
                    title = message.name or title
            elif kind == "marker":
                markers.append((tick / tpb, message.text))
            elif kind == "text" and message.text.startswith(CHORD_PREFIX):
                chords.append((tick / tpb, message.text[len(CHORD_PREFIX):]))
            elif kind == "text" and message.text.startswith(ROLE_PREFIX):
                role = message.text[len(ROLE_PREFIX):]
            elif kind == "text" and message.text.startswith(STYLE_PREFIX):
                style_tags.append(message.text[len(STYLE_PREFIX):])
            elif kind == "lyrics" and message.text.strip():
                lyrics_at.setdefault(tick, message.text)
            elif kind == "program_change":
                program = message.program
            elif kind == "note_on" and message.velocity > 0:
                is_drum = is_drum or message.channel == DRUM_CHANNEL
                open_notes[(message.channel, message.note)].append((tick, message.velocity))
            elif kind in ("note_off", "note_on"):
                stack = open_notes.get((message.channel, message.note))
                if stack:
                    start, velocity = stack.pop(0)
                    spans.append((start, max(tick, start + 1), message.note, velocity))
        if not spans:
            continue
        notes = _notes_with_lyrics(sorted(spans, key=lambda s: (s[0], -s[2])), lyrics_at, tpb)
        track = Track(name=name, program=program, is_drum=is_drum,
                      role=role or ("drums" if is_drum else "comp"), notes=notes)
        if melody is None and (role == "melody" or lyrics_at):
            track.role = "melody"
            melody = track
        else:
            parts.append(track)
    song = Song(title=title, key=key, tempo_bpm=tempo_bpm, meter=meter, tracks=parts, style_tags=style_tags)
    if melody is not None:
        song.melody = melody
    song.sections = _sections_from_markers(song, markers, chords)
    return song, seen_tempo or seen_meter


def _notes_with_lyrics(spans: list[tuple[int, int, int, int]], lyrics_at: dict[int, str], tpb: int) -> list[Note]:
    """Put each lyric event on the (highest) note starting at its tick; number lines from "/"."""
    notes: list[Note] = []
    line: int | None = None
    for start, end, pitch, velocity in spans:
        note = Note(pitch=pitch, start=start / tpb, duration=(end - start) / tpb, velocity=velocity, line=line)
        text = lyrics_at.pop(start, None)
        if text is not None:
            if text[0] in (LINE_MARK, "\\"):
                text = text[1:]
                line = 0 if line is None else line + 1
            elif line is None:
                line = 0
            note.syllable, note.line = text, line
        notes.append(note)
    return notes


def _sections_from_markers(song: Song, markers: list[tuple[float, str]], chords: list[tuple[float, str]]) -> list[Section]:
    bar = song.beats_per_bar
    total_bars = max(1, int(-(-song.duration_beats // bar)))
    if not markers:
        markers = [(0.0, "song")]
    starts = [int(round(beat / bar)) for beat, _ in markers]
    sections: list[Section] = []
    lines = _lines_from_melody(song)
    for i, (start_bar, (_, name)) in enumerate(zip(starts, markers)):
        end_bar = starts[i + 1] if i + 1 < len(starts) else max(total_bars, start_bar + 1)
        if end_bar <= start_bar:
            continue
        per_bar: list[list[str]] = [[] for _ in range(end_bar - start_bar)]
        for beat, symbol in chords:
            b = int(beat // bar) - start_bar
            if 0 <= b < len(per_bar):
                per_bar[b].append(symbol)
        section_lines = [text for first_beat, text in lines if start_bar * bar <= first_beat < end_bar * bar]
        kind = "".join(c for c in name if not c.isdigit()).strip().lower() or "section"
        sections.append(Section(name=name, kind=kind, start_bar=start_bar, bars=end_bar - start_bar,
                                chords=[" ".join(b) for b in per_bar] if chords else [],
                                lyrics=section_lines))
    return sections


def _lines_from_melody(song: Song) -> list[tuple[float, str]]:
    grouped: dict[int, list[Note]] = defaultdict(list)
    for note in song.melody.notes:
        if note.syllable is not None and note.line is not None:
            grouped[note.line].append(note)
    return [(notes[0].start, _join_syllables([n.syllable for n in notes if n.syllable]))
            for _, notes in sorted(grouped.items())]
