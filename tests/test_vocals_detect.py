"""Vocal-presence detection on real renders: a Tunesmith song sung and the same composition with
``vocals none`` (a preset and seed the model was not fitted on), a corpus chorale rendered with
FluidSynth (as written, and on GM choir aahs), and inputs too short or silent to judge; the audio
caption reports the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tools.music.analysis.vocals import detect_vocals, load_model, window_features
from tools.music.errors import TunesmithError

SECONDS = 20  # each clip is cut to this


def _render(vocals: str, out: Path) -> tuple[np.ndarray, int]:
    from tools.song import SongArgs, compose_song, make_blueprint, render_song

    args = SongArgs(genre="bossa nova", seed=9, vocals=vocals, duration_s=15, prompt="a song about a paper boat")
    blueprint = make_blueprint(args)
    render_song(compose_song(blueprint, seed=args.seed), out, vocals=blueprint.vocals, blueprint=blueprint,
                check=False, musicxml=False)
    y, sr = soundfile.read(str(out / "song.wav"), dtype="float32")
    return y[: sr * SECONDS], sr


@pytest.fixture(scope="module")
def sung(tmp_path_factory):
    return _render("female", tmp_path_factory.mktemp("sung"))


@pytest.fixture(scope="module")
def instrumental(tmp_path_factory):
    return _render("none", tmp_path_factory.mktemp("none"))


def test_sung_song_has_vocals(sung):
    estimate = detect_vocals(*sung)
    assert estimate.present is True, estimate
    assert estimate.probability >= load_model()["threshold"] and estimate.confidence == estimate.probability
    assert estimate.features["vocal_window_share"] > 0.2  # the verse sings; the intro does not


def test_same_song_without_voice_is_instrumental(instrumental):
    estimate = detect_vocals(*instrumental)
    assert estimate.present is False, estimate
    assert estimate.confidence == pytest.approx(1 - estimate.probability)


@pytest.mark.parametrize("program", [None, 52])  # the file's own (piano), then every part on GM choir aahs
def test_corpus_render_is_instrumental(program):
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.synth import render_song_audio

    song = score_to_song(corpus.parse("bach/bwv66.6"))
    if program is not None:  # a voice-like timbre singing no words is not a singer
        song = song.model_copy(update={"tracks": [t.model_copy(update={"program": program}) for t in song.tracks]})
    audio = render_song_audio(song, sample_rate=22050)[: 22050 * SECONDS]
    estimate = detect_vocals(audio, 22050)
    assert estimate.present is False, estimate


def test_silence_and_short_audio_give_a_clear_answer():
    silent = detect_vocals(np.zeros((44100 * 3, 2), dtype=np.float32), 44100)
    assert silent.present is False and silent.reason == "the audio is silent"
    short = detect_vocals(np.random.default_rng(0).normal(0, 0.1, 11025).astype(np.float32), 22050)
    assert short.present is None and "too short" in short.reason and short.as_attribute()["note"] == short.reason
    just_enough = detect_vocals(np.random.default_rng(0).normal(0, 0.1, 23000).astype(np.float32), 22050)
    assert just_enough.present is not None and just_enough.features["windows"] == 1


def test_malformed_input_is_refused():
    with pytest.raises(TunesmithError, match="NaN"):
        detect_vocals(np.full(44100, np.nan, dtype=np.float32), 44100)
    with pytest.raises(TunesmithError, match="numpy array"):
        detect_vocals([0.1] * 44100, 44100)
    with pytest.raises(TunesmithError, match="Sample rate"):
        detect_vocals(np.zeros(44100, dtype=np.float32), 0)


def test_model_file_matches_the_features():
    names, matrix, starts = window_features(np.random.default_rng(1).normal(0, 0.1, 22050 * 3).astype(np.float32),
                                            22050)
    model = load_model()
    assert names == model["features"] and matrix.shape == (len(starts), len(names))
    assert len(model["mean"]) == len(model["scale"]) == len(names)
    assert len(model["weights"]) == len(names) * (2 if model.get("quadratic") else 1)
    assert np.all(np.isfinite(matrix))


def test_audio_caption_reports_the_voice(sung):
    from tools.caption import caption_audio

    caption = caption_audio(*sung)
    vocals = caption.attributes["vocals"]
    assert vocals["present"] is True and 0.5 <= vocals["confidence"] <= 1.0
    assert "singing voice is" in caption.text
