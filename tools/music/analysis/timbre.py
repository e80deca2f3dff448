"""Which instrument families sound, and is a drum kit playing? Timbre estimates for mixed audio.

Every ~3 s window (every ~1.5 s) of a clip is described by its timbre and its attacks:

* spectral shape: the mean level of 40 mel bands (40 Hz–10 kHz) relative to the window's mean,
  and how much each band's level moves over the window (sustained pads hold, plucks decay);
* attacks per coarse band (sub-bass, low-mid, presence, air): mean positive change of level,
  and the percussive share of the band's energy after median-filter harmonic/percussive separation
  (a kit's hits are broadband and short, a bowed or blown note is narrow and long);
* the cepstrum (13 coefficients, mean and spread) of the harmonic part alone, so the kit does not
  mask the pitched instruments' envelopes, and the share of each coarse band's level modulation at
  4–8 Hz (vibrato and tremolo: bowed, blown and sung notes have it, plucked and struck ones do not);
* noisiness (spectral flatness) and the regularity of high-band and low-band attacks (the
  autocorrelation peak of their onset envelope at 0.2–1.0 s: a kit plays on the beat grid).

A small neural network (one hidden layer, sigmoid outputs, one per General MIDI family plus the
drum kit) turns a window's features into probabilities; its weights, the feature means and scales
and each output's window threshold live in ``timbre.json`` beside this module, fitted by
``tools/music/analysis/fit_timbre.py`` on Tunesmith arrangements (original and re-orchestrated
programs, solo to full band) rendered with two SoundFonts (FluidR3_GM, TimGM6mb), and reported by
``bench/instruments.py`` on held-out styles and seeds and on a third SoundFont (MuseScore General).
A family's share is the fraction of windows in which it is heard and its confidence the mean
probability there; it is reported when both reach that family's ``report_share`` and
``report_confidence`` in the file (chosen for clip-level F0.5, precision first, on tuning songs
the network was not fitted on).

Families, not patches: the model has heard General MIDI SoundFonts only, never recorded
instruments, and families that share a timbre (organ and reed, synth lead and brass) are often
confused; precision on an unseen SoundFont is about half (see bench/instruments.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from tools.music.analysis.signal import ANALYSIS_RATE, to_mono
from tools.music.errors import TunesmithError

MODEL_PATH = Path(__file__).with_name("timbre.json")
N_FFT = 2048  # 93 ms at 22.05 kHz
HOP = 512  # 23 ms
N_MELS = 40
FMIN, FMAX = 40.0, 10000.0
WINDOW_FRAMES = 129  # ~3 s: long enough for several notes and beats
WINDOW_HOP = 64  # ~1.5 s
MIN_SECONDS = 1.0
# coarse bands (Hz) for attack and percussive-share features: sub-bass, low-mid, presence, air
COARSE_BANDS = ((40.0, 200.0), (200.0, 2000.0), (2000.0, 5000.0), (5000.0, 10000.0))
REGULARITY_LAGS_S = (0.2, 1.0)  # beat periods 60–300 BPM
N_CEPSTRA = 13


@dataclass(frozen=True)
class FamilyEstimate:
    """One instrument family heard in the clip: share of windows, mean probability there."""

    family: str
    share: float
    confidence: float


@dataclass(frozen=True)
class TimbreEstimate:
    """Families heard (most present first), the drum kit's verdict, and why when undecided."""

    families: list[FamilyEstimate] = field(default_factory=list)
    drums: bool | None = None
    drums_confidence: float = 0.0
    drums_share: float = 0.0
    windows: int = 0
    reason: str | None = None
    mean_probabilities: tuple[float, ...] = ()  # per output (families, then the kit), over all windows

    def instruments(self, confidence_word: Callable[[float], str]) -> list[dict]:
        """Caption attribute entries, most present first: family name with a confidence word, share
        and confidence; the drum kit among them when it plays. The words are caption vocabulary,
        so the caption passes them in (analysis imports nothing from the tools above it)."""
        heard = list(self.families)
        if self.drums:
            heard.append(FamilyEstimate("drum kit", self.drums_share, self.drums_confidence))
        return [{"name": f"{f.family} ({confidence_word(f.confidence)})", "family": f.family,
                 "share": round(f.share, 2), "confidence": round(f.confidence, 2),
                 "method": "timbre model (timbre.json)"} for f in sorted(heard, key=lambda f: -f.share)]

    def drums_attribute(self) -> dict:
        """Caption attribute for the drum kit: present (None when undecided), confidence, share."""
        out = {"present": self.drums, "confidence": round(self.drums_confidence, 2),
               "share": round(self.drums_share, 2), "method": "timbre model (timbre.json)"}
        if self.reason:
            out["note"] = self.reason
        return out


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> dict:
    """The fitted model: outputs, feature means/scales, layer weights, thresholds (cached)."""
    model = json.loads(path.read_text(encoding="utf-8"))
    for key in ("mean", "scale", "b1", "b2", "threshold", "report_share", "report_confidence"):
        model[key] = np.asarray(model[key], dtype=np.float32)
    for key in ("w1", "w2"):
        model[key] = np.asarray(model[key], dtype=np.float32)
    return model


