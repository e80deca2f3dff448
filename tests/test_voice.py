"""The singing voice: espeak-ng binding, syllable splitting, WORLD re-singing on pitch."""

from __future__ import annotations

import numpy as np
import pytest

from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.music.voice import sing_song, song_syllables
from tools.music.voice.espeak import engine
from tools.music.voice.phonemes import is_vowel, split_syllables

SR = 44100


def _song(syllables: list[tuple[str, int, float]], tempo: float = 100.0) -> Song:
    notes, t = [], 0.0
    for text, pitch, beats in syllables:
        notes.append(Note(pitch=pitch, start=t, duration=beats, syllable=text or None, line=0))
        t += beats
    bars = int(np.ceil(t / 4))
    return Song(title="t", key="C major", tempo_bpm=tempo,
                sections=[Section(name="verse", kind="verse", start_bar=0, bars=bars, chords=["C"] * bars,
                                  lyrics=[" ".join(s for s, _, _ in syllables)])],
                melody=Track(name="Vocals", role="melody", notes=notes))


TWINKLE = [("twin-", 60, 1.0), ("kle", 60, 1.0), ("twin-", 67, 1.0), ("kle", 67, 1.0), ("lit-", 69, 1.0),
           ("tle", 69, 1.0), ("star", 67, 2.0)]


def note_errors_cents(audio: np.ndarray, song: Song, sample_rate: int = SR) -> list[float]:
    """Median pitch error (cents) of each sung note, tracked with pyworld.harvest at 16 kHz."""
    import pyworld
    from scipy.signal import resample_poly

    x = resample_poly(audio.astype(np.float64), 160, 441)
    f0, times = pyworld.harvest(x, 16000, f0_floor=70, f0_ceil=900, frame_period=5.0)
    errors = []
    for note in song.melody.notes:
        start, end = song.beats_to_seconds(note.start) + 0.06, song.beats_to_seconds(note.end) - 0.05
        mask = (times >= start) & (times < end) & (f0 > 0)
        if end - start < 0.1:
            continue
        target = 440.0 * 2 ** ((note.pitch - 69) / 12)
        errors.append(float(1200 * np.log2(np.median(f0[mask]) / target)) if mask.sum() >= 3 else 1e9)
    return errors


def test_espeak_phonemizes_whole_words_and_reports_phoneme_events():
    tts = engine()
    assert tts.phonemize("twinkle").replace("'", "").startswith("tw")
    speech = tts.speak(tts.phonemize("little"), phonemes=True)
    assert speech.sample_rate == 22050 and speech.audio.size > 2000
    names = [e.phoneme for e in speech.events if not e.phoneme.startswith("_")]
    assert any(is_vowel(n) for n in names)
    samples = [e.sample for e in speech.events]
    assert samples == sorted(samples)


def test_split_syllables_at_vowel_nuclei():
    spans = split_syllables(["t", "w", "'I", "N", "k", "@L"], 2)
    assert [(s.start, s.vowel, s.end) for s in spans] == [(0, 2, 4), (4, 5, 6)]
    # more lyric syllables than nuclei ("fire" sung fi-re) re-uses the last vowel
    assert len(split_syllables(["f", "'aI3"], 2)) == 2
    # fewer lyric syllables than nuclei merge into the last
    merged = split_syllables(["b", "j", "'u:", "t", "I", "f", "@", "l"], 1)
    assert len(merged) == 1 and merged[0].end == 8


def test_words_are_rebuilt_from_hyphenated_syllables():
    song = _song([("driv-", 60, 1.0), ("ing", 62, 1.0), ("", 64, 1.0), ("home", 65, 1.0)])
    sung = song_syllables(song)
    assert [(s.word, s.index, s.count) for s in sung] == [("driving", 0, 2), ("driving", 1, 2), ("home", 0, 1)]
    assert len(sung[1].notes) == 2  # the melisma note belongs to "ing"


@pytest.mark.parametrize("voice", ["female", "male"])
def test_sung_notes_are_on_pitch(voice):
    shift = 0 if voice == "female" else -12
    song = _song([(s, p + shift, d) for s, p, d in TWINKLE])
    audio = sing_song(song, voice=voice)
    assert audio.shape[0] >= int(song.duration_seconds * SR)
    errors = note_errors_cents(audio, song)
    within = np.mean([abs(e) <= 30 for e in errors])
    assert within >= 0.9, errors
    assert np.median(np.abs(errors)) < 15


def test_female_voice_is_brighter_than_male_and_render_is_deterministic():
    song = _song(TWINKLE)
    female = sing_song(song, voice="female")
    again = sing_song(song, voice="female")
    male = sing_song(song, voice="male")
    assert np.array_equal(female, again)

    def centroid(x: np.ndarray) -> float:
        # below 8 kHz, where the formants are (above it is the air band, which follows each voice's level)
        spectrum = np.abs(np.fft.rfft(x))
        freqs = np.fft.rfftfreq(x.size, 1 / SR)
        band = freqs < 8000
        return float((spectrum[band] * freqs[band]).sum() / spectrum[band].sum())

    assert centroid(female) > centroid(male) * 1.05
    assert np.max(np.abs(female)) < 1.0


def test_bad_voice_and_empty_melody_are_refused():
    with pytest.raises(TunesmithError):
        sing_song(_song(TWINKLE), voice="robot")
    with pytest.raises(TunesmithError):
        sing_song(_song([("", 60, 2.0)]), voice="female")
