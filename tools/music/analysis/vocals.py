"""Is someone singing? A sung-voice detector for mixed audio: explicit window features, a logistic model.

Every ~1 s window (every ~0.5 s) of the clip is described by what separates a sung voice from the
General MIDI instruments it shares a mix with (Lehner et al. 2014 showed this feature family
beats plain MFCCs at rejecting instruments):

* timbre (mean and spread of 13 MFCCs): a voice's formants put its energy where few GM leads do;
* timbre that keeps moving (spread and frame-to-frame change of the 250–4000 Hz band's cepstrum,
  spread of that band's flatness): vowels, consonants and breaths reshape the envelope from
  syllable to syllable, a sampled instrument's envelope holds through a note;
* pitch that is never still (share of spectral-peak weight, 300–3000 Hz, whose instantaneous
  frequency moves more than 4, 10 and 20 cents between 23 ms frames): vibrato, portamento, jitter;
* consonant noise (flatness of the 4–8 kHz band).

A logistic model over the standardised features and their squares (a quadratic boundary encloses
the region where voices lie, so an instrument unlike any seen in fitting can fall outside it on
either side; by cross-validation on the tuning set it cut errors from 12 % to 8 %) gives each
window a probability; the clip's score is the mean of its most vocal windows' probabilities (a
verse sings, an intro need not). Weights, feature means and scales, the top share and the
threshold live in ``vocals.json`` beside this module, fitted by ``bench/vocals.py --fit`` on a
tuning set of Tunesmith songs (sung and ``vocals none``, from the same seeds, and instrumentals
with the melody on two dozen other GM leads), quieter-voice remixes, instrumental corpus renders
and corpus pieces played on GM choir/voice programs; it reports a held-out set of other presets,
seeds and collections.

Every voice the model has seen is Tunesmith's own WORLD singer: no recorded singing exists on the
machine it was fitted on, so its behaviour on real singers is untested. Reedy or bowed leads with
vibrato (accordion, violin) and a soprano aria's line played on strings are its false positives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.music.analysis.signal import ANALYSIS_RATE, SILENCE_RMS, check_audio, to_mono
from tools.music.errors import TunesmithError

WEIGHTS_PATH = Path(__file__).with_name("vocals.json")
N_FFT = 2048  # 93 ms at 22.05 kHz: resolves harmonics of voices down to ~100 Hz
HOP = 512  # 23 ms: fast enough for 5–6 Hz vibrato and syllables
MIN_SECONDS = 1.0  # below this no syllable or vibrato can be seen


@dataclass(frozen=True)
class VocalEstimate:
    """Whether a voice sings, the model's probability of it, and the features it saw.

    ``present`` is None when the audio is too short or silent to judge (``reason`` says which).
    ``confidence`` is the probability of the answer given (p or 1 − p), for captions.
    """

    present: bool | None
    probability: float
    confidence: float
    features: dict[str, float] = field(default_factory=dict)
    reason: str | None = None

    def as_attribute(self) -> dict:
        """The caption attribute: present, confidence, probability, method, and a reason if undecided."""
        out = {"present": self.present, "confidence": round(self.confidence, 2),
               "probability": round(self.probability, 3), "method": "audio features + logistic model (vocals.json)"}
        if self.reason:
            out["note"] = self.reason
        return out


@lru_cache(maxsize=1)
def load_model(path: Path = WEIGHTS_PATH) -> dict:
    """The fitted model: feature names, means, scales, weights, bias, threshold (cached)."""
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _mel_bank(n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    import librosa  # deferred: librosa is slow to import and only the mel filters are needed

    return librosa.filters.mel(sr=ANALYSIS_RATE, n_fft=N_FFT, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


def _stft(y: np.ndarray) -> np.ndarray:
    """Complex STFT (frames, bins), Hann window, no padding: the phase is needed for pitch motion."""
    frames = 1 + (len(y) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    return np.fft.rfft(y[index] * np.hanning(N_FFT).astype(np.float32), axis=1).astype(np.complex64)


def _cepstra(power: np.ndarray, bank: np.ndarray, count: int) -> np.ndarray:
    """Cepstral coefficients 1..count (frames, count) of mel band energies: the smoothed envelope."""
    from scipy.fft import dct

    mel = power @ bank.T
    return dct(np.log(mel + 1e-6 * float(mel.max()) + 1e-12), axis=1, norm="ortho")[:, 1:count + 1]


def _pitch_motion(spec: np.ndarray, magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the magnitude of spectral peaks (300–3000 Hz) that hold a pitch, and of those moving.

    Instantaneous frequency comes from the phase advance between frames; a peak whose frequency
    changes by more than 4, 10 or 20 cents in 23 ms is moving (vibrato at 5.5 Hz ±30 cents moves up
    to ~24 cents a frame); jumps of 80 cents or more are note changes or noise and are not counted.

    Returns:
        (weight of tracked peaks (frames,), weight of moving peaks (frames, 3) for the three
        thresholds); 0 in the first and last frame.
    """
    lo, hi = int(300 * N_FFT / ANALYSIS_RATE), int(3000 * N_FFT / ANALYSIS_RATE)
    x, mag = spec[:, lo:hi + 1], magnitude[:, lo:hi + 1]
    bins = np.arange(lo, hi + 1, dtype=np.float32)
    advance = np.angle(x[1:] * np.conj(x[:-1])) - 2 * np.pi * bins * HOP / N_FFT
    advance = (advance + np.pi) % (2 * np.pi) - np.pi
    freq = bins + advance * N_FFT / (2 * np.pi * HOP)  # in bins, for frame pairs (t, t+1)
    level = 20 * np.log10(mag + 1e-9)
    level -= level.max(axis=1, keepdims=True)
    peak = (level[:, 1:-1] > level[:, :-2]) & (level[:, 1:-1] >= level[:, 2:]) & (level[:, 1:-1] > -35)
    peak = np.pad(peak, ((0, 0), (1, 1)))[1:-1]
    moved = np.abs(1200 * np.log2(np.maximum(freq[1:], 1.0) / np.maximum(freq[:-1], 1.0)))
    weight = mag[1:-1] * (peak & (moved < 80))
    tracked, moving = np.zeros(len(mag)), np.zeros((len(mag), 3))
    tracked[1:-1] = weight.sum(axis=1)
    for column, cents in enumerate((4, 10, 20)):
        moving[1:-1, column] = (weight * (moved > cents)).sum(axis=1)
    return tracked, moving