@lru_cache(maxsize=1)
def _mel_bank() -> np.ndarray:
    import librosa  # deferred: slow to import, only its mel filters are used

    return librosa.filters.mel(sr=ANALYSIS_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX).astype(np.float32)


def _band_index() -> list[np.ndarray]:
    """Mel band indices falling in each coarse band (by centre frequency)."""
    import librosa

    centres = librosa.mel_frequencies(n_mels=N_MELS + 2, fmin=FMIN, fmax=FMAX)[1:-1]
    return [np.flatnonzero((centres >= lo) & (centres < hi)) for lo, hi in COARSE_BANDS]


def _mel_power(y: np.ndarray) -> np.ndarray:
    """Mel-band power (frames, N_MELS) of a Hann-windowed STFT."""
    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    frames = 1 + (len(y) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(y[index] * np.hanning(N_FFT).astype(np.float32), axis=1)) ** 2
    return power.astype(np.float32) @ _mel_bank().T


def _regularity(envelope: np.ndarray) -> float:
    """Peak normalised autocorrelation of an onset envelope at beat-like lags (0 = none)."""
    x = envelope - envelope.mean()
    energy = float(np.dot(x, x))
    if energy <= 1e-12:
        return 0.0
    lo = int(REGULARITY_LAGS_S[0] * ANALYSIS_RATE / HOP)
    hi = min(int(REGULARITY_LAGS_S[1] * ANALYSIS_RATE / HOP), len(x) - 2)
    if hi <= lo:
        return 0.0
    return float(max(np.dot(x[:-lag], x[lag:]) / energy for lag in range(lo, hi + 1)))


def _modulation_share(level: np.ndarray) -> float:
    """Share of a band level's modulation (0.5–20 Hz) at 4–8 Hz: vibrato and tremolo of bowed,
    blown and sung notes; plucked and struck notes decay without it."""
    x = level - np.linspace(level[0], level[-1], len(level))
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), HOP / ANALYSIS_RATE)
    total = spectrum[(freqs >= 0.5) & (freqs <= 20)].sum()
    return float(spectrum[(freqs >= 4) & (freqs <= 8)].sum() / total) if total > 1e-12 else 0.0


