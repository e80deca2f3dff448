"""Input guards every tool and interface uses: content sniffing, size and duration limits, safe names.

Extensions lie; the first bytes of a file do not. Each check raises `TunesmithError` with a
message a user can act on.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from pathlib import Path

from tools.music.errors import TunesmithError

SNIFF_BYTES = 4096


class FileKind(str, Enum):
    AUDIO = "audio"
    MIDI = "midi"
    MUSICXML = "musicxml"
    ABC = "abc"
    VIDEO = "video"
    TEXT = "text"
    UNKNOWN = "unknown"


AUDIO_FORMATS = ("wav", "flac", "mp3", "ogg", "m4a")
SYMBOLIC_KINDS = (FileKind.MIDI, FileKind.MUSICXML, FileKind.ABC)


def _is_mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    return len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0


def sniff_format(head: bytes, name: str = "") -> tuple[FileKind, str]:
    """Kind and format of a file from its first bytes (the name only breaks ties for text)."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return FileKind.AUDIO, "wav"
    if head.startswith(b"fLaC"):
        return FileKind.AUDIO, "flac"
    if head.startswith(b"OggS"):
        return (FileKind.VIDEO, "ogv") if b"theora" in head[:200] else (FileKind.AUDIO, "ogg")
    if head.startswith(b"MThd"):
        return FileKind.MIDI, "mid"
    if head.startswith(b"RIFF") and head[8:12] == b"RMID":
        return FileKind.MIDI, "rmi"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return FileKind.VIDEO, "webm" if b"webm" in head[:64] else "mkv"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return FileKind.AUDIO, "m4a"
        if brand == b"qt  ":
            return FileKind.VIDEO, "mov"
        return FileKind.VIDEO, "mp4"
    if head.startswith(b"PK\x03\x04"):
        if b"META-INF" in head or b"container.xml" in head or suffix == "mxl":
            return FileKind.MUSICXML, "mxl"
        return FileKind.UNKNOWN, "zip"
    if _is_mp3(head):
        return FileKind.AUDIO, "mp3"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the sniff boundary is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return FileKind.UNKNOWN, "bin"
    if "\x00" in text:
        return FileKind.UNKNOWN, "bin"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<") and ("score-partwise" in text or "score-timewise" in text):
        return FileKind.MUSICXML, "musicxml"
    if re.search(r"^X:\s*\d+", text, flags=re.M) and re.search(r"^K:", text, flags=re.M):
        return FileKind.ABC, "abc"
    return FileKind.TEXT, "txt"


def sniff(path: Path) -> tuple[FileKind, str]:
    with path.open("rb") as handle:
        return sniff_format(handle.read(SNIFF_BYTES), path.name)


def safe_name(name: str, *, default: str = "file") -> str:
    """A file name with no directories, no traversal and no control characters.

    Used for every name that comes from outside (uploads, titles turned into file names).
    """
    name = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    name = name.lstrip(".")
    return name[:120] or default


def safe_join(root: Path, name: str) -> Path:
    """``root / name`` refusing anything that would land outside ``root`` (also through symlinks)."""
    root_resolved = root.resolve()
    candidate = (root_resolved / name).resolve()
    if candidate != root_resolved and root_resolved not in candidate.parents:
        raise TunesmithError(f"The path {name!r} points outside its folder", hint="use a plain file name")
    return candidate


def check_file(path: Path, *, allowed: tuple[FileKind, ...] | None = None, max_bytes: int | None = None,
               max_seconds: float | None = None) -> tuple[FileKind, str]:
    """Validate an input file: it exists, is a regular file, fits the limits and is of an allowed kind.

    Returns:
        The sniffed kind and format.

    Raises:
        TunesmithError: naming the file and the broken rule.
    """
    from tools.config import settings

    limits = settings()
    max_bytes = limits.max_upload_bytes if max_bytes is None else max_bytes
    max_seconds = limits.max_audio_seconds if max_seconds is None else max_seconds
    if not path.exists():
        raise TunesmithError(f"File {path.name!r} was not found")
    if path.is_symlink() or not path.is_file():
        raise TunesmithError(f"{path.name!r} is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise TunesmithError(f"{path.name!r} is empty")
    if size > max_bytes:
        raise TunesmithError(f"{path.name!r} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB",
                             hint="set TUNESMITH_MAX_UPLOAD_MB to raise it")
    kind, fmt = sniff(path)
    if allowed is not None and kind not in allowed:
        names = ", ".join(k.value for k in allowed)
        raise TunesmithError(f"{path.name!r} looks like {kind.value} ({fmt}); this needs {names}")
    if kind in (FileKind.AUDIO, FileKind.VIDEO):
        seconds = media_duration(path, kind)
        if seconds > max_seconds:
            raise TunesmithError(f"{path.name!r} lasts {seconds:.0f} s; the limit is {max_seconds:.0f} s",
                                 hint="trim it or set TUNESMITH_MAX_AUDIO_SECONDS")
    return kind, fmt


def check_note_count(song, name: str, *, max_notes: int) -> None:
    """A symbolic file's notes against ``max_score_notes``: what audio's duration limit is to audio.

    A score has no duration worth limiting (one held note can last a day); its cost is its notes.
    The caption of a 200,000-note MIDI file takes ~18 s, so the default stops there.

    Raises:
        TunesmithError: more notes than the limit.
    """
    if song.note_count > max_notes:
        raise TunesmithError(f"{name!r} holds {song.note_count:,} notes; the limit is {max_notes:,}",
                             hint="split it into movements or set TUNESMITH_MAX_SCORE_NOTES")


def media_duration(path: Path, kind: FileKind) -> float:
    """Duration in seconds from the container header, without decoding the whole file."""
    if kind == FileKind.AUDIO:
        try:
            import soundfile

            info = soundfile.info(str(path))
            return float(info.frames) / float(info.samplerate)
        except Exception:
            pass  # m4a and some mp3s: fall through to PyAV
    try:
        import av

        with av.open(str(path)) as container:
            if container.duration is not None:
                return container.duration / 1_000_000
            stream = (container.streams.video or container.streams.audio)[0]
            return float(stream.duration * stream.time_base)
    except Exception as error:
        raise TunesmithError(f"{path.name!r} could not be read as {kind.value}: {error}") from error
