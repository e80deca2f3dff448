"""Section-by-section rendering with a content-addressed cache, so an edit re-renders only the
sections whose content changed and every other section's audio stays sample-identical.

Each section is rendered on its own (its notes re-timed from 0, the band's reverb and the vocal
chain applied inside the segment) into a buffer one ring-out longer than the section, faded over
the ring-out; segments are overlap-added at their start samples. The cache key is the segment's
relative content, so sections that merely move in time (after a bar-count change) are reused too.

Mastering matches `render_song`'s targets (−14 LUFS, true peak about −1 dBTP) without letting a
section reach audio outside its own segment: one gain for the song and a memoryless soft clip (no
look-ahead limiter). A new version (a restyle) gets the gain that brings it to −14 LUFS; an edit
keeps its parent's gain (``gain_db``), so untouched sections stay sample-identical and an edit
that makes a chorus bigger is heard louder, not normalised away.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.song import Section, Song, Track
from tools.music.mix import TARGET_LUFS, TRUE_PEAK_CEILING_DB, integrated_loudness, true_peak
from tools.music.synth import SAMPLE_RATE, render_track
from tools.music.voice.singer import VoiceParams
from tools.restyle.voice import song_voice

RING_S = 1.0  # a segment's ring-out after its section ends
FADE_S = 0.4  # the last part of the ring-out fades to silence
CLIP_CEILING = 10 ** ((TRUE_PEAK_CEILING_DB - 0.5) / 20)  # sample peaks; overs between samples stay under −1 dBTP
CLIP_KNEE = 0.85 * CLIP_CEILING
CACHE_VERSION = "restyle-render-2"
_MEMORY: "OrderedDict[str, np.ndarray]" = OrderedDict()
_LOCK = threading.Lock()
MEMORY_SEGMENTS = 48
DISK_SEGMENTS = 160  # ~6 MB each for 8 bars: the disk cache keeps the newest ~1 GB at most


@dataclass
class SectionRender:
    audio: np.ndarray  # stereo float32, mastered
    rendered: list[str] = field(default_factory=list)  # sections rendered now
    reused: list[str] = field(default_factory=list)  # sections served from the cache
    seconds: float = 0.0
    segment_starts: dict[str, int] = field(default_factory=dict)
    gain_db: float = 0.0  # the master gain applied (the parent's for an edit)
    lufs: float | None = None  # measured for a new master only: on an edit it would cost more than the section
    true_peak_db: float | None = None

    def master_info(self, *, inherited: bool) -> dict:
        """The manifest's "master" entry; an edit of this version reads ``gain_db`` back."""
        return {"renderer": CACHE_VERSION, "gain_db": self.gain_db,  # exact: an edit re-applies it
                "lufs": None if self.lufs is None else round(self.lufs, 2),
                "true_peak_dbtp": None if self.true_peak_db is None else round(self.true_peak_db, 2),
                "gain_from": "parent" if inherited else "this version"}


def _relative(track: Track, start: float, end: float) -> list[list]:
    return sorted([n.pitch, round(n.start - start, 4), round(n.duration, 4), n.velocity, n.syllable or ""]
                  for n in track.notes if start - 1e-6 <= n.start < end - 1e-6)


