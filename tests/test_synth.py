from __future__ import annotations

import numpy as np

from tools.music import Note, Song, Track
from tools.music.synth import SAMPLE_RATE, render_song_audio


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
