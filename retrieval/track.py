"""`TrackRecord`: what the catalogue knows about one track, whatever it came from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from tools.music.theory import bar_beats, parse_meter

MODE_FAMILY = {"major": "major", "ionian": "major", "mixolydian": "major", "lydian": "major",
               "minor": "minor", "aeolian": "minor", "dorian": "minor", "phrygian": "minor", "locrian": "minor"}


@dataclass
class TrackRecord:
    """One catalogue entry.

    ``uid`` is stable across rebuilds: ``corpus:<path>#<number>`` for the bundled corpus,
    ``user:<sha256 prefix>`` for a user's file (so a moved file is not indexed twice).
    Times: ``tempo_bpm`` in quarter notes per minute, ``duration_s`` in seconds.
    """

    uid: str
    source: str
    path: str
    title: str
    collection: str
    number: int | None = None
    composer: str = ""
    genre: str = ""
    region: str = ""
    era: str = ""
    locale: str = ""
    tonic: str | None = None
    mode: str | None = None
    sharps: int | None = None
    meter: str | None = None
    tempo_bpm: float = 100.0
    tempo_known: bool = False
    duration_s: float = 60.0
    duration_exact: bool = False
    parts: int = 1
    instruments: list[str] = field(default_factory=list)
    has_lyrics: bool = False
    ambitus: int = 0
    pitch_low: int = 60
    pitch_high: int = 72
    note_count: int = 0
    energy: float = 0.5
    caption: str = ""
    summary: str = ""
    content_hash: str = ""
    id: int | None = None

    @property
    def embed_text(self) -> str:
        """What the text embedder sees: the attribute summary (shared by many tracks, so embedded
        once each), or the caption for tracks that have no summary."""
        return self.summary or self.caption

    @property
    def key(self) -> str | None:
        if self.tonic and self.mode:
            return f"{self.tonic} {self.mode}"
        return None

    @property
    def mode_family(self) -> str | None:
        return MODE_FAMILY.get(self.mode or "")

    @property
    def beats_per_bar(self) -> float:
        try:
            return bar_beats(self.meter or "4/4")
        except Exception:
            return 4.0

    @property
    def meter_class(self) -> str:
        """duple, triple or compound: what dancers and playlist flow care about."""
        try:
            numerator, denominator = parse_meter(self.meter or "4/4")
        except Exception:
            return "duple"
        if denominator == 8 and numerator % 3 == 0 and numerator > 3:
            return "compound"
        return "triple" if numerator % 3 == 0 else "duple"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "TrackRecord":
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict:
        """The fields a user or a planner sees."""
        data = asdict(self)
        data["key"] = self.key
        data.pop("content_hash", None)
        return data
