"""The learned key ranker (key_ranker.py, weights in key_ranker.json written by fit_key.py).

The weights must load and fit the feature layout, the ranking must not depend on transposition,
and on music the fit never saw — pieces of the bench's HELDOUT collections, which fit_key.py
never reads — the notes and a FluidSynth render of them must name the notated key.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tools.music.analysis.key import estimate_key_from_audio, estimate_key_from_notes
from tools.music.analysis.key_ranker import (CANDIDATES, audio_feature_names, candidate_features, evidence_from_notes,
                                             feature_names, load_ranker)

# whole pieces from HELDOUT collections that the bench does not score either; truth as the bench
# reads it (bench/caption.py: true_key of the parsed score)
HELDOUT_PIECES = {
    "schumann_robert/opus48no2.mxl": "A major",
    "schumann_clara/polonaise_op1n1.mxl": "Eb major",
    "schumann_clara/polonaise_op1n3.mxl": "D major",
    "schumann_robert/opus41no1/movement2.mxl": "A minor",
}


def _notes(path: str) -> list:
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    song = score_to_song(corpus.parse(path))
    return [n for t in song.all_tracks() if not t.is_drum for n in t.notes], song


@pytest.mark.parametrize("name, names", [("notes", feature_names()), ("notes_signature", feature_names(with_signature=True)),
                                         ("audio", audio_feature_names())])
def test_weights_load_and_fit_the_features(name, names):
    ranker = load_ranker(name)
    assert ranker.weights.shape == (2 * len(names),)
    assert np.all(np.isfinite(ranker.weights)) and np.abs(ranker.weights).max() > 0


def test_ranking_follows_transposition():
    # I–IV–V–I with a tune on top, moved to every key: every key's probability moves with it
    chords = [[48, 64, 67, 72], [53, 65, 69, 72], [55, 62, 67, 71], [48, 64, 67, 72]]

    def probabilities(shift: int) -> np.ndarray:
        notes = [SimpleNamespace(pitch=p + shift, start=float(i), duration=1.0) for i, c in enumerate(chords) for p in c]
        return load_ranker("notes").probabilities(candidate_features(evidence_from_notes(notes)))

    base = probabilities(0)
    for shift in range(1, 12):
        # CANDIDATES run tonic-major, tonic-minor: a shift of one semitone is a roll by two rows
        np.testing.assert_allclose(probabilities(shift), np.roll(base, 2 * shift), atol=1e-9)


def test_heldout_pieces_symbolic():
    # one miss allowed: the ranker reads Clara Schumann's Polonaise op. 1 no. 1 (Eb major) as Ab major,
    # where the profile path is right (the ranker is not the default: see key.py's docstring)
    hits = 0
    for path, key in HELDOUT_PIECES.items():
        notes, _ = _notes(path)
        estimate = estimate_key_from_notes(notes, method="ranker")
        assert 0.0 <= estimate.confidence <= 1.0 and estimate.candidates[0][0] == estimate.key
        hits += estimate.key == key
    assert hits >= len(HELDOUT_PIECES) - 1


def test_heldout_piece_rendered():
    from tools.music.analysis.signal import ANALYSIS_RATE
    from tools.music.synth import render_song_audio

    _, song = _notes("schumann_robert/opus48no2.mxl")
    audio = render_song_audio(song, sample_rate=ANALYSIS_RATE)
    assert estimate_key_from_audio(audio, ANALYSIS_RATE, method="ranker").key == "A major"
