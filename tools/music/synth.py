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
GAIN = 0.35  # FluidR3 at 0.5 peaked at 0.98 on a dense song
TAIL_SECONDS = 1.5
log = logging.getLogger(__name__)


def _effects_off(synth) -> None:
    """Reverb and chorus off through the API calls. The "synth.reverb.active" / "synth.chorus.active"
    settings alone left libfluidsynth 2.3's reverb running: a 0.7 s tail survived all_sounds_off and
    system_reset and sounded at the start of the next render (the −20 dB residual between two renders
    of one track). The mix adds its own reverb, so the synth's is not wanted anyway."""
    import ctypes

    import fluidsynth

    library, handle = fluidsynth._fl, ctypes.c_void_p(synth.synth)
    if hasattr(library, "fluid_synth_reverb_on"):  # 2.2+: per effects group, -1 = all
        library.fluid_synth_reverb_on(handle, -1, 0)
        library.fluid_synth_chorus_on(handle, -1, 0)
    else:
        library.fluid_synth_set_reverb_on(handle, 0)
        library.fluid_synth_set_chorus_on(handle, 0)


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
    """One loaded SoundFont; renders one track at a time to a stereo float32 array.

    Every render gets a fresh synth that borrows the loaded SoundFont (1–10 ms, against ~0.2 s
    to load it): a reused synth is not repeatable. Measured on libfluidsynth 2.3, a reused synth
    differed from a fresh one by −20 dB (its reverb tail, which neither the settings nor
    system_reset stop) and, after an explicit reset, still by −75 dB at note starts (voice slots
    keep their last output gain and ramp from it), enough to change 16-bit samples.
    """

    def __init__(self, soundfont: Path, sample_rate: int = SAMPLE_RATE) -> None:
        import ctypes

        import fluidsynth  # deferred: needs libfluidsynth, absent on some machines

        self.soundfont = soundfont
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._library = fluidsynth._fl
        for name, argtypes, restype in (("fluid_synth_add_sfont", [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
                                        ("fluid_synth_remove_sfont", [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
                                        ("fluid_set_log_function", [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p],
                                         ctypes.c_void_p)):
            getattr(self._library, name).argtypes = argtypes
            getattr(self._library, name).restype = restype
        self._write_float = _float_writer()
        self._owner = self._new_synth()  # holds the SoundFont for the process; never plays
        sfid = self._owner.sfload(str(soundfont))
        if sfid < 0:
            raise TunesmithError(f"The SoundFont {soundfont} could not be loaded")
        self._sfont = fluidsynth.fluid_synth_get_sfont_by_id(self._owner.synth, sfid)

    def _new_synth(self):
        import fluidsynth

        # chorus makes L/R anti-correlated; the mix adds its own reverb
        synth = fluidsynth.Synth(gain=GAIN, samplerate=float(self.sample_rate), channels=16,
                                 **{"synth.chorus.active": 0, "synth.reverb.active": 0})
        _effects_off(synth)
        return synth

    def _release(self, synth) -> None:
        """Give the borrowed SoundFont back (deleting a synth frees the SoundFonts it holds), then
        delete the synth. Removing a SoundFont re-selects every channel's program and warns once
        per channel that none is left: FluidSynth's warnings are muted for that call."""
        warn = 2  # FLUID_WARN
        previous = self._library.fluid_set_log_function(warn, None, None)
        try:
            self._library.fluid_synth_remove_sfont(synth.synth, self._sfont)
        finally:
            self._library.fluid_set_log_function(warn, previous, None)
        synth.delete()

    def _pull(self, synth, count: int, out: np.ndarray, at: int) -> None:
        """Render ``count`` frames into ``out[at:]``."""
        if self._write_float is not None:
            # interleaved float32 frames: left at even offsets, right at odd ones, written in place
            self._write_float(synth.synth, count, out.ctypes.data, 2 * at, 2, out.ctypes.data, 2 * at + 1, 2)
        else:
            block = np.asarray(synth.get_samples(count), dtype=np.float32).reshape(-1, 2)
            out[at:at + count] = block[:count] / 32768.0

    def render(self, notes: list[Note], *, program: int, is_drum: bool, seconds_per_beat: float,
               total_samples: int, offset_beats: float = 0.0) -> np.ndarray:
        """Exactly ``total_samples`` stereo frames of one instrument playing ``notes``; the same
        notes give the same samples whatever was rendered before."""
        channel = 9 if is_drum else 0
        events = _events(notes, seconds_per_beat, self.sample_rate, offset_beats)
        out = np.zeros((total_samples, 2), dtype=np.float32)
        with self._lock:
            synth = self._new_synth()
            try:
                sfid = self._library.fluid_synth_add_sfont(synth.synth, self._sfont)
                synth.program_select(channel, sfid, 128 if is_drum else 0, 0 if is_drum else program)
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
                    count = int(min(max(next_event - position, 1), total_samples - position, 1 << 16))
                    self._pull(synth, count, out, position)
                    position += count
            finally:
                self._release(synth)
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
    audio = renderer.render(track.notes, program=track.program, is_drum=track.is_drum,
                            seconds_per_beat=song.seconds_per_beat, total_samples=total_samples,
                            offset_beats=offset_beats)
    audio *= np.float32(track.volume)  # in place: a new 60 MB array per track of a 3-minute song otherwise
    return audio


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
