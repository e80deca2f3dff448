"""The `Song`: the project state every tool reads and writes.

A song is symbolic first (sections, chords, a melody carrying syllables, accompaniment tracks),
so every part stays editable and every rendered file is exact in key, tempo and form. Times are in
quarter-note beats from the start of the song; one tempo and one meter per song.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from tools.music.theory import bar_beats, parse_chord, parse_key, parse_meter

DRUM_CHANNEL = 9
# the tempos a Song can hold, exclusive (readers treat a file's tempo outside them as none)
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 10.0, 400.0


class Note(BaseModel):
    """One note. Melody notes carry the syllable sung on them and the lyric line they belong to.

    A syllable held over several notes (melisma) is written on its first note only; the following
    notes have ``syllable=None`` and the same ``line``.
    """

    pitch: int = Field(ge=0, le=127)
    start: float = Field(ge=0)
    duration: float = Field(gt=0)
    velocity: int = Field(default=90, ge=1, le=127)
    syllable: str | None = None
    line: int | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration


class Track(BaseModel):
    """An instrument part: a General MIDI program (or the drum kit) and its notes."""

    name: str
    program: int = Field(default=0, ge=0, le=127)
    is_drum: bool = False
    role: str = "comp"
    notes: list[Note] = Field(default_factory=list)
    volume: float = Field(default=1.0, ge=0, le=2)


def validate_bar_chords(chords: list[str]) -> list[str]:
    """Check per-bar chord entries ("Am", "Dm7 G7"); shared by Section and the song blueprint."""
    for bar in chords:
        for symbol in bar.split():
            parse_chord(symbol)
    return chords


class Section(BaseModel):
    """A named part of the form with its harmony and lyric lines.

    ``chords`` holds one entry per bar; a bar with two chords writes them space-separated
    ("Dm7 G7"), which splits the bar evenly.
    """

    name: str
    kind: str
    start_bar: int = Field(ge=0)
    bars: int = Field(ge=1)
    chords: list[str] = Field(default_factory=list)
    lyrics: list[str] = Field(default_factory=list)
    energy: float = Field(default=0.5, ge=0, le=1)

    @field_validator("chords")
    @classmethod
    def _chords_parse(cls, chords: list[str]) -> list[str]:
        return validate_bar_chords(chords)

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars


class ChordSpan(BaseModel):
    symbol: str
    start: float
    duration: float


class Song(BaseModel):
    """A whole song. See the module docstring for the time convention."""

    title: str = "Untitled"
    key: str = "C major"
    tempo_bpm: float = Field(default=100.0, gt=MIN_TEMPO_BPM, lt=MAX_TEMPO_BPM)
    meter: str = "4/4"
    sections: list[Section] = Field(default_factory=list)
    melody: Track = Field(default_factory=lambda: Track(name="Vocals", program=52, role="melody"))
    tracks: list[Track] = Field(default_factory=list)
    style_tags: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _canonical_key(cls, value: str) -> str:
        return str(parse_key(value))

    @field_validator("meter")
    @classmethod
    def _valid_meter(cls, value: str) -> str:
        numerator, denominator = parse_meter(value)
        return f"{numerator}/{denominator}"

    @model_validator(mode="after")
    def _sections_in_order(self) -> "Song":
        for before, after in zip(self.sections, self.sections[1:]):
            if after.start_bar < before.end_bar:
                raise ValueError(f"section {after.name!r} starts before {before.name!r} ends")
        return self

    # -- time ---------------------------------------------------------------------------------
    @property
    def beats_per_bar(self) -> float:
        return bar_beats(self.meter)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm

    def beats_to_seconds(self, beats: float) -> float:
        return beats * self.seconds_per_beat

    @property
    def total_bars(self) -> int:
        return max((s.end_bar for s in self.sections), default=0)

    @property
    def duration_beats(self) -> float:
        last_note = max((n.end for t in self.all_tracks() for n in t.notes), default=0.0)
        return max(self.total_bars * self.beats_per_bar, last_note)

    @property
    def duration_seconds(self) -> float:
        return self.beats_to_seconds(self.duration_beats)

    def all_tracks(self) -> list[Track]:
        return [self.melody, *self.tracks] if self.melody.notes else list(self.tracks)

    @property
    def note_count(self) -> int:
        """Every note of every track, drums included: a symbolic file's size, as seconds are audio's."""
        return sum(len(track.notes) for track in self.all_tracks())

    # -- content ------------------------------------------------------------------------------
    def chord_timeline(self) -> list[ChordSpan]:
        """Every chord with its start and length in beats, from the sections' per-bar chords."""
        spans: list[ChordSpan] = []
        bar = self.beats_per_bar
        for section in self.sections:
            for index, entry in enumerate(section.chords):
                symbols = entry.split()
                if not symbols:
                    continue
                length = bar / len(symbols)
                bar_start = (section.start_bar + index) * bar
                for k, symbol in enumerate(symbols):
                    spans.append(ChordSpan(symbol=symbol, start=bar_start + k * length, duration=length))
        return spans

    def lyric_lines(self) -> list[str]:
        """All lyric lines in singing order; a melody note's ``line`` indexes this list."""
        return [line for section in self.sections for line in section.lyrics]

    def section_at(self, beat: float) -> Section | None:
        bar = int(beat // self.beats_per_bar)
        for section in self.sections:
            if section.start_bar <= bar < section.end_bar:
                return section
        return None

    def find_section(self, name: str) -> Section | None:
        wanted = name.strip().lower()
        return next((s for s in self.sections if s.name.lower() == wanted), None)

    # -- conversions --------------------------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Song":
        return cls.model_validate_json(text)

    def to_midi(self, path: str | Path) -> Path:
        from tools.music.midi_io import write_midi

        return write_midi(self, Path(path))

    @classmethod
    def from_midi(cls, path: str | Path) -> "Song":
        from tools.music.midi_io import read_midi

        return read_midi(Path(path))

    def to_musicxml(self, path: str | Path) -> Path:
        from tools.music.musicxml_io import write_musicxml

        return write_musicxml(self, Path(path))

    @classmethod
    def from_musicxml(cls, path: str | Path) -> "Song":
        from tools.music.musicxml_io import read_musicxml

        return read_musicxml(Path(path))

    def to_lrc(self) -> str:
        from tools.music.lrc import song_to_lrc

        return song_to_lrc(self)
