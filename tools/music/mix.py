"""Mix and master: vocal chain, levels, reverb, −14 LUFS loudness and a true-peak limiter.

pedalboard's Compressor and Reverb behave; its Limiter does not (it added gain and clipped), so
the limiter here is a numpy look-ahead gain computer on 4x-oversampled peaks: the gain curve is a
sliding minimum (look-ahead) smoothed by a moving average, which can only lower the gain at each
sample, so the true peak stays under the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TARGET_LUFS = -14.0
TRUE_PEAK_CEILING_DB = -1.0
LOOKAHEAD_S = 0.005
VOCAL_OVER_BAND_DB = 2.0  # the singer sits this much above the band while singing


@dataclass
class MixResult:
    mix: np.ndarray  # stereo float32, mastered
    vocals: np.ndarray | None  # stereo stem at the master's gain, before the limiter
    accompaniment: np.ndarray  # stereo stem at the master's gain, before the limiter
    lufs: float
    true_peak_db: float
    master_gain_db: float


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def true_peak(audio: np.ndarray, oversample: int = 4) -> float:
    """Linear true peak estimated by polyphase oversampling (as ITU-R BS.1770 describes)."""
    from scipy.signal import resample_poly

    x = audio if audio.ndim == 2 else audio[:, None]
    return float(max(np.max(np.abs(resample_poly(x[:, c], oversample, 1))) for c in range(x.shape[1])))


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64)))


def limit(audio: np.ndarray, sample_rate: int, *, ceiling_db: float = TRUE_PEAK_CEILING_DB - 0.3,
          oversample: int = 4) -> np.ndarray:
    """Look-ahead peak limiter: the output's (oversampled) peaks stay under ``ceiling_db``."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d
    from scipy.signal import resample_poly

    ceiling = 10 ** (ceiling_db / 20)
    x = audio if audio.ndim == 2 else audio[:, None]
    peaks = np.zeros(x.shape[0])
    for c in range(x.shape[1]):
        up = np.abs(resample_poly(x[:, c], oversample, 1))
        up = up[: x.shape[0] * oversample].reshape(-1, oversample).max(axis=1)
        peaks = np.maximum(peaks, up[: x.shape[0]])
    # one sample of headroom either side: interpolation between samples may peak next to them
    peaks = np.maximum.reduce([peaks, np.roll(peaks, 1), np.roll(peaks, -1)])
    gain = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if gain.min() >= 1.0:
        return audio
    window = max(3, int(LOOKAHEAD_S * sample_rate))
    gain = minimum_filter1d(gain, size=2 * window + 1, mode="nearest")
    gain = uniform_filter1d(gain, size=window + 1, mode="nearest")
    out = x * gain[:, None]
    return (out if audio.ndim == 2 else out[:, 0]).astype(np.float32)


def _vocal_chain(vocals: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono voice → high-passed, compressed, lightly reverberant stereo."""
    from pedalboard import Compressor, HighpassFilter, Pedalboard, Reverb

    board = Pedalboard([HighpassFilter(cutoff_frequency_hz=90),
                        Compressor(threshold_db=-20, ratio=3.0, attack_ms=5, release_ms=120),
                        Reverb(room_size=0.35, damping=0.5, wet_level=0.16, dry_level=0.84, width=0.8)])
    stereo = np.stack([vocals, vocals]).astype(np.float32)
    return board(stereo, sample_rate).T


def _band_chain(band: np.ndarray, sample_rate: int) -> np.ndarray:
    from pedalboard import Pedalboard, Reverb

    board = Pedalboard([Reverb(room_size=0.3, damping=0.6, wet_level=0.08, dry_level=0.92, width=1.0)])
    return board(band.T.astype(np.float32), sample_rate).T


def mix_song(accompaniment: np.ndarray, vocals: np.ndarray | None, sample_rate: int, *,
             target_lufs: float = TARGET_LUFS) -> MixResult:
    """Balance the voice against the band, add space, master to ``target_lufs`` and −1 dBTP.

    Args:
        accompaniment: stereo (frames, 2) float array, the summed instruments.
        vocals: mono float array of the same length, or None for an instrumental.
    """
    band = _band_chain(accompaniment, sample_rate)
    voice = None
    if vocals is not None and np.any(vocals):
        voice = _vocal_chain(vocals, sample_rate)[: band.shape[0]]
        active = np.abs(vocals[: band.shape[0]]) > 1e-3
        band_rms = _rms(band[active]) or _rms(band)
        voice_rms = _rms(voice[active])
        if voice_rms > 0:
            voice *= (band_rms / voice_rms) * 10 ** (VOCAL_OVER_BAND_DB / 20)
    mix = band + voice if voice is not None else band.copy()
    loudness = integrated_loudness(mix, sample_rate)
    gain_db = target_lufs - loudness if np.isfinite(loudness) else 0.0
    gain = 10 ** (gain_db / 20)
    mastered = limit(mix * gain, sample_rate)
    # the limiter takes a little loudness back on dense songs: one correction pass
    after = integrated_loudness(mastered, sample_rate)
    if np.isfinite(after) and abs(after - target_lufs) > 0.3:
        correction = 10 ** ((target_lufs - after) / 20)
        gain *= correction
        gain_db = 20 * np.log10(gain)
        mastered = limit(mix * gain, sample_rate)
    return MixResult(mix=mastered.astype(np.float32), vocals=None if voice is None else (voice * gain).astype(np.float32),
                     accompaniment=(band * gain).astype(np.float32), lufs=integrated_loudness(mastered, sample_rate),
                     true_peak_db=20 * np.log10(max(true_peak(mastered), 1e-9)), master_gain_db=float(gain_db))


def write_audio(path, audio: np.ndarray, sample_rate: int) -> None:
    """WAV (16-bit PCM) or MP3 by the file suffix; soundfile's libsndfile encodes MP3 itself."""
    import soundfile

    path = str(path)
    if path.endswith(".mp3"):
        soundfile.write(path, np.clip(audio, -1, 1), sample_rate, format="MP3")
    else:
        soundfile.write(path, np.clip(audio, -1, 1), sample_rate, subtype="PCM_16")
