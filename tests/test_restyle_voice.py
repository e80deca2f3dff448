"""Voice restyling: the style's singer (data/voices.json) is what the restyled song is sung with,
measured on the sung audio: vibrato depth and rate from the F0 track of a held note."""

from __future__ import annotations

import numpy as np
import pytest

from tools.music.song import Note, Section, Song, Track
from tools.music.voice.singer import voice_params
from tools.restyle import StyleTransferArgs, restyle_song
from tools.restyle.render import segment_spec
from tools.music.voice import sing_song
from tools.restyle.voice import song_voice, voice_for

SR = 44100


@pytest.fixture(scope="module")
def held() -> Song:
    """"hold on" on two notes of four seconds each: long enough for vibrato to show (three in 3/4)."""
    notes = [Note(pitch=67, start=0, duration=4, velocity=90, syllable="hold", line=0),
             Note(pitch=69, start=4, duration=4, velocity=90, syllable="on", line=0)]
    return Song(title="held", key="C major", tempo_bpm=60,
                sections=[Section(name="verse", kind="verse", start_bar=0, bars=2, chords=["C", "C"], lyrics=["hold on"])],
                melody=Track(name="Vocals", program=53, role="melody", notes=notes))


def vibrato(song: Song) -> tuple[float, float]:
    """(peak depth in cents, rate in Hz) over the first note, from the sung audio's harvest F0
    (its vowel only: from where vibrato has faded in to before the closing "ld")."""
    import pyworld
    from scipy.signal import resample_poly

    audio = sing_song(song, voice=song_voice(song, "female"), sample_rate=SR,
                      total_samples=int((song.duration_seconds + 1) * SR))
    f0, times = pyworld.harvest(resample_poly(audio.astype(np.float64), 160, 441), 16000, f0_floor=70, f0_ceil=900,
                                frame_period=5.0)
    note = song.melody.notes[0]
    start, end = song.beats_to_seconds(note.start) + 0.8, song.beats_to_seconds(note.end) - 0.5
    mask = (times >= start) & (times < end) & (f0 > 0)
    assert mask.sum() > 150, "the held note was not voiced"
    cents = 1200 * np.log2(f0[mask] / (440.0 * 2 ** ((note.pitch - 69) / 12)))
    cents -= np.polyval(np.polyfit(np.arange(cents.size), cents, 1), np.arange(cents.size))  # drift is not vibrato
    window = np.hanning(cents.size)
    spectrum = np.abs(np.fft.rfft(cents * window, n=8192))
    freqs = np.fft.rfftfreq(8192, 0.005)
    band = (freqs > 3) & (freqs < 9)
    peak = int(spectrum[band].argmax())
    return float(2 * spectrum[band][peak] / window.sum()), float(freqs[band][peak])  # a sinusoid's amplitude


def test_style_voices_from_data():
    plain = voice_params("female")
    jazz, gospel, lullaby = (voice_for("female", s) for s in ("jazz", "gospel", "lullaby"))
    assert jazz.vibrato_cents > plain.vibrato_cents and jazz.vibrato_hz < plain.vibrato_hz
    assert jazz.breathiness > plain.breathiness and jazz.formant < plain.formant
    assert gospel.vibrato_cents > jazz.vibrato_cents
    assert lullaby.vibrato_cents == 0 and lullaby.breathiness > jazz.breathiness and lullaby.high < plain.high
    assert voice_for("female", "pop") == plain and voice_for("male", None) == voice_params("male")


def test_restyle_sings_with_the_styles_voice(held):
    jazz, decided = restyle_song(held, StyleTransferArgs(source="-", target_style="jazz"))
    assert decided["voice"]["vibrato_cents"] == voice_for("female", "jazz").vibrato_cents
    assert song_voice(jazz, "female") == voice_for("female", "jazz")  # edits of it keep that voice
    pop, _ = restyle_song(held, StyleTransferArgs(source="-", target_style="pop"))
    section = jazz.sections[0]
    assert segment_spec(jazz, section, vocals="female")["voice"] != segment_spec(pop, section, vocals="female")["voice"]


def test_jazz_vibrato_is_wider_and_slower_than_pop(held):
    pop, _ = restyle_song(held, StyleTransferArgs(source="-", target_style="pop"))
    jazz, _ = restyle_song(held, StyleTransferArgs(source="-", target_style="jazz"))
    pop_depth, pop_rate = vibrato(pop)
    jazz_depth, jazz_rate = vibrato(jazz)
    assert 20 <= pop_depth <= 40 and 5.0 <= pop_rate <= 6.0, (pop_depth, pop_rate)  # the plain voice: 30 c, 5.5 Hz
    assert jazz_depth > pop_depth + 8 and jazz_rate < pop_rate - 0.4, (jazz_depth, jazz_rate)


def test_lullaby_is_sung_straight(held):
    lullaby, _ = restyle_song(held, StyleTransferArgs(source="-", target_style="lullaby"))
    depth, _ = vibrato(lullaby)
    assert depth < 12, depth  # the measure reads ~8 cents of jitter on a straight voice; the plain one: ~33


def test_cached_sections_are_retired_when_the_sound_engine_changes(held, monkeypatch):
    import tools.restyle.render as render

    section = held.sections[0]
    before = render._key(segment_spec(held, section, vocals="female"))
    assert render._key(segment_spec(held, section, vocals="female")) == before
    assert len(render.engine_fingerprint()) == 16
    monkeypatch.setattr(render, "engine_fingerprint", lambda: "another-engine")
    assert render._key(segment_spec(held, section, vocals="female")) != before
