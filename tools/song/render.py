"""Song → audio and files: FluidSynth accompaniment, WORLD vocals, mix, exports, manifest.

Everything is deterministic given the song and the voice, so a re-render of an unchanged song is
bit-identical; `render_song` is separate from composing so style transfer and edits can render a
Song they changed.

Two cores are kept busy. One persistent helper process sings the whole melody and runs the vocal
chain while this process renders the band (3-minute song, CPU-s: ~4.1 and ~3.6); the helper then
writes the MusicXML score and the MIDI, LRC and JSON files while this process mixes (~1.1 and
~1.2); while this process writes the WAVs and measures key and tempo (~1.5), the helper encodes
the MP3 (~1.3). The helper only moves work: band, mix, score, MP3 and measurements are the same
bytes with or without it. The voice is too, up to espeak-ng, which does not speak a word the same
way twice (measured: a few samples' length and the noise differ); each process keeps its first
analysis of a word, and every phrase is sung in the helper, so a re-render in the same processes
sings the same.
"""

from __future__ import annotations

import json
import multiprocessing
import logging
import os
import sys
import threading
import time
import types
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from tools.lifetime import exit_with_parent
from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.music.synth import SAMPLE_RATE, render_track
from tools.song.blueprint import TAIL_SECONDS, Blueprint


@dataclass
class RenderOutput:
    files: dict[str, Path]
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)


def song_samples(song: Song, sample_rate: int = SAMPLE_RATE) -> int:
    """The song's length in samples: its bars plus a short ring-out."""
    seconds = song.total_bars * song.beats_per_bar * song.seconds_per_beat + TAIL_SECONDS
    return int(round(seconds * sample_rate))


def render_accompaniment(song: Song, *, total_samples: int, include_melody: bool,
                         sample_rate: int = SAMPLE_RATE) -> dict[str, np.ndarray]:
    """Each instrument (and the melody when nobody sings it) as a stereo stem."""
    tracks = list(song.tracks) + ([song.melody] if include_melody and song.melody.notes else [])
    return {t.name: render_track(t, song, total_samples=total_samples, sample_rate=sample_rate) for t in tracks}


log = logging.getLogger(__name__)
_helper: ProcessPoolExecutor | None = None
_helper_lock = threading.Lock()


def helper_pool() -> ProcessPoolExecutor | None:
    """The process-wide helper (one worker, started on first use and kept, so its word, phrase
    and score caches stay warm between songs), or None on a single core or where the environment
    sets TUNESMITH_RENDER_HELPER=0 (everything then runs in this process, threads only).

    The worker is started at once with an empty ``__main__`` in place: multiprocessing would
    otherwise re-run the caller's main script in it (an unguarded script would render its songs
    there), and the worker needs nothing from that script.
    """
    global _helper
    if (os.cpu_count() or 1) < 2 or os.environ.get("TUNESMITH_RENDER_HELPER", "1") == "0":
        return None
    with _helper_lock:
        if _helper is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=exit_with_parent)
                pool.submit(int).result()  # starts the worker now, while __main__ is the empty one
            except (OSError, RuntimeError, BrokenProcessPool) as error:
                log.warning("render helper process unavailable (%s): rendering in one process", error)
                return None
            finally:
                sys.modules["__main__"] = main
            _helper = pool
        return _helper


def _forget_helper() -> None:
    global _helper
    with _helper_lock:
        _helper = None


def _submit(pool: Executor | None, fallback: Executor, fn, *args) -> Future:
    """Run ``fn`` in the helper when there is one, else on ``fallback`` (a thread)."""
    if pool is not None:
        try:
            return pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            _forget_helper()
    return fallback.submit(fn, *args)


def _result(future: Future, fn, *args):
    """The job's result; if the helper died under it, the job done here instead."""
    try:
        return future.result()
    except BrokenProcessPool:
        _forget_helper()
        return fn(*args)


def write_score(song: Song, path: Path) -> Path:
    return song.to_musicxml(path)


def write_symbolic(song: Song, blueprint: Blueprint | None, out_dir: Path) -> dict[str, Path]:
    """MIDI with lyrics, LRC, the song's JSON and the blueprint's: the files that need no audio."""
    files = {"song.mid": song.to_midi(out_dir / "song.mid")}
    (out_dir / "lyrics.lrc").write_text(song.to_lrc(), encoding="utf-8")
    files["lyrics.lrc"] = out_dir / "lyrics.lrc"
    (out_dir / "song.json").write_text(song.to_json(), encoding="utf-8")
    files["song.json"] = out_dir / "song.json"
    if blueprint is not None:
        (out_dir / "blueprint.json").write_text(blueprint.model_dump_json(indent=2), encoding="utf-8")
        files["blueprint.json"] = out_dir / "blueprint.json"
    return files


