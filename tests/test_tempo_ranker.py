"""The learned tempo ranker (tools/music/analysis/tempo.py + tempo_ranker.json) on audio it was not fitted on.

The ranker was fitted on corpus pieces from the bench's TUNING collections and on Tunesmith songs of
the TUNING presets; here it reads pieces from HELD-OUT collections (rendered at set tempos) and a
song of a held-out preset, and must find the quarter-note tempo (±4 %, MIREX Acc1).
"""

from __future__ import annotations

import json

import numpy as np

from tools.music import analysis
from tools.music.analysis import tempo as tempo_module

SR = 22050
SECONDS = 24.0
# (corpus path, quarter-note BPM): held-out collections and composers only, various meters and textures
HELDOUT_PIECES = [
    ("leadSheet/fosterBrownHair.mxl", 84.0),
    ("verdi/laDonnaEMobile.mxl", 126.0),
    ("cpebach/h186.mxl", 96.0),
    ("handel/rinaldo/lascia_chio_pianga.mxl", 66.0),
    ("schumann_clara/polonaise_op1n1.mxl", 110.0),
    ("liliuokalani/aloha_oe.mxl", 140.0),
]


def _render_corpus(path: str, bpm: float) -> np.ndarray:
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.synth import render_song_audio

    song = score_to_song(corpus.parse(path)).model_copy(update={"tempo_bpm": bpm})
    audio = render_song_audio(song, sample_rate=SR)
    return audio[: int(SR * SECONDS)]


def test_ranker_file_loads_and_matches_the_features():
    model = json.loads(tempo_module.RANKER_PATH.read_text(encoding="utf-8"))
    assert tuple(model["features"]) == tempo_module.FEATURES
    for name in ("mean", "scale", "weights"):
        assert len(model[name]) == len(tempo_module.FEATURES) and np.all(np.isfinite(model[name]))
    assert model["fit"]["clips"] >= 200
    assert tempo_module.load_ranker()["weights"] == model["weights"]


def test_heldout_corpus_pieces_acc1():
    hits = []
    for path, bpm in HELDOUT_PIECES:
        estimate = analysis.estimate_tempo(_render_corpus(path, bpm), SR)
        hits.append(abs(estimate.bpm - bpm) <= 0.04 * bpm)
        assert 0.0 < estimate.confidence <= 1.0
    assert sum(hits) >= len(HELDOUT_PIECES) - 1, list(zip(HELDOUT_PIECES, hits))


# Tunesmith presets the ranker was not fitted on. The blues shuffle reads at 1.5× (its swung
# eighths, 2/3 + 1/3 of a beat, read as straight eighths of a 12/8 bar's quarter notes, which is how
# the corpus counts compound meters): measured 126 for 84 and 148 for 100; allowed here as the one miss.
HELDOUT_PRESETS = [("waltz", 100.0), ("blues", 84.0), ("sea shanty", 120.0), ("hip-hop", 90.0), ("bossa nova", 130.0),
                   ("punk", 150.0), ("lullaby", 70.0), ("ska", 140.0), ("city pop", 110.0), ("cinematic", 80.0),
                   ("chinese folk", 95.0)]


def test_heldout_preset_songs_acc1():
    from tools.music.synth import render_song_audio
    from tools.song import SongArgs, compose_song, make_blueprint

    misses = []
    for preset, bpm in HELDOUT_PRESETS:
        args = SongArgs(prompt="a song about the harbour at night", genre=preset, seed=11, vocals="none",
                        duration_s=24, tempo_bpm=bpm)
        song = compose_song(make_blueprint(args), seed=11)
        estimate = analysis.estimate_tempo(render_song_audio(song, sample_rate=SR), SR)
        if abs(estimate.bpm - song.tempo_bpm) > 0.04 * song.tempo_bpm:
            misses.append((preset, song.tempo_bpm, estimate.bpm))
    assert len(misses) <= 1, misses


def test_candidates_and_features_are_finite():
    rng = np.random.default_rng(0)
    clicks = np.zeros(SR * 8, dtype=np.float32)
    clicks[:: SR // 2] = 1.0  # 120 BPM
    audio = clicks + 0.001 * rng.standard_normal(clicks.size).astype(np.float32)
    ctx = tempo_module.clip_context(tempo_module.tempo_evidence(audio, SR))
    bpms = tempo_module.candidates(ctx.tracked)
    assert any(abs(b - 120) < 5 for b in bpms)
    matrix = np.array([tempo_module.candidate_features(ctx, b) for b in bpms])
    assert matrix.shape == (len(bpms), len(tempo_module.FEATURES)) and np.all(np.isfinite(matrix))


def test_alt_breve_reading_is_offered_as_an_alternative():
    """Josquin in 2/2 at quarter = 134 moves in half notes: whichever level the ranker picks, the
    other is among its alternatives, which are distinct from the pick, likeliest first."""
    estimate = analysis.estimate_tempo(_render_corpus("josquin/adieuMesAmours.abc", 134.0), SR)
    readings = [estimate.bpm] + [b for b, _ in estimate.alternatives]
    assert any(abs(b - 134.0) <= 0.04 * 134.0 for b in readings), readings
    assert any(abs(b - 67.0) <= 0.04 * 67.0 for b in readings), readings
    probabilities = [q for _, q in estimate.alternatives]
    assert probabilities == sorted(probabilities, reverse=True)
    assert estimate.confidence + sum(probabilities) <= 1.0 + 1e-6
    assert all(abs(b - estimate.bpm) > 0.04 * estimate.bpm for b, _ in estimate.alternatives)

