"""Add a user's music folder to the library: audio, MIDI, MusicXML and ABC, recursively.

Incremental and resumable: each file is identified by the SHA-256 of its content, files already in
the catalogue are skipped, and records are committed every ``batch`` files, so an interrupted run
continues where it stopped. A file that cannot be read is skipped and reported, never fatal.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.song import Song

from retrieval.describe import caption, estimate_energy, summary
from retrieval.library import Library
from retrieval.track import TrackRecord

SYMBOLIC_SUFFIXES = {".mid": "midi", ".midi": "midi", ".kar": "midi", ".xml": "musicxml", ".musicxml": "musicxml",
                     ".mxl": "musicxml", ".abc": "abc"}
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}
GM_FAMILIES = ((8, "piano"), (16, "chromatic percussion"), (24, "organ"), (32, "guitar"), (40, "bass"),
               (48, "strings"), (52, "strings"), (55, "choir"), (56, "orchestra hit"), (64, "brass"),
               (72, "reeds"), (80, "woodwinds"), (96, "synth"), (104, "synth effects"), (112, "ethnic"),
               (120, "percussion"), (128, "sound effects"))
Captioner = Callable[[Song], str]


@dataclass
class IngestReport:
    added: int = 0
    already_indexed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    files_seen: int = 0

    def public(self) -> dict:
        return {"added": self.added, "already_indexed": self.already_indexed, "files_seen": self.files_seen,
                "skipped": [{"file": f, "reason": r} for f, r in self.skipped], "seconds": round(self.seconds, 2),
                "files_per_second": round(self.files_seen / self.seconds, 2) if self.seconds else None}


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gm_family(program: int, is_drum: bool = False) -> str:
    if is_drum:
        return "drums"
    for limit, name in GM_FAMILIES:
        if program < limit:
            return name
    return "synth"


def _looks_right(path: Path, kind: str) -> bool:
    with path.open("rb") as handle:
        head = handle.read(512)
    if kind == "midi":
        return head.startswith(b"MThd") or (head.startswith(b"RIFF") and head[8:12] == b"RMID")
    if kind == "musicxml":
        return head.startswith(b"PK") or b"<" in head[:200]
    if kind == "abc":
        return b"X:" in head or b"K:" in head
    return True


def record_from_song(song: Song, *, path: Path, content_hash: str, captioner: Captioner | None = None) -> TrackRecord:
    """A catalogue record for a symbolic file read into a `Song`."""
    tracks = [t for t in song.all_tracks() if t.notes]
    if not tracks:
        raise TunesmithError("it has no notes")
    pitched = [n.pitch for t in tracks if not t.is_drum for n in t.notes] or [60]
    tonic, mode = song.key.split(" ", 1)
    families = []
    for track in tracks:
        family = gm_family(track.program, track.is_drum)
        if family not in families:
            families.append(family)
    record = TrackRecord(
        uid=f"user:{content_hash[:24]}", source="user", path=str(path.resolve()), title=song.title if song.title != "Untitled" else path.stem,
        collection="user", genre=", ".join(song.style_tags[:2]) or "piece", tonic=tonic, mode=mode, meter=song.meter,
        tempo_bpm=float(song.tempo_bpm), tempo_known=True, duration_s=round(max(1.0, song.duration_seconds), 1),
        duration_exact=True, parts=len(tracks), instruments=families,
        has_lyrics=any(n.syllable for n in song.melody.notes), ambitus=max(pitched) - min(pitched),
        pitch_low=min(pitched), pitch_high=max(pitched), note_count=song.note_count,
        content_hash=content_hash)
    record.energy = estimate_energy(record)
    record.caption = captioner(song) if captioner is not None else caption(record, "your library")
    record.summary = "" if captioner is not None else summary(record, "your library")
    return record


def record_from_audio(path: Path, *, content_hash: str, max_seconds: float = 900.0) -> TrackRecord:
    """A catalogue record for an audio file: duration, tempo, key (chroma + Temperley profile), energy."""
    import librosa
    import soundfile

    from retrieval.describe import data_file

    try:
        info = soundfile.info(str(path))
    except Exception as error:
        raise TunesmithError(f"not readable audio ({error})") from error
    duration = info.frames / info.samplerate
    if duration <= 0.5:
        raise TunesmithError("shorter than half a second")
    if duration > max_seconds:
        raise TunesmithError(f"lasts {duration:.0f} s, over the {max_seconds:.0f} s limit")
    audio, rate = librosa.load(str(path), sr=22050, mono=True, duration=120.0)
    tempo = float(np.atleast_1d(librosa.feature.tempo(y=audio, sr=rate))[0])
    chroma = librosa.feature.chroma_cqt(y=audio, sr=rate).sum(axis=1)
    profiles = data_file("describe.json")["key_profiles"]
    best = max(((tonic, mode) for tonic in range(12) for mode in ("major", "minor")),
               key=lambda tm: float(np.corrcoef(chroma, np.roll(profiles[tm[1]], tm[0]))[0, 1]))
    from tools.music.theory import Key

    rms = float(np.sqrt(np.mean(audio ** 2)))
    onsets = librosa.onset.onset_detect(y=audio, sr=rate, units="time")
    record = TrackRecord(uid=f"user:{content_hash[:24]}", source="user", path=str(path.resolve()), title=path.stem,
                         collection="user", genre="recording", tonic=Key(*best).tonic_name, mode=best[1],
                         meter=None, tempo_bpm=round(tempo, 1), tempo_known=True, duration_s=round(duration, 1),
                         duration_exact=True, parts=1, instruments=["recording"],
                         note_count=int(len(onsets) * duration / min(duration, 120.0)), content_hash=content_hash)
    record.energy = round(float(np.clip(0.5 * estimate_energy(record) + 0.5 * min(1.0, rms / 0.2), 0, 1)), 3)
    record.caption = caption(record, "your library")
    record.summary = summary(record, "your library")
    return record


def _read_symbolic(path: Path, kind: str) -> Song:
    if kind == "midi":
        from tools.music.midi_io import read_midi

        return read_midi(path)
    from tools.music.musicxml_io import read_musicxml

    return read_musicxml(path)


def candidate_files(folder: Path) -> list[Path]:
    """Music files under ``folder`` (recursive, sorted, symlinks not followed)."""
    if not folder.is_dir():
        raise TunesmithError(f"{str(folder)!r} is not a folder")
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in SYMBOLIC_SUFFIXES or suffix in AUDIO_SUFFIXES:
            found.append(path)
    return found


def ingest_folder(library: Library, folder: Path, *, captioner: Captioner | None = None,
                  progress: Callable[[int, int, str], None] | None = None, batch: int = 16,
                  max_bytes: int = 100 * 1024 * 1024, max_seconds: float = 900.0,
                  max_notes: int = 200_000) -> IngestReport:
    """Index every music file under ``folder`` not indexed before; see the module docstring."""
    started = time.perf_counter()
    report = IngestReport()
    files = candidate_files(Path(folder))
    known = library.catalogue.known_hashes()
    pending: list[TrackRecord] = []
    for index, path in enumerate(files):
        report.files_seen += 1
        if progress is not None:
            progress(index, len(files), path.name)
        try:
            size = path.stat().st_size
            if size == 0:
                raise TunesmithError("empty file")
            if size > max_bytes:
                raise TunesmithError(f"{size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit")
            content_hash = file_hash(path)
            if content_hash in known:
                report.already_indexed += 1
                continue
            suffix = path.suffix.lower()
            if suffix in AUDIO_SUFFIXES:
                record = record_from_audio(path, content_hash=content_hash, max_seconds=max_seconds)
            else:
                kind = SYMBOLIC_SUFFIXES[suffix]
                if not _looks_right(path, kind):
                    raise TunesmithError(f"does not look like {kind}")
                song = _read_symbolic(path, kind)
                if song.note_count > max_notes:  # the caption and embedding cost grows with the notes
                    raise TunesmithError(f"{song.note_count:,} notes is over the {max_notes:,} note limit")
                record = record_from_song(song, path=path, content_hash=content_hash, captioner=captioner)
            known.add(content_hash)
            pending.append(record)
        except TunesmithError as error:
            report.skipped.append((str(path), error.message))
        except Exception as error:  # a broken file must never stop the run
            report.skipped.append((str(path), f"{type(error).__name__}: {error}"))
        if len(pending) >= batch:
            library.add_records(pending)
            report.added += len(pending)
            pending = []
    if pending:
        library.add_records(pending)
        report.added += len(pending)
    if progress is not None:
        progress(len(files), len(files), "done")
    report.seconds = time.perf_counter() - started
    return report
