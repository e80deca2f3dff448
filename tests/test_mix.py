"""Mix and master: loudness like pyloudnorm, true peak under −1 dBFS, MP3 that decodes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from tools.music.mix import band_chain, integrated_loudness, limit, master, mix_song, true_peak, vocal_chain, write_audio
from tools.music.song import Note, Section, Song, Track
from tools.music.synth import render_song_audio

SR = 44100


@pytest.fixture(scope="module")
def band() -> np.ndarray:
    """A real FluidSynth render: drums, bass and piano chords, 8 bars."""
    chords = [48, 53, 55, 48] * 2
    piano = [Note(pitch=r + i, start=b * 4.0, duration=3.9, velocity=90) for b, r in enumerate(chords) for i in (12, 16, 19)]
    bass = [Note(pitch=r - 12, start=b * 4.0 + k, duration=0.9, velocity=100) for b, r in enumerate(chords) for k in range(4)]
    drums = [Note(pitch=p, start=b * 4.0 + k, duration=0.25, velocity=110) for b in range(8) for k, p in enumerate((36, 38, 36, 38))]
    song = Song(title="band", key="C major", tempo_bpm=120,
                sections=[Section(name="verse", kind="verse", start_bar=0, bars=8, chords=["C", "F", "G", "C"] * 2)],
                tracks=[Track(name="Piano", program=0, notes=piano), Track(name="Bass", program=33, notes=bass),
                        Track(name="Drums", is_drum=True, role="drums", notes=drums)])
    return render_song_audio(song, include_melody=False)


def test_integrated_loudness_matches_pyloudnorm(band):
    import pyloudnorm

    reference = pyloudnorm.Meter(SR).integrated_loudness(band.astype(np.float64))
    assert integrated_loudness(band, SR) == pytest.approx(reference, abs=0.02)


def test_true_peak_finds_inter_sample_peaks():
    n = np.arange(SR)
    # a quarter-sample-rate sine sampled at ±45°: sample peaks at −3 dB, true peak 0 dB
    tone = np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.max(np.abs(tone))) == pytest.approx(-3.01, abs=0.05)
    assert 20 * np.log10(true_peak(tone)) > -0.8


def test_limiter_holds_the_ceiling_measured_with_full_oversampling(band):
    from scipy.signal import resample_poly

    hot = band / np.max(np.abs(band)) * 2.0  # +6 dBFS of peaks
    out = limit(hot, SR)
    full = max(np.max(np.abs(resample_poly(out[:, c].astype(np.float64), 8, 1))) for c in range(2))
    assert 20 * np.log10(full) <= -1.0
    # it only turns down what is too loud: a signal under the ceiling passes untouched,
    # and the limited one keeps most of its loudness
    soft = band / np.max(np.abs(band)) * 0.5
    assert np.array_equal(limit(soft, SR), soft.astype(np.float32))
    assert integrated_loudness(out, SR) > integrated_loudness(hot, SR) - 6.5


def test_mix_song_masters_to_minus_14_lufs_and_minus_1_dbtp(band):
    t = np.arange(band.shape[0]) / SR
    voice = (0.1 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
    result = mix_song(band, voice, SR)
    assert result.mix.shape == band.shape
    assert integrated_loudness(result.mix, SR) == pytest.approx(-14.0, abs=0.5)
    assert result.true_peak_db <= -1.0
    assert result.vocals is not None and result.vocals.shape == band.shape


def test_master_reports_what_it_made(band):
    """Quiet or hot input: the mastered audio measures −14 LUFS and under −1 dBTP, and the
    numbers master() returns are the ones measured on its output."""
    for level in (0.05, 4.0):
        mastered, gain_db, lufs, peak_db = master(band * level, SR)
        assert mastered.dtype == np.float32 and mastered.shape == band.shape
        assert lufs == pytest.approx(integrated_loudness(mastered, SR), abs=1e-6)
        assert lufs == pytest.approx(-14.0, abs=0.2)
        assert peak_db == pytest.approx(20 * np.log10(true_peak(mastered)), abs=1e-6) and peak_db <= -1.0
        assert gain_db == pytest.approx(-14.0 - integrated_loudness(band * level, SR), abs=1.0)


def test_chains_add_a_room_and_keep_the_length(band):
    t = np.arange(SR // 2) / SR
    click = np.zeros(SR, dtype=np.float32)
    click[:SR // 2] = 0.3 * np.sin(2 * np.pi * 220 * t)
    voice = vocal_chain(click, SR)
    assert voice.shape == (SR, 2)
    assert np.sqrt(np.mean(voice[SR // 2 + 2205:] ** 2)) > 1e-4  # the reverb rings on after the voice stops
    assert not np.allclose(voice[:, 0], voice[:, 1])  # stereo room around a mono voice
    wet = band_chain(band, SR)
    assert wet.shape == band.shape and not np.array_equal(wet, band)


def test_mp3_and_wav_are_written_and_decode(band, tmp_path):
    write_audio(tmp_path / "a.wav", band * 0.5, SR)
    write_audio(tmp_path / "a.mp3", band * 0.5, SR)
    wav, rate = soundfile.read(tmp_path / "a.wav")
    assert rate == SR and wav.shape == band.shape
    mp3, rate = soundfile.read(tmp_path / "a.mp3")
    assert rate == SR and abs(mp3.shape[0] - band.shape[0]) < SR * 0.1
    assert (tmp_path / "a.mp3").stat().st_size < (tmp_path / "a.wav").stat().st_size / 4