def _windows(values: np.ndarray, width: int, hop: int) -> np.ndarray:
    """(windows, width, ...) view of frame values: ~1 s windows every ~0.5 s."""
    count = 1 + (len(values) - width) // hop
    index = np.arange(width)[None, :] + hop * np.arange(count)[:, None]
    return values[index]


def window_features(y: np.ndarray, sr: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Features of each ~1 s window (every ~0.5 s) of a clip.

    Per window: mean and spread of 13 MFCCs (the timbre, 100–8000 Hz), the spread of 8 cepstral
    coefficients of the 250–4000 Hz voice band and the mean size of their frame-to-frame change
    (vowels and consonants keep moving the envelope), the shares of spectral-peak weight whose pitch
    moves by more than 4, 10 and 20 cents a frame (vibrato, portamento), the flatness of the 4–8 kHz
    band (consonant noise) and the spread of the voice band's flatness (voiced against unvoiced).

    Returns:
        (feature names, matrix (windows, features), window start times in seconds).

    Raises:
        TunesmithError: not audio, shorter than 1 s, or silent.
    """
    from scipy.stats import gmean

    mono = to_mono(y, sr, min_seconds=MIN_SECONDS)
    spec = _stft(mono)
    magnitude = np.abs(spec)
    power = magnitude ** 2
    mfcc = _cepstra(power, _mel_bank(40, 100.0, 8000.0), 13)
    voice = _cepstra(power, _mel_bank(24, 250.0, 4000.0), 8)
    change = np.zeros(len(voice))
    change[1:] = np.linalg.norm(np.diff(voice, axis=0), axis=1)
    tracked, moving = _pitch_motion(spec, magnitude)
    high = power[:, int(4000 * N_FFT / ANALYSIS_RATE):int(8000 * N_FFT / ANALYSIS_RATE)] + 1e-12
    flatness = gmean(high, axis=1) / high.mean(axis=1)
    width = int(round(ANALYSIS_RATE / HOP))
    hop = width // 2
    if len(mfcc) < width:  # 1–1.1 s of audio: one window over what there is
        width = hop = len(mfcc)
    w_mfcc, w_voice = _windows(mfcc, width, hop), _windows(voice, width, hop)
    tracked_sum = np.maximum(_windows(tracked, width, hop).sum(axis=1), 1e-9)
    motion = _windows(moving, width, hop).sum(axis=1) / tracked_sum[:, None]
    voice_band = slice(int(250 * N_FFT / ANALYSIS_RATE), int(4000 * N_FFT / ANALYSIS_RATE))
    voice_flat = gmean(power[:, voice_band] + 1e-12, axis=1) / (power[:, voice_band] + 1e-12).mean(axis=1)
    matrix = np.hstack([w_mfcc.mean(axis=1), w_mfcc.std(axis=1), w_voice.std(axis=1),
                        _windows(change, width, hop).mean(axis=1)[:, None], motion,
                        _windows(flatness, width, hop).mean(axis=1)[:, None],
                        _windows(voice_flat, width, hop).std(axis=1)[:, None]])
    names = ([f"mfcc{i}_mean" for i in range(1, 14)] + [f"mfcc{i}_std" for i in range(1, 14)]
             + [f"voice_cep{i}_std" for i in range(1, 9)] + ["voice_envelope_change", "pitch_motion_4c",
                                                             "pitch_motion_10c", "pitch_motion_20c",
                                                             "high_band_flatness", "voice_band_flatness_std"])
    starts = np.arange(len(matrix)) * hop * HOP / ANALYSIS_RATE
    return names, matrix, starts


def expand(z: np.ndarray, model: dict) -> np.ndarray:
    """Standardised features, and their squares when the model is quadratic: a quadratic boundary can
    enclose the region where voices lie, so an instrument unlike any seen in fitting falls outside it
    whichever side it lies on."""
    return np.hstack([z, z ** 2]) if model.get("quadratic") else z


def window_probabilities(matrix: np.ndarray, model: dict | None = None) -> np.ndarray:
    """The logistic model's probability, per window, that a voice sings in it."""
    model = model or load_model()
    z = expand((matrix - np.array(model["mean"])) / np.array(model["scale"]), model)
    logit = z @ np.array(model["weights"]) + model["bias"]
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40)))


