from __future__ import annotations

import numpy as np

from tools.music import Note, Song, Track
from tools.music.synth import SAMPLE_RATE, render_song_audio, render_track


def test_renders_the_asked_pitch_for_the_asked_time() -> None:
    song = Song(tempo_bpm=120, tracks=[Track(name="Flute", program=73, notes=[Note(pitch=69, start=0, duration=4)])])
    audio = render_song_audio(song)
    mono = audio.mean(axis=1)
    assert len(mono) == int((2.0 + 1.5) * SAMPLE_RATE)
    middle = mono[int(0.5 * SAMPLE_RATE):int(1.5 * SAMPLE_RATE)]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(middle)
    assert abs(peak_hz - 440) < 3
    assert np.sqrt(np.mean(mono[-int(0.5 * SAMPLE_RATE):] ** 2)) < 0.1 * np.sqrt(np.mean(middle ** 2))


def test_a_render_is_repeatable_whatever_was_rendered_before() -> None:
    """A track renders to the same samples after other instruments were cut off mid-note."""
    piano = Track(name="Piano", program=0, notes=[Note(pitch=60 + (i * 5) % 17, start=i * 0.5, duration=1.5,
                                                       velocity=60 + (i * 13) % 60) for i in range(8)])
    strings = Track(name="Strings", program=48, notes=[Note(pitch=55 + i, start=i * 0.25, duration=6) for i in range(6)])
    drums = Track(name="Drums", is_drum=True, notes=[Note(pitch=36 + i % 12, start=i * 0.25, duration=0.5)
                                                      for i in range(12)])
    song = Song(tempo_bpm=120, tracks=[piano])
    first = render_track(piano, song)
    for other in (strings, drums):  # both stop while their notes still sound
        render_track(other, song, total_samples=SAMPLE_RATE)
    again = render_track(piano, song)
    assert np.any(first) and np.array_equal(first, again)
