"""Mix and master: vocal chain, levels, reverb, −14 LUFS loudness and a true-peak limiter.

pedalboard's Compressor and Reverb behave; its Limiter does not (it added gain and clipped), so
the limiter here is a numpy look-ahead gain computer on 4x-oversampled peaks: the gain curve is a
sliding minimum (look-ahead) smoothed by a moving average, which can only lower the gain at each
sample, so the true peak stays under the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


def _rows_rms(x: np.ndarray, rows: np.ndarray) -> float:
    """RMS of the frames of stereo ``x`` where ``rows`` is true, without copying them out (a
    boolean index of a three-minute stereo array copies ~60 MB)."""
    count = int(np.count_nonzero(rows)) * x.shape[1]
    if not count:
        return 0.0
    energy = np.einsum("ij,ij->i", x, x)  # per frame, summed over channels
    return float(np.sqrt(np.sum(energy, where=rows, dtype=np.float64) / count))


@lru_cache(maxsize=4)
def _phase_filters(oversample: int, taps: int = 16) -> list[np.ndarray]:
    """Windowed-sinc interpolators for the ``oversample - 1`` in-between positions (12–16 taps
    per phase, as BS.1770's 48-tap 4x true-peak filter)."""
    k = np.arange(taps) - (taps // 2 - 1)  # -7 … 8
    filters = []
    for phase in range(1, oversample):
        t = k - phase / oversample
        window = np.kaiser(taps + 2, 6.0)[1:-1]
        h = np.sinc(t) * window
        filters.append(h / h.sum())
    return filters


def _oversampled_peaks(x: np.ndarray, oversample: int, floor: float) -> np.ndarray:
    """Per-sample peak (over channels) of the signal oversampled ``oversample`` times.

    An inter-sample peak lies next to a large sample, and music overshoots its samples by a few
    dB at most, so only samples above ``floor`` (and their left neighbours) are interpolated:
    a gather of 16-sample windows times the phase filters, in chunks.
    """
    peaks = np.max(np.abs(x), axis=1)
    filters = np.stack(_phase_filters(oversample), axis=1).astype(np.float32)  # (taps, phases)
    taps = filters.shape[0]
    offsets = np.arange(taps) - (taps // 2 - 1)
    n = x.shape[0]
    for c in range(x.shape[1]):
        column = np.ascontiguousarray(x[:, c], dtype=np.float32)
        hot = np.abs(column) > floor
        hot[:-1] |= hot[1:]  # and each hot sample's left neighbour
        candidates = np.flatnonzero(hot)
        for lo in range(0, candidates.size, 1 << 19):
            idx = candidates[lo:lo + (1 << 19)]
            windows = column[np.clip(idx[:, None] + offsets, 0, n - 1)]
            between = np.abs(windows @ filters).max(axis=1)
            peaks[idx] = np.maximum(peaks[idx], between)
    return peaks


def true_peak(audio: np.ndarray, oversample: int = 4) -> float:
    """Linear true peak estimated by 4x interpolation (as ITU-R BS.1770 describes)."""
    x = audio if audio.ndim == 2 else audio[:, None]
    if not x.size:
        return 0.0
    return float(_oversampled_peaks(x, oversample, 0.5 * float(np.max(np.abs(x)))).max())


@lru_cache(maxsize=4)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """BS.1770's K-weighting (pyloudnorm's two biquads, passband gains folded in) as float32
    second-order sections: sosfilt on float32 runs 5x faster than lfilter on float64 and the
    loudness moves by 1e-4 dB."""
    import pyloudnorm

    stages = pyloudnorm.Meter(sample_rate)._filters.values()
    return np.array([np.concatenate([stage.b * stage.passband_gain, stage.a]) for stage in stages], dtype=np.float32)


def k_weighted_power(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample K-weighted power summed over the channels (their BS.1770 weights are 1), float32:
    it is only ever summed over blocks, in float64 (`block_power`)."""
    from scipy.signal import sosfilt

    x = audio[:, None] if audio.ndim == 1 else audio
    sos = _k_weighting(sample_rate)
    power = None
    for c in range(x.shape[1]):
        y = sosfilt(sos, np.ascontiguousarray(x[:, c], dtype=np.float32))
        np.square(y, out=y)
        power = y if power is None else np.add(power, y, out=power)
    return power


def block_power(power: np.ndarray, block: int, hop: int) -> np.ndarray:
    """Mean power of every ``block``-sample block, one block every ``hop`` samples.

    When a block is four hops (as at 44.1 and 48 kHz), each hop is summed once and every block is
    four hop sums: ~4x cheaper than a cumulative sum over all the samples.
    """
    if block == 4 * hop:
        hops = power.size // hop
        sums = power[:hops * hop].reshape(hops, hop).sum(axis=1, dtype=np.float64)
        running = np.concatenate([[0.0], np.cumsum(sums)])
        return (running[4:] - running[:-4]) / block
    energy = np.concatenate([[0.0], np.cumsum(power, dtype=np.float64)])
    starts = np.arange(0, power.size - block + 1, hop)
    return (energy[starts + block] - energy[starts]) / block


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """ITU-R BS.1770-4 integrated loudness (LUFS), as pyloudnorm computes it, vectorised.

    pyloudnorm's K-weighting filters are reused; its per-block Python loop (over a second for a
    three-minute song) is replaced by cumulative sums over 400 ms blocks with 75 % overlap.
    """
    power_signal = k_weighted_power(audio, sample_rate)
    block = int(0.4 * sample_rate)
    hop = block // 4
    if power_signal.size < block:
        return float("-inf")
    power = block_power(power_signal, block, hop)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(power)
    gated = loud >= -70.0
    if not gated.any():
        return float("-inf")
    relative = -0.691 + 10 * np.log10(power[gated].mean()) - 10.0
    keep = gated & (loud > relative)
    return float(-0.691 + 10 * np.log10(power[keep].mean()))


def _smooth_gain(gain: np.ndarray, window: int) -> np.ndarray:
    """The look-ahead gain curve: a sliding minimum over ±``window`` smoothed by a moving average.

    Only stretches around samples with gain < 1 are filtered (with margins wider than the two
    filters reach, so the result equals filtering the whole curve): the limiter touches a small
    part of a song, and whole-song filters cost ~0.5 s for three minutes.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    low = np.flatnonzero(gain < 1.0)
    out = np.ones_like(gain)
    if not low.size:
        return out
    margin = 2 * window + 2
    breaks = np.flatnonzero(np.diff(low) > 2 * margin)
    starts = np.concatenate([[low[0]], low[breaks + 1]]) - margin
    ends = np.concatenate([low[breaks], [low[-1]]]) + margin + 1
    for start, end in zip(np.maximum(starts, 0), np.minimum(ends, gain.size)):
        piece = minimum_filter1d(gain[start:end], size=2 * window + 1, mode="nearest")
        out[start:end] = uniform_filter1d(piece, size=window + 1, mode="nearest")
    return out


def limit(audio: np.ndarray, sample_rate: int, *, ceiling_db: float = TRUE_PEAK_CEILING_DB - 0.3,
          oversample: int = 4) -> np.ndarray:
    """Look-ahead peak limiter: the output's (oversampled) peaks stay under ``ceiling_db``."""
    ceiling = 10 ** (ceiling_db / 20)
    x = audio if audio.ndim == 2 else audio[:, None]
    peaks = _oversampled_peaks(x, oversample, 0.6 * ceiling)
    # one sample of headroom either side: interpolation between samples may peak next to them
    peaks = np.maximum.reduce([peaks, np.roll(peaks, 1), np.roll(peaks, -1)])
    gain = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if gain.min() >= 1.0:
        return audio.astype(np.float32)
    gain = _smooth_gain(gain, max(3, int(LOOKAHEAD_S * sample_rate)))
    out = x * gain[:, None].astype(x.dtype)
    return (out if audio.ndim == 2 else out[:, 0]).astype(np.float32, copy=False)


def vocal_chain(vocals: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono voice → high-passed, compressed, lightly reverberant stereo (frames, 2).

    Every tool that puts a voice in a mix uses this, so a section re-rendered by an edit sounds
    like the song it goes back into. The filter and compressor run on the mono voice (the same
    result as on two equal channels, at half the cost); only the reverb makes it stereo.
    """
    from pedalboard import Compressor, HighpassFilter, Pedalboard, Reverb

    dry = Pedalboard([HighpassFilter(cutoff_frequency_hz=90),
                      Compressor(threshold_db=-20, ratio=3.0, attack_ms=5, release_ms=120)])
    voice = dry(np.asarray(vocals, dtype=np.float32)[None, :], sample_rate)
    room = Reverb(room_size=0.35, damping=0.5, wet_level=0.16, dry_level=0.84, width=0.8)
    return room(np.repeat(voice, 2, axis=0), sample_rate).T


def band_chain(band: np.ndarray, sample_rate: int) -> np.ndarray:
    """Stereo accompaniment (frames, 2) → the same with a little room: the band's one shared
    reverb (FluidSynth's own is off so every instrument sits in this one space)."""
    from pedalboard import Pedalboard, Reverb

    board = Pedalboard([Reverb(room_size=0.3, damping=0.6, wet_level=0.08, dry_level=0.92, width=1.0)])
    return board(np.ascontiguousarray(band.T, dtype=np.float32), sample_rate).T


def master(audio: np.ndarray, sample_rate: int, *, target_lufs: float = TARGET_LUFS) -> tuple[np.ndarray, float, float, float]:
    """Loudness to ``target_lufs`` and true peak ≤ −1 dBTP: (mastered float32, gain dB, LUFS, true peak dBTP).

    One gain for the whole piece, then the look-ahead limiter; when the limiter took more than
    0.2 LU back (dense songs) the gain is corrected once. Shared so every tool masters alike.
    """
    loudness = integrated_loudness(audio, sample_rate)
    gain_db = target_lufs - loudness if np.isfinite(loudness) else 0.0
    mastered = limit(audio * np.float32(10 ** (gain_db / 20)), sample_rate)
    after = integrated_loudness(mastered, sample_rate)
    if np.isfinite(after) and abs(after - target_lufs) > 0.2:
        gain_db += target_lufs - after
        mastered = limit(audio * np.float32(10 ** (gain_db / 20)), sample_rate)
        after = integrated_loudness(mastered, sample_rate)
    return mastered, float(gain_db), after, 20 * float(np.log10(max(true_peak(mastered), 1e-9)))


def voice_activity(vocals: np.ndarray) -> np.ndarray:
    """Where a mono voice sings (above −60 dBFS): the frames its level is balanced on."""
    return np.abs(vocals) > 1e-3


def mix_song(accompaniment: np.ndarray, vocals: np.ndarray | None, sample_rate: int, *,
             target_lufs: float = TARGET_LUFS, band: np.ndarray | None = None,
             voice: np.ndarray | None = None, active: np.ndarray | None = None) -> MixResult:
    """Balance the voice against the band, add space, master to ``target_lufs`` and −1 dBTP.

    Args:
        accompaniment: stereo (frames, 2) float array, the summed instruments.
        vocals: mono float array of the same length, or None for an instrumental.
        band: ``band_chain(accompaniment)`` when the caller already ran it (beside the singing).
        voice: ``vocal_chain(vocals)`` when the caller already ran it (it is scaled in place).
        active: ``voice_activity(vocals)``; with it and ``voice``, ``vocals`` may be None (a
            process that sang elsewhere then receives ~1 MB of packed mask, not the 30 MB voice).
    """
    if band is None:
        band = band_chain(accompaniment, sample_rate)
    if vocals is not None and not np.any(vocals):
        voice = None
    elif vocals is not None and voice is None:
        voice = vocal_chain(vocals, sample_rate)
    if voice is not None:
        voice = voice[: band.shape[0]]
        if active is None:
            if vocals is None:
                raise ValueError("mix_song needs the dry vocals or their voice_activity beside the vocal chain")
            active = voice_activity(vocals)
        active = active[: band.shape[0]]
        band_rms = _rows_rms(band, active) or _rms(band)
        voice_rms = _rows_rms(voice, active)
        if voice_rms > 0:
            voice *= np.float32((band_rms / voice_rms) * 10 ** (VOCAL_OVER_BAND_DB / 20))
    mix = band + voice if voice is not None else band
    mastered, gain_db, lufs, peak_db = master(mix, sample_rate, target_lufs=target_lufs)
    gain = np.float32(10 ** (gain_db / 20))
    return MixResult(mix=mastered, vocals=None if voice is None else voice * gain, accompaniment=band * gain,
                     lufs=lufs, true_peak_db=peak_db, master_gain_db=gain_db)


def encode_mp3(pcm: np.ndarray, sample_rate: int, path) -> None:
    """16-bit PCM (frames[, channels]) → MP3 at 192 kbit/s.

    lameenc at its fast quality setting: libsndfile's encoder took 7 s for three minutes,
    lameenc ~1 s. Separate from `write_audio` so a helper process can encode a written WAV.
    """
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(192)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1 if pcm.ndim == 1 else pcm.shape[1])
    encoder.set_quality(7)
    with open(path, "wb") as handle:
        handle.write(encoder.encode(np.ascontiguousarray(pcm, dtype=np.int16).tobytes()) + encoder.flush())


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio → 16-bit PCM: clipped to ±1, scaled by 32767, rounded to nearest (half to even).

    Converted here rather than by libsndfile: its float → short loop took ~0.3 s for a
    three-minute stereo song, numpy ~0.04 s (the samples may differ from libsndfile's by 1 LSB).
    """
    scaled = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    scaled *= np.float32(32767)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.int16)


def write_audio(path, audio: np.ndarray, sample_rate: int) -> None:
    """WAV (16-bit PCM) or MP3 (192 kbit/s) by the file suffix."""
    import soundfile

    path = str(path)
    pcm = to_pcm16(audio)
    if path.endswith(".mp3"):
        encode_mp3(pcm, sample_rate, path)
    else:
        soundfile.write(path, pcm, sample_rate, subtype="PCM_16")