def encode_mp3_from_wav(wav: Path, mp3: Path) -> Path:
    """The MP3 of a written WAV: the same 16-bit samples whichever process encodes them."""
    import soundfile

    from tools.music.mix import encode_mp3

    pcm, rate = soundfile.read(wav, dtype="int16")
    encode_mp3(pcm, rate, mp3)
    return mp3


def _sing(song: Song, vocals: str, total: int, via_file: bool) -> tuple[np.ndarray | str | None, np.ndarray]:
    """The sung melody through the vocal chain (stereo; None if nothing sounds) and where it
    sings (`voice_activity`, bit-packed): one job, so the process that sings also runs the chain,
    and what comes back is 60 MB for a 3-minute song, not 90.

    With ``via_file`` (in the helper) the stereo voice comes back as the path of a .npy file in
    shared memory, which the caller loads and deletes (`_load_voice`): through the result pipe
    it cost the receiver ~0.2 CPU-s and ~0.6 s on a loaded machine, through the file ~0.04 / 0.15.
    """
    from tools.music.mix import vocal_chain, voice_activity
    from tools.music.voice import sing_song

    dry = sing_song(song, voice=vocals, sample_rate=SAMPLE_RATE, total_samples=total)
    if not np.any(dry):
        return None, np.packbits(np.zeros(total, dtype=bool))
    active = np.packbits(voice_activity(dry))
    wet = vocal_chain(dry, SAMPLE_RATE)
    if via_file:
        import tempfile

        shared = Path("/dev/shm")
        handle, name = tempfile.mkstemp(prefix="tunesmith-voice-", suffix=".npy",
                                        dir=shared if shared.is_dir() and os.access(shared, os.W_OK) else None)
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, wet)
        except OSError:  # no room there: the pipe it is
            Path(name).unlink(missing_ok=True)
            return wet, active
        return name, active
    return wet, active


def _load_voice(wet: np.ndarray | str | None) -> np.ndarray | None:
    """`_sing`'s voice, loaded (and its file deleted) when it came as a path."""
    if not isinstance(wet, str):
        return wet
    try:
        return np.load(wet)
    finally:
        Path(wet).unlink(missing_ok=True)


def _analysis_signal(wav: Path) -> np.ndarray:
    """The written mix read back as the closed-loop check's estimators read it."""
    import soundfile

    from tools.song.check import analysis_signal

    audio, rate = soundfile.read(wav, dtype="float32")
    return analysis_signal(audio, rate)