def segment_spec(song: Song, section: Section, *, vocals: str) -> dict:
    """Everything that decides a section's audio, re-timed from the section start."""
    start, end = section.start_bar * song.beats_per_bar, section.end_bar * song.beats_per_bar
    sing = vocals != "none" and any(n.syllable for n in song.melody.notes)
    tracks = list(song.tracks) + ([] if sing else [song.melody])
    return {
        "v": CACHE_VERSION, "engine": engine_fingerprint(), "tempo": song.tempo_bpm, "beats": end - start, "vocals": vocals if sing else "none",
        "voice": dataclasses.asdict(song_voice(song, vocals)) if sing else None,
        "tracks": [[t.program, t.is_drum, t.volume, notes] for t in tracks if (notes := _relative(t, start, end))],
        "melody": _relative(song.melody, start, end) if sing else [],
    }


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A hash of the code and data that turn notes into sound (synth, mix, singer, voices).

    A cached segment from an older renderer would no longer match a fresh render of its
    neighbours, so any change to those files retires the disk cache without anyone bumping a
    version by hand.
    """
    import tools.music.mix as mix
    import tools.music.synth as synth
    import tools.music.voice as voice

    digest = hashlib.sha256()
    voice_dir = Path(voice.__file__).parent
    for path in sorted([Path(synth.__file__), Path(mix.__file__), *voice_dir.glob("*.py"), *voice_dir.glob("*.json")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def _cache_dir() -> Path | None:
    try:
        from tools.config import settings

        path = settings().cache_dir / "sections"
        path.mkdir(parents=True, exist_ok=True)
        return path
    except (OSError, ImportError):
        return None


def _cached(key: str) -> np.ndarray | None:
    with _LOCK:
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            return _MEMORY[key]
    folder = _cache_dir()
    if folder is not None and (folder / f"{key}.npy").is_file():
        try:
            audio = np.load(folder / f"{key}.npy")
            (folder / f"{key}.npy").touch()  # recently used: pruned last
        except (OSError, ValueError):
            return None
        _remember(key, audio, persist=False)
        return audio
    return None


def _remember(key: str, audio: np.ndarray, *, persist: bool = True) -> None:
    with _LOCK:
        _MEMORY[key] = audio
        while len(_MEMORY) > MEMORY_SEGMENTS:
            _MEMORY.popitem(last=False)
    folder = _cache_dir()
    if persist and folder is not None:
        tmp = folder / f"{key}.tmp.npy"
        np.save(tmp, audio)
        tmp.replace(folder / f"{key}.npy")
        _prune(folder)


def _prune(folder: Path) -> None:
    """Drop the least recently written segments beyond `DISK_SEGMENTS`."""
    files = list(folder.glob("*.npy"))
    if len(files) <= DISK_SEGMENTS:
        return
    files.sort(key=lambda p: p.stat().st_mtime)
    for path in files[: len(files) - DISK_SEGMENTS]:
        path.unlink(missing_ok=True)


def clear_memory_cache() -> None:
    """Forget in-process segments (the disk cache stays); benchmarks use it for cold renders."""
    with _LOCK:
        _MEMORY.clear()


def _render_segment(song: Song, section: Section, spec: dict, sample_rate: int) -> np.ndarray:
    from tools.music.mix import band_chain, vocal_chain

    start, end = section.start_bar * song.beats_per_bar, section.end_bar * song.beats_per_bar
    length = int(round(song.beats_to_seconds(end - start) * sample_rate)) + int(RING_S * sample_rate)
    band = np.zeros((length, 2), dtype=np.float32)
    sing = spec["vocals"] != "none"
    for track in list(song.tracks) + ([] if sing else [song.melody]):
        notes = [n.model_copy(update={"start": round(n.start - start, 4)})
                 for n in track.notes if start - 1e-6 <= n.start < end - 1e-6]
        if notes:
            band += render_track(track.model_copy(update={"notes": notes}), song, total_samples=length,
                                 sample_rate=sample_rate)
    out = band_chain(band, sample_rate).astype(np.float32)
    if sing:
        melody = [n.model_copy(update={"start": round(n.start - start, 4)})
                  for n in song.melody.notes if start - 1e-6 <= n.start < end - 1e-6]
        if any(n.syllable for n in melody):
            from tools.music.voice import sing_song

            local = song.model_copy(update={"melody": song.melody.model_copy(update={"notes": melody})})
            voice = sing_song(local, voice=VoiceParams(**spec["voice"]), sample_rate=sample_rate, total_samples=length)
            active = np.abs(voice) > 1e-3
            if active.any():
                wet = vocal_chain(voice, sample_rate)[:length]
                band_rms = float(np.sqrt(np.mean(out[active] ** 2))) or 0.05
                voice_rms = float(np.sqrt(np.mean(wet[active] ** 2))) or 1.0
                out = out + wet * (band_rms / voice_rms) * 10 ** (2.0 / 20)
    fade = int(FADE_S * sample_rate)
    out[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return out


def soft_clip(x: np.ndarray, knee: float = CLIP_KNEE, ceiling: float = CLIP_CEILING) -> np.ndarray:
    """Memoryless: identity below ``knee``, a tanh shoulder above, never past ``ceiling``."""
    over = np.abs(x) > knee
    y = x.copy()
    span = ceiling - knee
    y[over] = np.sign(x[over]) * (knee + span * np.tanh((np.abs(x[over]) - knee) / span))
    return y


def master_gain_db(mix: np.ndarray, sample_rate: int) -> float:
    """The one gain that brings ``mix`` (after the soft clip) to −14 LUFS: measured, then corrected
    once where the clip took loudness back (dense songs), as `tools.music.mix.master` does."""
    loudness = integrated_loudness(mix, sample_rate)
    if not np.isfinite(loudness):
        return 0.0
    gain_db = TARGET_LUFS - loudness
    after = integrated_loudness(soft_clip(mix * np.float32(10 ** (gain_db / 20))), sample_rate)
    if np.isfinite(after) and abs(after - TARGET_LUFS) > 0.2:
        gain_db += TARGET_LUFS - after
    return float(gain_db)


def render_sections(song: Song, *, vocals: str = "female", sample_rate: int = SAMPLE_RATE,
                    use_cache: bool = True, gain_db: float | None = None) -> SectionRender:
    """The mastered song, assembled from per-section segments (cached by content).

    Args:
        gain_db: the master gain to apply (an edit passes its parent's); None measures the song
            and brings it to −14 LUFS.
    """
    if not song.sections or not song.all_tracks():
        raise TunesmithError("The song is empty: nothing to render", hint="it needs sections and notes")
    clock = time.perf_counter()
    total = int(round(song.beats_to_seconds(song.total_bars * song.beats_per_bar) * sample_rate)) + int(RING_S * sample_rate)
    mix = np.zeros((total, 2), dtype=np.float32)
    result = SectionRender(audio=mix)
    for section in song.sections:
        spec = segment_spec(song, section, vocals=vocals)
        key = _key({**spec, "sr": sample_rate})
        segment = _cached(key) if use_cache else None
        if segment is None:
            segment = _render_segment(song, section, spec, sample_rate)
            result.rendered.append(section.name)
            if use_cache:
                _remember(key, segment)
        else:
            result.reused.append(section.name)
        first = int(round(song.beats_to_seconds(section.start_bar * song.beats_per_bar) * sample_rate))
        result.segment_starts[section.name] = first
        stop = min(first + segment.shape[0], total)
        mix[first:stop] += segment[: stop - first]
    result.gain_db = master_gain_db(mix, sample_rate) if gain_db is None else float(gain_db)
    result.audio = soft_clip(mix * np.float32(10 ** (result.gain_db / 20)))
    if gain_db is None:  # a new master says what it reached; an edit's loudness is its parent's plus the edit
        result.lufs = integrated_loudness(result.audio, sample_rate)
        result.true_peak_db = 20 * float(np.log10(max(true_peak(result.audio), 1e-9)))
    result.seconds = round(time.perf_counter() - clock, 3)
    return result


def write_outputs(song: Song, rendered: SectionRender, out_dir: Path, *, musicxml: bool = False) -> dict[str, Path]:
    """song.wav, song.mp3, song.mid, song.json, lyrics.lrc (and song.musicxml) into ``out_dir``."""
    from tools.music.mix import write_audio

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name in ("song.wav", "song.mp3"):
        write_audio(out_dir / name, rendered.audio, SAMPLE_RATE)
        files[name] = out_dir / name
    files["song.mid"] = song.to_midi(out_dir / "song.mid")
    (out_dir / "song.json").write_text(song.to_json(), encoding="utf-8")
    files["song.json"] = out_dir / "song.json"
    (out_dir / "lyrics.lrc").write_text(song.to_lrc(), encoding="utf-8")
    files["lyrics.lrc"] = out_dir / "lyrics.lrc"
    if musicxml:
        files["song.musicxml"] = song.to_musicxml(out_dir / "song.musicxml")
    return files
