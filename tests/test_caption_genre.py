"""The genre model on scores it was not fitted on: Tunesmith songs of unseen seeds (as MIDI files,
as a user would upload them) and music21 corpus pieces outside its training collections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.caption import caption_song
from tools.caption.describe import words
from tools.caption.genre import genre_probabilities, load_model, symbolic_features
from tools.music.song import Song


def _song(genre: str, seed: int, tmp_path: Path) -> Song:
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt="a song about a long train ride", genre=genre, seed=seed,
                                                vocals="female", duration_s=30)), seed=seed)
    return Song.from_midi(song.to_midi(tmp_path / f"{genre}.mid"))


@pytest.mark.parametrize("genre", ["bossa nova", "reggae", "jazz", "punk", "waltz", "edm"])
def test_unseen_songs_are_named_by_their_style(genre, tmp_path):
    """Seed 977 is in neither the fit's training seeds (1-10) nor its test seeds (101-104)."""
    found = caption_song(_song(genre, 977, tmp_path)).attributes["genre"]
    expected = words()["genre_names"][genre]
    assert found["style"] == genre and found["name"] == expected and found["confidence"] >= 0.5, found


def test_the_rhythm_alone_still_tells_a_reggae_skank_from_a_rock_backbeat(tmp_path):
    """Every pitched part moved to a piano: the kit and the off-beat chords carry the style."""
    for genre in ("reggae", "rock"):
        song = _song(genre, 978, tmp_path)
        song = song.model_copy(update={"melody": song.melody.model_copy(update={"program": 0}),
                                       "tracks": [t if t.is_drum else t.model_copy(update={"program": 0})
                                                  for t in song.tracks]})
        p = genre_probabilities(symbolic_features(song, minor=False))
        ranked = sorted(p, key=p.get, reverse=True)
        assert genre in ranked[:3], (genre, ranked[:3])


def test_corpus_pieces_outside_the_training_collections():
    """Palestrina (not Monteverdi) is early vocal polyphony; a Schubert song is not a pop song."""
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    names = words()["genre_names"]
    kyrie = caption_song(score_to_song(corpus.parse("palestrina/Kyrie_36"))).attributes["genre"]
    assert kyrie["name"] in (names["madrigal"], names["chorale"]), kyrie
    lied = caption_song(score_to_song(corpus.parse("schubert/Lindenbaum"))).attributes["genre"]
    assert lied["name"] in (names["classical"], names["chorale"], names["folk tune"]), lied


def test_model_file_is_consistent():
    model = load_model()
    width = len(model["mean"])
    assert model["weights"].shape == (len(model["classes"]), width) and len(model["bias"]) == len(model["classes"])
    assert np.all(model["scale"] > 0) and model["fit"]["test_accuracy"] >= 0.8
    assert set(model["classes"]) <= set(words()["genre_names"])  # every class has its words