def _band(song: Song, total: int, include_melody: bool, keep_stems: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Instrument stems (when kept) and their sum through the band chain (FluidSynth and
    pedalboard run in C). Tracks are summed as they render: holding every stem of a three-minute
    song costs ~60 MB each."""
    from tools.music.mix import band_chain

    tracks = list(song.tracks) + ([song.melody] if include_melody and song.melody.notes else [])
    if not tracks:
        raise TunesmithError("The song has no instruments to render")
    stems: dict[str, np.ndarray] = {}
    accompaniment = np.zeros((total, 2), dtype=np.float32)
    for track in tracks:
        audio = render_track(track, song, total_samples=total, sample_rate=SAMPLE_RATE)
        accompaniment += audio
        if keep_stems:
            stems[track.name] = audio
    return stems, band_chain(accompaniment, SAMPLE_RATE)


def _versions() -> dict[str, str]:
    found = {}
    for package in ("tunesmith", "pyworld-prebuilt", "pyfluidsynth", "espeakng-loader", "pedalboard", "pyloudnorm",
                    "numpy", "librosa"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def render_song(song: Song, out_dir: Path, *, vocals: str = "female", blueprint: Blueprint | None = None,
                requested: dict | None = None, recipe: dict | None = None, stems: bool = False,
                check: bool = True, musicxml: bool = True) -> RenderOutput:
    """Render and write every output file into ``out_dir``; returns the files and the manifest.

    Args:
        vocals: "female", "male" or "none" (the melody is then played by its instrument).
        requested: what the user asked (key, tempo_bpm, duration_s) for the closed-loop check.
        stems: also write one WAV per instrument.
    """
    from tools.music.mix import mix_song, write_audio

    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}  # this process's CPU seconds per stage: wall time lies on a shared machine
    clock, cpu_clock = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        timings[name] = round(now - clock, 3)
        cpu_timings[name] = round(cpu_now - cpu_clock, 3)
        clock, cpu_clock = now, cpu_now

    total = song_samples(song)
    sing = vocals != "none" and any(n.syllable for n in song.melody.notes)
    helper = helper_pool()
    files: dict[str, Path] = {}
    score_path = out_dir / "song.musicxml"
    with ThreadPoolExecutor(max_workers=2) as threads:
        voice_job = _submit(helper, threads, _sing, song, vocals, total, helper is not None) if sing else None
        score_job = symbolic_job = None
        if helper is not None:  # after the singing: written while this process mixes
            if musicxml:
                score_job = _submit(helper, threads, write_score, song, score_path)
            symbolic_job = _submit(helper, threads, write_symbolic, song, blueprint, out_dir)
        # The band renders on this thread, with nothing beside it in this process: FluidSynth
        # returns to Python at every note event, and each return waits for the GIL; beside
        # music21 (pure Python) that wait is the 5 ms switch interval, which made a 4 CPU-s band
        # take 20 s.
        instrument_stems, band = _band(song, total, not sing, stems)
        lap("accompaniment")
        if musicxml and score_job is None:
            files["song.musicxml"] = write_score(song, score_path)
            lap("score")
        wet = active = None
        if voice_job is not None:
            wet, packed = _result(voice_job, _sing, song, vocals, total, False)
            wet = _load_voice(wet)
            active = np.unpackbits(packed, count=total).view(bool)
            lap("vocals (after band)")
        # (the band's dry sum is not needed once the band chain has run)
        mixed = mix_song(band, None, SAMPLE_RATE, band=band, voice=wet, active=active)
        del wet, active, band
        lap("mix")

        def save(name: str, audio: np.ndarray) -> Path:
            path = out_dir / name
            write_audio(path, audio, SAMPLE_RATE)
            return path

        files["song.wav"] = save("song.wav", mixed.mix)
        mp3_job = _submit(helper, threads, encode_mp3_from_wav, out_dir / "song.wav", out_dir / "song.mp3")
        lap("song.wav")
        if check:
            signal = _analysis_signal(out_dir / "song.wav")
            lap("check: read mix")
        stem_jobs = {"accompaniment.wav": threads.submit(save, "accompaniment.wav", mixed.accompaniment)}
        if mixed.vocals is not None:
            stem_jobs["vocals.wav"] = threads.submit(save, "vocals.wav", mixed.vocals)
        if stems:
            gain = np.float32(10 ** (mixed.master_gain_db / 20))
            for name, audio in instrument_stems.items():
                file = f"stem_{name.lower().replace(' ', '_')}.wav"
                stem_jobs[file] = threads.submit(save, file, audio * gain)
        if symbolic_job is None:
            files.update(write_symbolic(song, blueprint, out_dir))
            lap("symbolic files")

        requested = dict(requested or {})
        requested.setdefault("key", song.key)
        requested.setdefault("tempo_bpm", song.tempo_bpm)
        requested.setdefault("lufs", -14.0)
        measured, disagreements = {}, []
        if check:
            from tools.song.check import compare, measure_key, measure_tempo, measurements

            for name, job in stem_jobs.items():  # the tempo's spectrograms need the room (peak RSS)
                files[name] = job.result()
            mix_seconds, stem_jobs = mixed.mix.shape[0] / SAMPLE_RATE, {}
            mixed.mix = mixed.accompaniment = mixed.vocals = instrument_stems = None
            tempo = measure_tempo(signal)
            lap("check: tempo")
            key = measure_key(signal)
            del signal
            measured = measurements(key, tempo, duration_s=mix_seconds, lufs=mixed.lufs)
            measured["true_peak_dbfs"] = round(mixed.true_peak_db, 2)
            disagreements = compare(measured, requested)
            lap("check: key")
        for name, job in stem_jobs.items():
            files[name] = job.result()
        if symbolic_job is not None:
            files.update(_result(symbolic_job, write_symbolic, song, blueprint, out_dir))
        files["song.mp3"] = _result(mp3_job, encode_mp3_from_wav, out_dir / "song.wav", out_dir / "song.mp3")
        if score_job is not None:
            files["song.musicxml"] = _result(score_job, write_score, song, score_path)
        lap("waiting for stems, mp3 and score")
    seconds_per_bar = song.beats_per_bar * song.seconds_per_beat
    manifest = {
        "title": song.title,
        "key": song.key,
        "tempo_bpm": song.tempo_bpm,
        "meter": song.meter,
        "duration_s": round(total / SAMPLE_RATE, 3),
        "vocals": vocals if sing else "none",
        "style": blueprint.style if blueprint else (song.style_tags[0] if song.style_tags else None),
        "style_match": blueprint.style_match.model_dump() if blueprint else None,
        "sections": [{"name": s.name, "kind": s.kind, "start_s": round(s.start_bar * seconds_per_bar, 3),
                      "bars": s.bars, "chords": s.chords, "lyrics": s.lyrics} for s in song.sections],
        "tracks": [{"name": t.name, "program": t.program, "role": t.role, "notes": len(t.notes)} for t in song.all_tracks()],
        "files": {name: path.name for name, path in files.items()},
        "requested": requested,
        "measured": measured,
        "warnings": (list(blueprint.warnings) if blueprint else []) + disagreements,
        "recipe": {**(recipe or {}), "versions": _versions()},
        "timings_s": timings,
        "timings_cpu_s": cpu_timings,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    files["manifest.json"] = out_dir / "manifest.json"
    return RenderOutput(files=files, manifest=manifest, timings=timings)