def window_features(y: np.ndarray, sr: int) -> np.ndarray:
    """Features (windows, 124) of ~3 s windows every ~1.5 s; a shorter clip is one window.

    Raises:
        TunesmithError: not audio, shorter than 1 s, or silent.
    """
    from scipy.fft import dct
    from scipy.ndimage import median_filter

    mono = to_mono(y, sr, min_seconds=MIN_SECONDS)
    mel = _mel_power(mono)
    floor = 1e-8 * float(mel.max()) + 1e-12
    level = 10 * np.log10(mel + floor)
    # harmonic/percussive split (Fitzgerald 2010) on mel power: medians across time vs across bands
    harmonic = median_filter(mel, size=(17, 1), mode="nearest")
    percussive = median_filter(mel, size=(1, 7), mode="nearest")
    perc_mask = percussive ** 2 / (harmonic ** 2 + percussive ** 2 + floor ** 2)
    # cepstrum of the harmonic part alone: the pitched instruments' envelope without the kit's
    harmonic_level = 10 * np.log10(mel * (1.0 - perc_mask) + floor)
    cepstra = dct(harmonic_level, axis=1, norm="ortho")[:, 1:N_CEPSTRA + 1]
    rise = np.maximum(np.diff(level, axis=0, prepend=level[:1]), 0.0)
    bands = _band_index()
    flatness = np.exp(np.mean(np.log(mel + floor), axis=1)) / (np.mean(mel, axis=1) + floor)
    n = len(mel)
    starts = [0] if n <= WINDOW_FRAMES else list(range(0, n - WINDOW_FRAMES + 1, WINDOW_HOP))
    rows = []
    for s in starts:
        sl = slice(s, s + WINDOW_FRAMES)
        lv, mp, pm, rs = level[sl], mel[sl], perc_mask[sl], rise[sl]
        band_level = lv.mean(axis=0)
        shape = band_level - band_level.mean()
        motion = lv.std(axis=0)
        attack, perc_share, regular = [], [], []
        for idx in bands:
            energy = mp[:, idx].sum() + floor
            attack.append(rs[:, idx].mean())
            perc_share.append(float((mp[:, idx] * pm[:, idx]).sum() / energy))
        for idx in (bands[0], bands[3]):  # kick region, cymbal/hat region
            regular.append(_regularity((rs[:, idx] * pm[:, idx]).mean(axis=1)))
        fl, cep = flatness[sl], cepstra[sl]
        tremolo = [_modulation_share(lv[:, idx].mean(axis=1)) for idx in bands]
        rows.append(np.concatenate([shape, motion, attack, perc_share, regular,
                                    [fl.mean(), fl.std(), float(pm.mean()), float(lv.max() - lv.mean())],
                                    cep.mean(axis=0), cep.std(axis=0), tremolo]))
    return np.asarray(rows, dtype=np.float32)


def predict_windows(features: np.ndarray, model: dict | None = None) -> np.ndarray:
    """Per-window probabilities (windows, outputs) from the one-hidden-layer network."""
    model = model or load_model()
    x = (features - model["mean"]) / model["scale"]
    hidden = np.maximum(x @ model["w1"] + model["b1"], 0.0)
    return 1.0 / (1.0 + np.exp(-(hidden @ model["w2"] + model["b2"])))


def summarise(probabilities: np.ndarray, model: dict | None = None) -> TimbreEstimate:
    """Clip verdict from window probabilities: each output's share of windows over its threshold."""
    model = model or load_model()
    heard = probabilities >= model["threshold"]
    share = heard.mean(axis=0)
    families = []
    drums, drums_conf, drums_share = False, 0.0, 0.0
    for j, name in enumerate(model["outputs"]):
        conf = float(probabilities[heard[:, j], j].mean()) if heard[:, j].any() else 0.0
        if name == "drum kit":
            drums_share = float(share[j])
            drums = bool(share[j] >= model["report_share"][j] and conf >= model["report_confidence"][j])
            # how sure of the verdict given: mean p where heard, or 1 − mean p where not
            drums_conf = conf if drums else float(1.0 - probabilities[:, j].mean())
        elif share[j] >= model["report_share"][j] and conf >= model["report_confidence"][j]:
            families.append(FamilyEstimate(name, float(share[j]), conf))
    families.sort(key=lambda f: (-f.share, -f.confidence))
    return TimbreEstimate(families=families, drums=drums, drums_confidence=drums_conf, drums_share=drums_share,
                          windows=len(probabilities),
                          mean_probabilities=tuple(float(v) for v in probabilities.mean(axis=0)))


def estimate_instruments(y: np.ndarray, sr: int) -> TimbreEstimate:
    """Instrument families and drum kit heard in audio (mono or (frames, channels), any rate).

    Audio shorter than 1 s or silent gives an undecided estimate (``drums`` None, ``reason`` set)
    rather than an error: a caption can still say what else it measured.
    """
    try:
        features = window_features(y, sr)
    except TunesmithError as error:
        return TimbreEstimate(reason=str(error))
    return summarise(predict_windows(features))
