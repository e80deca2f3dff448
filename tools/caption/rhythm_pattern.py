"""What the beat sounds like in audio: attacks per band folded onto the beat, for the audio genre.

A reggae skank, a rock backbeat, a swung ride and a bossa clave differ less in timbre than in
where the low, middle and high attacks fall inside the beat and across the bar (Dixon, Gouyon &
Widmer 2004 classified ballroom dances from such patterns alone). From one SuperFlux mel
spectrogram (the same one the mood's attack rate counts on):

* three band envelopes (kick and bass below 150 Hz, snare and chords to 2.5 kHz, hats above);
* each folded onto the beat grid: its mean at 12 phases of the beat (straight and swung eighths,
  sixteenths, triplets), relative to its own mean;
* and onto 4-beat spans, of which only the magnitudes of the first harmonics are kept: the bar's
  downbeat is not known, and a magnitude does not depend on where the span starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.music.analysis.tempo import HOP  # the tempo module's SuperFlux frames

N_MELS = 128  # superflux_mel_db's bands
BAND_EDGES_HZ = (150.0, 2500.0)
BEAT_PHASES = 12
SPAN_BEATS = 4
SPAN_HARMONICS = 8


@dataclass(frozen=True)
class RhythmPattern:
    """Attacks per second and the folded band patterns (a fixed-length vector)."""

    onsets_per_s: float
    features: np.ndarray


def _fold(envelope: np.ndarray, frame_times: np.ndarray, beats: np.ndarray, phases: int, span: int) -> np.ndarray:
    """Mean envelope at ``phases`` points of every span of ``span`` beats (spans, phases·span)."""
    rows = []
    for k in range(0, len(beats) - span, span):
        points = np.concatenate([np.linspace(beats[k + j], beats[k + j + 1], phases, endpoint=False)
                                 for j in range(span)])
        rows.append(np.interp(points, frame_times, envelope))
    return np.array(rows) if rows else np.zeros((1, phases * span))


def rhythm_pattern(mono: np.ndarray, sr: int, beats_s: tuple[float, ...] | list[float]) -> RhythmPattern:
    """The pattern of checked mono audio at ``sr``, folded on the given beat times (seconds)."""
    import librosa

    from tools.music.analysis.tempo import power_spectrogram, superflux, superflux_mel_db

    db = superflux_mel_db(power_spectrogram(mono), sr)
    flux = superflux(db, sr)
    frames = librosa.onset.onset_detect(onset_envelope=flux, sr=sr, hop_length=HOP)
    onsets_per_s = len(frames) / max(len(mono) / sr, 1e-6)
    freqs = librosa.mel_frequencies(n_mels=N_MELS, fmin=27.5, fmax=sr / 2)
    cuts = [0, *(int(np.searchsorted(freqs, edge)) for edge in BAND_EDGES_HZ), N_MELS]
    bands = librosa.onset.onset_strength_multi(S=db, sr=sr, hop_length=HOP, lag=2, max_size=3, channels=cuts)
    times = librosa.frames_to_time(np.arange(bands.shape[1]), sr=sr, hop_length=HOP)
    beats = np.asarray(beats_s, dtype=float)
    features = []
    for envelope in bands:
        level = max(float(envelope.mean()), 1e-9)
        per_beat = _fold(envelope, times, beats, BEAT_PHASES, 1).mean(axis=0) / level
        spans = _fold(envelope, times, beats, BEAT_PHASES, SPAN_BEATS).mean(axis=0)
        spectrum = np.abs(np.fft.rfft(spans))
        harmonics = spectrum[1:SPAN_HARMONICS + 1] / max(float(spectrum[0]), 1e-9)
        features += [*per_beat, *harmonics]
    levels = np.array([float(b.mean()) for b in bands])
    features += list(levels / max(levels.sum(), 1e-9))  # how the attacks share out over the bands
    return RhythmPattern(onsets_per_s=float(onsets_per_s), features=np.asarray(features, dtype=float))
