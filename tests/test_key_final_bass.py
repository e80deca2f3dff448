"""The final bass note read from audio: the key finder's cadence evidence."""

from __future__ import annotations

import numpy as np
import pytest

from tools.music.analysis.key import final_bass_from_audio
from tools.music.analysis.signal import ANALYSIS_RATE


def _bass_tone(midi: int, seconds: float = 3.0, sr: int = ANALYSIS_RATE) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 7))
    return (0.3 * tone * np.exp(-t / 2.0)).astype(np.float32)


@pytest.mark.parametrize("midi", [28, 33, 38, 43, 47])  # E1 A1 D2 G2 B2: low notes leak a semitone down
def test_final_bass_is_the_note_not_its_leakage(midi):
    assert final_bass_from_audio(_bass_tone(midi), ANALYSIS_RATE) == midi % 12
