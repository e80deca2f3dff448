"""Song → audio and files: FluidSynth accompaniment, WORLD vocals, mix, exports, manifest.

Everything is deterministic given the song and the voice, so a re-render of an unchanged song is
bit-identical; `render_song` is separate from composing so style transfer and edits can render a
Song they changed.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

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
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    total = song_samples(song)
    sing = vocals != "none" and any(n.syllable for n in song.melody.notes)
    # FluidSynth runs in C without the GIL: the band renders on one core while the voice sings
    # on the other
    with ThreadPoolExecutor(max_workers=2) as pool:
        band_job = pool.submit(render_accompaniment, song, total_samples=total, include_melody=not sing)
        score_job = pool.submit(song.to_musicxml, out_dir / "song.musicxml") if musicxml else None
        voice = None
        if sing:
            from tools.music.voice import sing_song

            voice = sing_song(song, voice=vocals, sample_rate=SAMPLE_RATE, total_samples=total)
            lap("vocals")
        instrument_stems = band_job.result()
        score_path = score_job.result() if score_job is not None else None
    if not instrument_stems:
        raise TunesmithError("The song has no instruments to render")
    accompaniment = np.sum(list(instrument_stems.values()), axis=0)
    lap("accompaniment (after vocals)" if sing else "accompaniment")
    mixed = mix_song(accompaniment, voice, SAMPLE_RATE)
    lap("mix")

    files: dict[str, Path] = {}

    def save(name: str, audio: np.ndarray) -> None:
        path = out_dir / name
        write_audio(path, audio, SAMPLE_RATE)
        files[name] = path

    save("song.wav", mixed.mix)
    save("song.mp3", mixed.mix)
    save("accompaniment.wav", mixed.accompaniment)
    if mixed.vocals is not None:
        save("vocals.wav", mixed.vocals)
    if stems:
        gain = 10 ** (mixed.master_gain_db / 20)
        for name, audio in instrument_stems.items():
            save(f"stem_{name.lower().replace(' ', '_')}.wav", audio * gain)
    lap("audio files")
    files["song.mid"] = song.to_midi(out_dir / "song.mid")
    if score_path is not None:
        files["song.musicxml"] = score_path
    (out_dir / "lyrics.lrc").write_text(song.to_lrc(), encoding="utf-8")
    files["lyrics.lrc"] = out_dir / "lyrics.lrc"
    (out_dir / "song.json").write_text(song.to_json(), encoding="utf-8")
    files["song.json"] = out_dir / "song.json"
    if blueprint is not None:
        (out_dir / "blueprint.json").write_text(blueprint.model_dump_json(indent=2), encoding="utf-8")
        files["blueprint.json"] = out_dir / "blueprint.json"
    lap("symbolic files")

    requested = dict(requested or {})
    requested.setdefault("key", song.key)
    requested.setdefault("tempo_bpm", song.tempo_bpm)
    requested.setdefault("lufs", -14.0)
    measured, disagreements = {}, []
    if check:
        from tools.song.check import compare, measure

        measured = measure(mixed.mix, SAMPLE_RATE, lufs=mixed.lufs)
        measured["true_peak_dbfs"] = round(mixed.true_peak_db, 2)
        disagreements = compare(measured, requested)
        lap("check")
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
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    files["manifest.json"] = out_dir / "manifest.json"
    return RenderOutput(files=files, manifest=manifest, timings=timings)
