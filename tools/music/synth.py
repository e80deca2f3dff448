"""Render tracks to audio with a General MIDI SoundFont, in-process and bounded.

libfluidsynth is driven directly (note events sent between blocks of samples) rather than through
its file player or CLI: the output length is then exactly what we ask for, so a malformed MIDI
file can never make it write forever (the CLI once wrote 52 GB on a valid quartet file). Where
libfluidsynth is missing, a small additive synth keeps the pipeline working and says so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.resources import find_soundfont, fluidsynth_library
from tools.music.song import Note, Song, Track

SAMPLE_RATE = 44100
BLOCK = 512
GAIN = 0.35  # FluidR3 at 0.5 peaked at 0.98 on a dense song
TAIL_SECONDS = 1.5
log = logging.getLogger(__name__)


def _float_writer():
    """libfluidsynth's float output, or None. Unlike ``get_samples`` (16-bit with a dither index
    that persists across renders) it is deterministic: the same notes give the same samples."""
    import ctypes

    import fluidsynth

    if not hasattr(fluidsynth, "cfunc"):
        return None
    return fluidsynth.cfunc("fluid_synth_write_float", ctypes.c_int, ("synth", ctypes.c_void_p, 1),
                            ("len", ctypes.c_int, 1), ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1),
                            ("lincr", ctypes.c_int, 1), ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1),
                            ("rincr", ctypes.c_int, 1))


@dataclass(frozen=True)
class _Event:
    sample: int
    on: bool
    pitch: int
    velocity: int


def _events(notes: list[Note], seconds_per_beat: float, sample_rate: int, offset_beats: float) -> list[_Event]:
    events: list[_Event] = []
    for note in notes:
        start = int(round((note.start - offset_beats) * seconds_per_beat * sample_rate))
        end = int(round((note.end - offset_beats) * seconds_per_beat * sample_rate))
        if end <= 0:
            continue
        events.append(_Event(max(start, 0), True, note.pitch, note.velocity))
        events.append(_Event(max(end, 1), False, note.pitch, 0))
    # offs before ons at the same sample so a repeated pitch re-strikes
    events.sort(key=lambda e: (e.sample, e.on))
    return events


class FluidRenderer:
    """One loaded SoundFont; renders one track at a time to a stereo float32 array."""

    def __init__(self, soundfont: Path, sample_rate: int = SAMPLE_RATE) -> None:
        import fluidsynth  # deferred: needs libfluidsynth, absent on some machines

        self.soundfont = soundfont
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._synth = fluidsynth.Synth(gain=GAIN, samplerate=float(sample_rate))
        self._synth.setting("synth.chorus.active", 0)  # chorus makes L/R anti-correlated
        self._synth.setting("synth.reverb.active", 0)  # the mix adds its own reverb
        self._write_float = _float_writer()
        self._written = 0  # samples pulled so far: libfluidsynth renders in 64-sample blocks
        self._sfid = self._synth.sfload(str(soundfont))
        if self._sfid < 0:
            raise TunesmithError(f"The SoundFont {soundfont} could not be loaded")

    def render(self, notes: list[Note], *, program: int, is_drum: bool, seconds_per_beat: float,
               total_samples: int, offset_beats: float = 0.0) -> np.ndarray:
        """Exactly ``total_samples`` stereo frames of one instrument playing ``notes``."""
        channel = 9 if is_drum else 0
        events = _events(notes, seconds_per_beat, self.sample_rate, offset_beats)
        out = np.zeros((total_samples, 2), dtype=np.float32)
        with self._lock:
            synth = self._synth
            synth.system_reset()
            # start on a 64-sample block boundary: a render that ended mid-block would otherwise
            # shift every event of the next one by up to 63 samples (and make it non-repeatable)
            leftover = (-self._written) % 64
            if leftover:
                scratch = np.empty((leftover, 2), dtype=np.float32)
                if self._write_float is not None:
                    self._write_float(synth.synth, leftover, scratch.ctypes.data, 0, 2, scratch.ctypes.data, 1, 2)
                else:
                    synth.get_samples(leftover)
                self._written += leftover
            synth.program_select(channel, self._sfid, 128 if is_drum else 0, 0 if is_drum else program)
            position, index = 0, 0
            while position < total_samples:
                while index < len(events) and events[index].sample <= position:
                    event = events[index]
                    if event.on:
                        synth.noteon(channel, event.pitch, event.velocity)
                    else:
                        synth.noteoff(channel, event.pitch)
                    index += 1
                next_event = events[index].sample if index < len(events) else total_samples
                count = int(min(max(next_event - position, 1), total_samples - position, 8192))
                if self._write_float is not None:
                    block = np.empty((count, 2), dtype=np.float32)
                    self._write_float(synth.synth, count, block.ctypes.data, 0, 2, block.ctypes.data, 1, 2)
                    out[position:position + count] = block
                else:
                    block = np.asarray(synth.get_samples(count), dtype=np.float32).reshape(-1, 2)
                    out[position:position + count] = block[:count] / 32768.0
                position += count
                self._written += count
            synth.all_sounds_off(channel)
        return out


@lru_cache(maxsize=2)
def _renderer(soundfont: Path, sample_rate: int) -> FluidRenderer:
    return FluidRenderer(soundfont, sample_rate)


def get_renderer(soundfont: Path | None = None, sample_rate: int = SAMPLE_RATE) -> FluidRenderer | None:
    """The shared renderer (SoundFonts take seconds to load: once per process), or None."""
    path = find_soundfont(soundfont)
    if path is None or fluidsynth_library() is None:
        return None
    return _renderer(path, sample_rate)


def _additive(notes: list[Note], *, is_drum: bool, seconds_per_beat: float, total_samples: int,
              sample_rate: int, offset_beats: float) -> np.ndarray:
    """Plain numpy synth: decaying harmonics for pitched notes, noise bursts for drums."""
    out = np.zeros(total_samples, dtype=np.float32)
    for note in notes:
        start = int((note.start - offset_beats) * seconds_per_beat * sample_rate)
        length = int(note.duration * seconds_per_beat * sample_rate) + int(0.05 * sample_rate)
        if start >= total_samples or start + length <= 0:
            continue
        t = np.arange(length) / sample_rate
        amplitude = note.velocity / 127 * 0.2
        if is_drum:
            rng = np.random.default_rng(note.pitch)
            wave = rng.standard_normal(length) * np.exp(-t * 30)
        else:
            f0 = 440.0 * 2 ** ((note.pitch - 69) / 12)
            wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3))
            wave *= np.minimum(1, t / 0.01) * np.exp(-t * 1.5)
        lo, hi = max(start, 0), min(start + length, total_samples)
        out[lo:hi] += (amplitude * wave[lo - start:hi - start]).astype(np.float32)
    return np.stack([out, out], axis=1)


def render_track(track: Track, song: Song, *, total_samples: int | None = None, offset_beats: float = 0.0,
                 sample_rate: int = SAMPLE_RATE, soundfont: Path | None = None) -> np.ndarray:
    """One track as stereo float32 audio, exactly ``total_samples`` long."""
    if total_samples is None:
        total_samples = int((song.duration_seconds + TAIL_SECONDS) * sample_rate)
    renderer = get_renderer(soundfont, sample_rate)
    if renderer is None:
        log.warning("libfluidsynth or a SoundFont is missing: rendering with the plain numpy synth")
        return _additive(track.notes, is_drum=track.is_drum, seconds_per_beat=song.seconds_per_beat,
                         total_samples=total_samples, sample_rate=sample_rate, offset_beats=offset_beats)
    return renderer.render(track.notes, program=track.program, is_drum=track.is_drum,
                           seconds_per_beat=song.seconds_per_beat, total_samples=total_samples,
                           offset_beats=offset_beats) * track.volume


def render_tracks(song: Song, *, include_melody: bool = False, sample_rate: int = SAMPLE_RATE,
                  soundfont: Path | None = None) -> dict[str, np.ndarray]:
    """Every accompaniment track (and the melody as an instrument when asked) as stems."""
    total = int((song.duration_seconds + TAIL_SECONDS) * sample_rate)
    tracks = list(song.tracks) + ([song.melody] if include_melody and song.melody.notes else [])
    return {track.name: render_track(track, song, total_samples=total, sample_rate=sample_rate,
                                     soundfont=soundfont) for track in tracks}


def render_song_audio(song: Song, *, include_melody: bool = True, sample_rate: int = SAMPLE_RATE,
                      soundfont: Path | None = None) -> np.ndarray:
    """All tracks summed to one stereo array (no mastering): for analysis and previews."""
    stems = render_tracks(song, include_melody=include_melody, sample_rate=sample_rate, soundfont=soundfont)
    if not stems:
        raise TunesmithError("The song has no notes to render")
    return np.sum(list(stems.values()), axis=0)


def render_midi_file(path: Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = 900.0,
                     soundfont: Path | None = None) -> np.ndarray:
    """A MIDI file (any, including user uploads) to stereo audio, bounded to ``max_seconds``."""
    song = Song.from_midi(path)
    if song.duration_seconds > max_seconds:
        raise TunesmithError(f"{path.name} lasts {song.duration_seconds:.0f} s; the limit is {max_seconds:.0f} s")
    tracks = song.all_tracks()
    if not tracks:
        raise TunesmithError(f"{path.name} holds no notes")
    # every part sounds with its own program, including a lyric-bearing one
    return render_song_audio(song, include_melody=True, sample_rate=sample_rate, soundfont=soundfont)
