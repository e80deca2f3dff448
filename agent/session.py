"""A conversation and its song project: history for the planner, uploads, and the version tree.

Version commands ("undo", "go back to version 2", "compare v2 and v3", "versions") are answered
here from the store, without a tool: they only move the session's pointer to its current song,
so no earlier artifact is ever lost.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent.plan import Message
from agent.recipes import recipe_for
from agent.store import ArtifactRecord, SessionRecord, Store
from tools.config import Settings
from tools.guards import FileKind, check_file, check_note_count, safe_name
from tools.music.errors import TunesmithError
from tools.music.song import Song

UPLOAD_KINDS = {FileKind.AUDIO: "audio", FileKind.MIDI: "midi", FileKind.MUSICXML: "score",
                FileKind.ABC: "score", FileKind.VIDEO: "video", FileKind.TEXT: "lyrics"}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_NUM = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"
UNDO = re.compile(r"^\s*(undo|undo (that|it|the last (change|edit))|revert( that| it)?|take that back)\s*[.!]*\s*$", re.I)
GO_BACK = re.compile(rf"^\s*(please\s+)?(go back to|back to|restore|revert to|switch to|use)\s+(the\s+)?"
                     rf"(v|version\s*)\s*{_NUM}\s*[.!]*\s*$", re.I)
COMPARE = re.compile(rf"^\s*(please\s+)?(compare|diff)\s+(v|version\s*)\s*{_NUM}\s*(and|with|to|vs\.?|versus)\s+"
                     rf"(v|version\s*)?\s*{_NUM}\s*[.?!]*\s*$", re.I)
LIST_VERSIONS = re.compile(r"^\s*(show\s+|list\s+)?(the\s+)?(versions|version history|history)\s*[.?!]*\s*$", re.I)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text.lower()]


@dataclass
class Upload:
    """A file a person attached: its original (untrusted) name and where it lies now."""

    name: str
    path: Path


class Sessions:
    """Session-level operations over the store, shared by every interface."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    # -- sessions ------------------------------------------------------------------------------
    def create(self, title: str = "New session", owner: str | None = None) -> SessionRecord:
        return self.store.create_session(title, owner=owner)

    def get(self, session_id: str, owner: str | None = None) -> SessionRecord:
        return self.store.get_session(session_id, owner=owner)

    def history(self, session_id: str) -> list[Message]:
        """The conversation as planners see it; attachments are store paths with the right suffix."""
        out: list[Message] = []
        for record in self.store.messages(session_id):
            if record.role not in ("user", "assistant"):
                continue
            attachments = [str(self.store.file_of(a)) for a in record.attachments if self._has_file(a)]
            out.append(Message(role=record.role, content=record.content, attachments=attachments,
                               tool=record.tool, artifacts=record.artifacts))
        return out

    def _has_file(self, artifact_id: str) -> bool:
        try:
            return bool(self.store.get_artifact(artifact_id).files)
        except TunesmithError:
            return False

    # -- uploads -------------------------------------------------------------------------------
    def add_upload(self, session_id: str, upload: Upload, owner: str | None = None) -> ArtifactRecord:
        """Check an attached file (content, size, duration) and keep it as an artifact.

        Raises:
            TunesmithError: empty, too big, too long, or not a kind Tunesmith reads.
        """
        name = safe_name(upload.name, default="upload")
        path = Path(upload.path)
        kind, fmt = check_file(path, max_bytes=self.settings.max_upload_bytes,
                               max_seconds=self.settings.max_audio_seconds)
        if kind not in UPLOAD_KINDS:
            raise TunesmithError(f"{name!r} is not a file Tunesmith can use ({fmt})",
                                 hint="attach audio, MIDI, MusicXML, ABC, video or lyrics text")
        if Path(name).suffix.lower().lstrip(".") != fmt and kind != FileKind.TEXT:
            name = f"{Path(name).stem or 'upload'}.{fmt}"
        elif kind == FileKind.TEXT and not name.lower().endswith(".txt"):
            name = f"{Path(name).stem or 'lyrics'}.txt"
        song = self._song_from(path, kind, fmt)
        if song is not None:
            check_note_count(song, name, max_notes=self.settings.max_score_notes)
        return self.store.add_artifact(kind=UPLOAD_KINDS[kind], summary=f"uploaded {name}", files={name: path},
                                       data={"upload": True, "format": fmt, "original_name": name},
                                       recipe=recipe_for("upload", {"name": name, "format": fmt}),
                                       tool=None, song=song, session_id=session_id, owner=owner)

    @staticmethod
    def _song_from(path: Path, kind: FileKind, fmt: str) -> Song | None:
        """Symbolic uploads become songs so they can be edited as projects; a parse failure is not fatal."""
        if kind not in (FileKind.MIDI, FileKind.MUSICXML, FileKind.ABC):
            return None
        try:
            if kind == FileKind.MIDI:
                return Song.from_midi(path)
            with tempfile.TemporaryDirectory() as temp:
                named = Path(temp) / f"upload.{fmt}"
                shutil.copyfile(path, named)
                return Song.from_musicxml(named)
        except Exception:
            return None

    # -- versions ------------------------------------------------------------------------------
    def versions(self, session_id: str) -> list[ArtifactRecord]:
        """Every song version in the session's current project, numbered by creation (v1 first)."""
        current = self.store.get_session(session_id).current_song
        if current is None:
            return []
        records = [self.store.get_artifact(node) for node, _, _ in self.store.version_tree(current)]
        return sorted(records, key=lambda r: r.created)

    def version_number(self, session_id: str, artifact_id: str) -> int | None:
        for index, record in enumerate(self.versions(session_id), start=1):
            if record.id == artifact_id:
                return index
        return None

    def handle_command(self, session_id: str, text: str) -> str | None:
        """Answer a version command, or return None when the text is not one."""
        if UNDO.match(text):
            return self._undo(session_id)
        if match := GO_BACK.match(text):
            return self._go_to(session_id, _number(match.group(5)))
        if match := COMPARE.match(text):
            return self.compare(session_id, _number(match.group(4)), _number(match.group(7)))
        if LIST_VERSIONS.match(text):
            return self._list(session_id)
        return None

    def _require_versions(self, session_id: str) -> list[ArtifactRecord]:
        versions = self.versions(session_id)
        if not versions:
            raise TunesmithError("There is no song in this session yet", hint="ask for a song first")
        return versions

    def _undo(self, session_id: str) -> str:
        self._require_versions(session_id)
        current = self.store.get_session(session_id).current_song
        parent = self.store.get_artifact(current).parent_id
        if parent is None:
            raise TunesmithError("This is the first version; there is nothing to undo")
        self.store.set_current_song(session_id, parent)
        return f"Undone: back to version {self.version_number(session_id, parent)} ({self._label(parent)})."

    def _go_to(self, session_id: str, number: int) -> str:
        versions = self._require_versions(session_id)
        if not 1 <= number <= len(versions):
            raise TunesmithError(f"There is no version {number}; this song has {len(versions)}")
        target = versions[number - 1].id
        self.store.set_current_song(session_id, target)
        return f"Now on version {number} ({self._label(target)})."

    def _list(self, session_id: str) -> str:
        versions = self._require_versions(session_id)
        current = self.store.get_session(session_id).current_song
        lines = []
        for index, record in enumerate(versions, start=1):
            marker = " ← current" if record.id == current else ""
            lines.append(f"v{index}: {record.summary.split(';')[0]}{marker}")
        return "\n".join(lines)

    def _label(self, artifact_id: str) -> str:
        song = self.store.song_of(artifact_id)
        if song is None:
            return artifact_id
        return f"{song.title}, {song.key}, {song.tempo_bpm:g} BPM"

    def compare(self, session_id: str, first: int, second: int) -> str:
        """What changed between two versions: key, tempo, meter, length, form, chords, instruments."""
        versions = self._require_versions(session_id)
        for number in (first, second):
            if not 1 <= number <= len(versions):
                raise TunesmithError(f"There is no version {number}; this song has {len(versions)}")
        a = self.store.song_of(versions[first - 1].id)
        b = self.store.song_of(versions[second - 1].id)
        if a is None or b is None:
            raise TunesmithError("Those versions have no score to compare")
        return compare_songs(a, b, f"v{first}", f"v{second}")


