"""Is it music? Speech and noise get a clear refusal, not a caption of their "key" and "tempo".

basic-pitch hears notes in anything: white noise came out as "a piece in E major at 138 BPM" and
a spoken weather report as "a melancholic and wistful ska song". Three numbers from the first
minute tell them apart:

- ``tonal``: how much of each frame's chroma its strongest pitch class holds (energy-weighted
  mean; 1/12 ≈ 0.083 for a flat spectrum). Noise has no pitch that stands out.
- ``periodicity``: the highest autocorrelation of the onset envelope at lags of 0.25–2 s (a beat
  or a bar recurs; a noise or a sentence does not).
- ``steady``: the share of sounding frames inside a held pitch: the strongest CQT bin (a third
  of a semitone) staying within one bin of where it started for at least a third of a second.
  Sung and played notes hold their pitch; speech glides through every syllable.

Chosen on every other caption-bench render (44, first 30 s) and 8 Tunesmith songs with sung
vocals plus 3 of their a cappella stems, against 12 espeak-ng speech clips (six languages, two
speeds) and noise; then measured on the first minute of all 88 bench renders (choir, strings,
piano, fiddle tunes), the 11 songs, 16 speech clips (3 over pink noise, one more sentence) and 11
noises (white, clipped white, pink and brown at several levels, random clicks); a 50 Hz hum in pink
noise is refused too (tonal 0.113, periodicity 0.053). `python -m tools.music.analysis.musicness
FILE...` prints the numbers of any file.

| | tonal | periodicity | steady | refused |
|---|---|---|---|---|
| corpus renders (88) | 0.253-0.827 | 0.161-0.900 | 0.091-1.000 | 0 |
| Tunesmith songs and stems (11) | 0.185-0.386 | 0.221-0.751 | 0.158-0.816 | 0 |
| speech (16) | 0.205-0.280 | 0.075-0.164 | 0.000-0.024 | 16 |
| noise (11) | 0.099-0.126 | 0.055-0.117 | 0.000-0.516 | 11 |

Noise is low tonal *and* low periodicity, speech is unsteady *and* low periodicity; each bound
sits between the classes, and a clip is refused only when both of its numbers say so (a drum
loop is not tonal but it is periodic; a choir singing in free time is not periodic but it holds
its notes). Drum grooves alone (8 Tunesmith presets' kits, 30 s) are as untonal as noise (0.115-
0.179) and pass on their beat (periodicity 0.566-0.779). A pure sine passes and is left to the
transcription, which hears too few notes.
It costs ~0.13 CPU-s a file (the first minute only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANALYSIS_SECONDS = 60.0  # the first minute decides: the caption of a 3-minute file must stay fast
HOP = 512
BINS_PER_OCTAVE = 36
OCTAVES = 6  # C2-B7
STEADY_SECONDS = 0.33
NOISE_TONAL = 0.15
NOISE_PERIODICITY = 0.14
SPEECH_STEADY = 0.05
SPEECH_PERIODICITY = 0.2


@dataclass(frozen=True)
class MusicEvidence:
    tonal: float
    periodicity: float
    steady: float

    def refusal(self) -> str | None:
        """Why this is not music, in words for the user; None when it may be music."""
        if self.tonal < NOISE_TONAL and self.periodicity < NOISE_PERIODICITY:
            return "it sounds like noise: no pitch stands out and nothing recurs in time"
        if self.steady < SPEECH_STEADY and self.periodicity < SPEECH_PERIODICITY:
            return "it sounds like speech: no pitch is held for a note's length and there is no beat"
        return None


def music_evidence(y: np.ndarray, sr: int) -> MusicEvidence:
    """The three numbers of the module docstring for mono audio ``y`` (its first minute)."""
    import librosa

    y = np.asarray(y[: int(ANALYSIS_SECONDS * sr)], dtype=np.float32)
    cqt = np.abs(librosa.cqt(y, sr=sr, hop_length=HOP, fmin=librosa.note_to_hz("C2"),
                             n_bins=OCTAVES * BINS_PER_OCTAVE, bins_per_octave=BINS_PER_OCTAVE))
    energy = cqt.sum(axis=0)
    sounding = energy > 0.05 * max(float(energy.max()), 1e-12)
    # three bins a semitone: roll by one so each semitone's bins sit around its centre
    chroma = np.roll(cqt, 1, axis=0).reshape(OCTAVES, 12, BINS_PER_OCTAVE // 12, -1).sum(axis=(0, 2))
    tonal = float(np.average(chroma.max(axis=0) / (chroma.sum(axis=0) + 1e-12), weights=energy + 1e-12))
    return MusicEvidence(tonal=round(tonal, 4), periodicity=round(_periodicity(y, sr), 4),
                         steady=round(_steady_share(cqt.argmax(axis=0), sounding, sr), 4))


def _periodicity(y: np.ndarray, sr: int) -> float:
    import librosa

    envelope = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    envelope = envelope - envelope.mean()
    lo, hi = int(0.25 * sr / HOP), int(2.0 * sr / HOP)
    if len(envelope) <= hi:
        return 0.0
    spectrum = np.fft.rfft(envelope, n=2 * len(envelope))
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum))[: len(envelope)]
    return float(autocorrelation[lo:hi].max() / max(autocorrelation[0], 1e-12))


def _steady_share(peaks: np.ndarray, sounding: np.ndarray, sr: int) -> float:
    """Share of sounding frames in runs where the strongest bin stays within one bin of the run's
    first frame for STEADY_SECONDS or more."""
    if not sounding.any():
        return 0.0
    min_frames = int(round(STEADY_SECONDS * sr / HOP))
    held = np.zeros(len(peaks), dtype=bool)
    start = 0
    for i in range(1, len(peaks) + 1):
        if i == len(peaks) or abs(int(peaks[i]) - int(peaks[start])) > 1:
            if i - start >= min_frames:
                held[start:i] = True
            start = i
    return float(held[sounding].mean())


def main() -> None:
    import sys

    import soundfile

    from tools.music.analysis.signal import to_mono

    for name in sys.argv[1:]:
        y, sr = soundfile.read(name, dtype="float32")
        evidence = music_evidence(to_mono(y, sr, min_seconds=0.0), 22050)
        print(f"{name}: {evidence} -> {evidence.refusal() or 'music'}")


if __name__ == "__main__":
    main()