def clip_score(window_p: np.ndarray, model: dict | None = None) -> float:
    """How sure the model is that a voice sings somewhere: mean of the most vocal windows' probabilities.

    The top share (``top_share`` in the model, e.g. a quarter) is averaged, so a song that sings in
    its verses and not in its intro still scores high, while one odd window does not.
    """
    model = model or load_model()
    ranked = np.sort(window_p)[::-1]
    top = max(1, int(round(len(ranked) * model["top_share"])))
    return float(ranked[:top].mean())


def _silent(y: np.ndarray) -> bool:
    """Finite numeric audio whose RMS is below the analysis floor (about -80 dBFS)."""
    return (isinstance(y, np.ndarray) and y.size > 0 and np.issubdtype(y.dtype, np.number)
            and bool(np.all(np.isfinite(y))) and float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) < SILENCE_RMS)


def detect_vocals(y: np.ndarray, sr: int) -> VocalEstimate:
    """Whether a singing voice is present anywhere in the clip.

    Silence gets ``present=False`` and audio shorter than 1 s ``present=None``, each with a reason,
    so a caption can say so; malformed input (wrong type or shape, NaNs, bad rate) raises.

    Raises:
        TunesmithError: the input is not audio.
    """
    try:
        y = check_audio(y, sr, min_seconds=0.0)
    except TunesmithError:
        if _silent(y) and isinstance(sr, (int, np.integer)) and sr >= 4000:
            return VocalEstimate(False, 0.0, 1.0, reason="the audio is silent")
        raise
    seconds = y.shape[0] / sr
    if seconds < MIN_SECONDS:
        return VocalEstimate(None, 0.5, 0.0, reason=f"{seconds:.2f} s of audio is too short to hear a voice "
                                                    f"(at least {MIN_SECONDS:g} s is needed)")
    model = load_model()
    names, matrix, _ = window_features(y, sr)
    if names != model["features"]:
        raise TunesmithError("vocals.json does not match the detector's features",
                             hint="refit it with bench/vocals.py --fit")
    window_p = window_probabilities(matrix, model)
    p = clip_score(window_p, model)
    present = p >= model["threshold"]
    share = float(np.mean(window_p >= 0.5))
    return VocalEstimate(present, p, p if present else 1.0 - p, {"vocal_window_share": round(share, 3),
                                                                "windows": int(len(window_p))})
