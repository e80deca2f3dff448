from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from tools.guards import FileKind, check_file, safe_join, safe_name, sniff_format
from tools.music.errors import TunesmithError


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.zeros(int(seconds * rate))).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("head,kind,fmt", [
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", FileKind.AUDIO, "wav"),
    (b"fLaC\x00", FileKind.AUDIO, "flac"),
    (b"ID3\x04\x00", FileKind.AUDIO, "mp3"),
    (b"\xff\xfb\x90\x00", FileKind.AUDIO, "mp3"),
    (b"OggS\x00\x02" + b"\x01vorbis", FileKind.AUDIO, "ogg"),
    (b"\x00\x00\x00\x20ftypM4A \x00", FileKind.AUDIO, "m4a"),
    (b"\x00\x00\x00\x20ftypisom\x00", FileKind.VIDEO, "mp4"),
    (b"\x00\x00\x00\x14ftypqt  ", FileKind.VIDEO, "mov"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", FileKind.VIDEO, "webm"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", FileKind.VIDEO, "mkv"),
    (b"MThd\x00\x00\x00\x06", FileKind.MIDI, "mid"),
    (b'<?xml version="1.0"?><!DOCTYPE score-partwise', FileKind.MUSICXML, "musicxml"),
    (b"X:1\nT:Tune\nM:6/8\nK:D\nabc|", FileKind.ABC, "abc"),
    (b"[verse]\nDriving home", FileKind.TEXT, "txt"),
    (b"\x7fELF\x02\x01\x01\x00\x00", FileKind.UNKNOWN, "bin"),
])
def test_sniff_by_content(head: bytes, kind: FileKind, fmt: str) -> None:
    assert sniff_format(head, "misleading.mp3") == (kind, fmt)


def test_extension_does_not_fool_the_check(tmp_path: Path) -> None:
    fake = tmp_path / "song.wav"
    fake.write_bytes(b"\x7fELF" + b"\x00" * 100)
    with pytest.raises(TunesmithError, match="looks like unknown"):
        check_file(fake, allowed=(FileKind.AUDIO,))


def test_limits(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(3.0))
    assert check_file(path, allowed=(FileKind.AUDIO,)) == (FileKind.AUDIO, "wav")
    with pytest.raises(TunesmithError, match="lasts 3 s"):
        check_file(path, max_seconds=2.0)
    with pytest.raises(TunesmithError, match="limit is"):
        check_file(path, max_bytes=1000)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with pytest.raises(TunesmithError, match="empty"):
        check_file(empty)


def test_safe_names_and_joins(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name("my song?.mp3") == "my song_.mp3"
    assert safe_name("\x00\x01") == "file"
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to("/etc")
    with pytest.raises(TunesmithError):
        safe_join(root, "../outside")
    with pytest.raises(TunesmithError):
        safe_join(root, "link/passwd")
    assert safe_join(root, "ok.wav") == (root / "ok.wav").resolve()


def test_symlink_input_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.wav"
    target.write_bytes(wav_bytes(0.5))
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    with pytest.raises(TunesmithError, match="not a regular file"):
        check_file(link)