def compare_songs(a: Song, b: Song, name_a: str, name_b: str) -> str:
    """A short, readable diff of two songs' musical attributes."""
    rows: list[str] = []

    def row(label: str, left: object, right: object) -> None:
        rows.append(f"- {label}: {left} → {right}" if left != right else f"- {label}: {left} (same)")

    row("title", a.title, b.title)
    row("key", a.key, b.key)
    row("tempo", f"{a.tempo_bpm:g} BPM", f"{b.tempo_bpm:g} BPM")
    row("meter", a.meter, b.meter)
    row("length", f"{a.duration_seconds:.0f} s", f"{b.duration_seconds:.0f} s")
    row("form", " / ".join(s.name for s in a.sections), " / ".join(s.name for s in b.sections))
    chords_a = [" ".join(s.chords) for s in a.sections]
    chords_b = [" ".join(s.chords) for s in b.sections]
    changed = sum(1 for x, y in zip(chords_a, chords_b) if x != y) + abs(len(chords_a) - len(chords_b))
    rows.append(f"- chords: {'same' if changed == 0 else f'{changed} section(s) differ'}")
    row("instruments", ", ".join(t.name for t in a.tracks) or "none", ", ".join(t.name for t in b.tracks) or "none")
    row("melody notes", len(a.melody.notes), len(b.melody.notes))
    return f"Comparing {name_a} and {name_b}:\n" + "\n".join(rows)

