"""The audio genre model and the folded beat patterns it reads, on audio it was not fitted on."""

from __future__ import annotations

import numpy as np
import pytest

from tools.caption import caption_audio
from tools.caption.rhythm_pattern import BEAT_PHASES, SPAN_HARMONICS, rhythm_pattern

SR = 22050


def _clicks(times: np.ndarray, seconds: float, freq: float) -> np.ndarray:
    y = np.zeros(int(seconds * SR), dtype=np.float32)
    t = np.arange(int(0.03 * SR)) / SR
    burst = (np.sin(2 * np.pi * freq * t) * np.exp(-t * 150)).astype(np.float32)
    for start in times:
        i = int(start * SR)
        y[i:i + burst.size] += burst[: max(0, min(burst.size, y.size - i))]
    return y


def test_off_beat_hats_fold_onto_the_half_beat():
    """Hats on every off-beat eighth and a kick on every beat, at 100 BPM: the high band peaks at
    phase 6 of 12, the low band at phase 0."""
    beat = 0.6
    beats = np.arange(0, 20, beat)
    y = _clicks(beats, 20.5, 60.0) + 0.5 * _clicks(beats + beat / 2, 20.5, 8000.0)
    pattern = rhythm_pattern(y, SR, beats)
    width = BEAT_PHASES + SPAN_HARMONICS
    low, high = pattern.features[:BEAT_PHASES], pattern.features[2 * width:2 * width + BEAT_PHASES]
    assert int(np.argmax(low)) in (0, 1) and int(np.argmax(high)) in (6, 7)
    assert 3.0 <= pattern.onsets_per_s <= 3.6  # 200 attacks in 20 s, kick and hat each counted


@pytest.mark.parametrize("genre", ["bossa nova", "reggae", "punk"])
def test_unseen_rendered_songs(genre):
    """FluidSynth renders of seed 977 (the fit used seeds 1-6 and tested 101-102)."""
    from tools.music.synth import render_song_audio
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt="a song about the market", genre=genre, seed=977,
                                                vocals="none", duration_s=30)), seed=977)
    found = caption_audio(render_song_audio(song, sample_rate=SR), SR).attributes["genre"]
    from tools.caption.describe import words

    assert words()["genre_names"][genre] in [name for name, _ in found["candidates"][:2]], found
