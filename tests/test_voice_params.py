"""VoiceParams: each setting measured on what the singer actually sings.

A sustained "ah" (or two connected notes) is sung by a fresh `Singer` with one setting changed;
the effect is read back from the audio: vibrato from the harvest F0 track, breathiness from the
harmonic-to-noise ratio, formants from the spectral centroid, air from the energy above 8 kHz.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tools.music.errors import TunesmithError
from tools.music.voice.singer import Singer, SungNote, SungSyllable, VoiceParams, voice_params, voice_presets

SR = 44100
A4 = 69
PLAIN = dataclasses.replace(voice_params("female"), vibrato_cents=0.0, breathiness=0.0, air_db=None)


def sing(params: VoiceParams, notes: list[tuple[float, float, float]], word: str = "ah") -> np.ndarray:
    """One syllable over ``notes`` (start, end, MIDI pitch), placed on a silent timeline at 44.1 kHz."""
    syllable = SungSyllable(word=word, index=0, count=1, notes=tuple(SungNote(*n) for n in notes))
    start, audio = Singer().sing_phrase([syllable], voice=params, sample_rate=SR)
    out = np.zeros(int((notes[-1][1] + 1.0) * SR), dtype=np.float32)
    first = int(round(start * SR))
    out[first:first + audio.size] = audio[:out.size - first]
    return out


def f0_track(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import pyworld
    from scipy.signal import resample_poly

    x = resample_poly(audio.astype(np.float64), 160, 441)
    f0, times = pyworld.harvest(x, 16000, f0_floor=70, f0_ceil=900, frame_period=5.0)
    return f0, times


def cents_between(audio: np.ndarray, start: float, end: float, pitch: float) -> np.ndarray:
    f0, times = f0_track(audio)
    mask = (times >= start) & (times < end) & (f0 > 0)
    return 1200 * np.log2(f0[mask] / (440.0 * 2 ** ((pitch - 69) / 12)))


def power_spectrum(audio: np.ndarray, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    segment = audio[int(start * SR):int(end * SR)].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size))) ** 2
    return np.fft.rfftfreq(segment.size, 1 / SR), spectrum


HELD = [(0.5, 3.0, A4)]  # 2.5 s of A4 after a half-second lead-in


def test_vibrato_depth_rate_and_onset_delay_are_sung():
    straight = cents_between(sing(PLAIN, HELD), 1.2, 2.8, A4)
    assert straight.size > 200 and np.std(straight) < 4, np.std(straight)
    wobbly = dataclasses.replace(PLAIN, vibrato_cents=60.0, vibrato_hz=5.0, vibrato_delay_s=0.6)
    audio = sing(wobbly, HELD)
    steady = cents_between(audio, 0.5 + 0.6 + 0.35, 2.8, A4)  # after delay and fade-in
    depth = np.sqrt(2) * np.std(steady)  # a sine's peak is sqrt(2) times its RMS
    assert 45 <= depth <= 75, depth
    deviation = steady - np.median(steady)
    crossings = np.count_nonzero(np.diff(np.sign(deviation)) != 0)
    rate = crossings / 2 / (steady.size * 0.005)
    assert 4.3 <= rate <= 5.7, rate
    before_onset = cents_between(audio, 0.6, 1.05, A4)  # still inside the 0.6 s delay
    assert np.std(before_onset) < 6, np.std(before_onset)


def harmonic_to_noise_db(audio: np.ndarray, pitch: float) -> float:
    """Energy within 30 Hz of the harmonics vs between them, up to 7.5 kHz."""
    freqs, power = power_spectrum(audio, 1.0, 2.8)
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    band = (freqs > f0 / 2) & (freqs < 7500)
    distance = np.abs(freqs - f0 * np.round(freqs / f0))
    harmonic = band & (distance < 30)
    noise = band & (distance > 60)
    return float(10 * np.log10(power[harmonic].sum() / power[noise].sum()))


def test_breathiness_raises_the_aperiodic_share():
    clear = harmonic_to_noise_db(sing(PLAIN, HELD), A4)
    breathy = harmonic_to_noise_db(sing(dataclasses.replace(PLAIN, breathiness=0.6), HELD), A4)
    assert clear - breathy > 4, (clear, breathy)
    # still sung on pitch: the low harmonics stay periodic
    assert abs(np.median(cents_between(sing(dataclasses.replace(PLAIN, breathiness=0.6), HELD), 1.0, 2.8, A4))) < 15


def centroid_below(audio: np.ndarray, limit: float = 8000.0) -> float:
    freqs, power = power_spectrum(audio, 1.0, 2.8)
    band = freqs < limit
    return float((freqs[band] * power[band]).sum() / power[band].sum())


def test_formant_shift_moves_the_spectrum_not_the_pitch():
    low = sing(dataclasses.replace(PLAIN, formant=0.9), HELD)
    high = sing(dataclasses.replace(PLAIN, formant=1.25), HELD)
    assert centroid_below(high) > 1.15 * centroid_below(low), (centroid_below(low), centroid_below(high))
    for audio in (low, high):
        assert abs(np.median(cents_between(audio, 1.0, 2.8, A4))) < 15


def test_air_band_adds_energy_above_8k_and_leaves_the_voice_below_alone():
    dull = sing(PLAIN, HELD)
    airy = sing(dataclasses.replace(PLAIN, air_db=0.0), HELD)
    freqs, dull_power = power_spectrum(dull, 1.0, 2.8)
    _, airy_power = power_spectrum(airy, 1.0, 2.8)
    high = (freqs > 8500) & (freqs < 16000)
    assert 10 * np.log10(airy_power[high].sum() / dull_power[high].sum()) > 15
    # the air continues the voice's 6-7.5 kHz level rather than standing out of it (within 6 dB)
    top = (freqs > 6000) & (freqs < 7500)
    air = (freqs > 8500) & (freqs < 10000)
    assert abs(10 * np.log10(airy_power[air].mean() / airy_power[top].mean())) < 6
    below = freqs < 7000
    assert np.allclose(airy_power[below].sum(), dull_power[below].sum(), rtol=0.02)


def test_portamento_glides_between_connected_notes():
    notes = [(0.5, 1.5, 60.0), (1.5, 2.5, 67.0)]

    def in_between(params: VoiceParams) -> int:
        f0, times = f0_track(sing(params, notes))
        window = (times > 1.3) & (times < 1.7) & (f0 > 0)
        pitch = 69 + 12 * np.log2(f0[window] / 440.0)
        return int(np.count_nonzero((pitch > 61) & (pitch < 66)))

    assert in_between(dataclasses.replace(PLAIN, portamento_s=0.25)) >= in_between(
        dataclasses.replace(PLAIN, portamento_s=0.0)) + 6


def test_same_params_same_audio_and_params_key_the_cache():
    # espeak-ng's pitch flutter runs on across utterances, so one process re-speaking a word is not
    # bit-identical; the singer's word cache pins each word, and synthesis itself must be exact
    params = dataclasses.replace(voice_params("male"), breathiness=0.3, vibrato_cents=45.0)
    performer = Singer()
    syllable = [SungSyllable(word="ah", index=0, count=1, notes=(SungNote(0.5, 3.0, A4),))]
    _, first = performer.sing_phrase(syllable, voice=params, sample_rate=SR)
    performer.phrase_cache.clear()
    _, again = performer.sing_phrase(syllable, voice=params, sample_rate=SR)
    assert np.array_equal(first, again)
    _, other = performer.sing_phrase(syllable, voice=dataclasses.replace(params, formant=1.1), sample_rate=SR)
    assert other.shape != first.shape or not np.array_equal(first, other)
    assert len(performer.phrase_cache) == 2


def test_presets_come_from_data_and_bad_settings_are_refused():
    presets = voice_presets()
    assert {"female", "male"} <= set(presets)
    assert presets["female"].formant > presets["male"].formant
    assert presets["female"].low > presets["male"].low
    assert voice_params("male") is presets["male"]
    with pytest.raises(TunesmithError, match="robot"):
        voice_params("robot")
    with pytest.raises(TunesmithError, match="formant"):
        VoiceParams(formant=3.0)
    with pytest.raises(TunesmithError, match="breathiness"):
        VoiceParams(breathiness=-0.1)
    with pytest.raises(TunesmithError, match="range"):
        VoiceParams(low=70, high=60)


def test_octave_shift_brings_a_melody_into_the_voice_range():
    male = voice_params("male")
    assert male.octave_shift([67, 72, 76, 79]) == -12
    assert male.octave_shift([52, 55, 60]) == 0
    assert voice_params("female").octave_shift([48, 52, 55]) == 12
    assert male.octave_shift([]) == 0


@pytest.mark.parametrize("pitch", [40, 45])  # E2 and A2: periods of 12 and 9 ms inside the 16 ms synthesis FFT
def test_low_male_notes_stay_on_pitch(pitch):
    audio = sing(dataclasses.replace(voice_params("male"), vibrato_cents=0.0), [(0.5, 2.5, pitch)], word="far")
    cents = cents_between(audio, 0.8, 2.3, pitch)
    assert cents.size > 150 and abs(np.median(cents)) < 10, (cents.size, np.median(cents))
