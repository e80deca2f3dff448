"""Instrument families and drum kit from audio (tools/music/analysis/timbre.py) on real FluidSynth renders,
and how caption_audio uses them: the drum kit reaches the genre guess, the range is the top line's."""

from __future__ import annotations

import numpy as np
import pytest

from tools.caption.caption import _top_line_range
from tools.caption.describe import confidence_word, genre
from tools.music.analysis.timbre import estimate_instruments, load_model, window_features
from tools.music.analysis.transcribe import NoteEvent
from tools.music.song import Song

from test_analysis_estimators import SR, build_song


def _tunesmith_song(preset: str, seed: int) -> Song:
    """A Tunesmith arrangement (vocals none: the melody is played), from a seed the model never heard."""
    from tools.song import SongArgs, compose_song, make_blueprint

    args = SongArgs(prompt="a song about a long walk home", genre=preset, seed=seed, vocals="none", duration_s=20)
    return compose_song(make_blueprint(args), seed=seed)


@pytest.fixture(scope="module")
def folk_song() -> Song:
    return _tunesmith_song("folk", 31)


@pytest.fixture(scope="module")
def folk_audio(folk_song) -> np.ndarray:
    from tools.music.synth import render_song_audio

    return render_song_audio(folk_song, sample_rate=SR)


@pytest.fixture(scope="module")
def piano_audio() -> np.ndarray:
    """The test tune's piano chords alone (program 0): a solo piano piece."""
    from tools.music.synth import render_song_audio

    song = build_song()
    solo = song.model_copy(update={"tracks": [t for t in song.tracks if t.program == 0],
                                   "melody": song.melody.model_copy(update={"notes": []})})
    return render_song_audio(solo, sample_rate=SR)


def test_model_file_is_consistent():
    model = load_model()
    assert model["w1"].shape == (len(model["mean"]), len(model["b1"]))
    assert model["w2"].shape == (len(model["b1"]), len(model["outputs"])) == (len(model["b1"]), len(model["threshold"]))
    assert "drum kit" in model["outputs"] and len(model["report_share"]) == len(model["outputs"])
    assert np.all((model["report_share"] > 0) & (model["report_share"] < 1))
    assert len(model["report_confidence"]) == len(model["outputs"])
    features = window_features(np.random.default_rng(0).standard_normal(SR * 6).astype(np.float32) * 0.1, SR)
    assert features.shape == (2, len(model["mean"])) and np.all(np.isfinite(features))


def test_tunesmith_song_has_a_drum_kit_and_its_families(folk_song, folk_audio):
    from tools.music.analysis.fit_timbre import FAMILIES

    scored = {FAMILIES[t.program // 8] for t in [*folk_song.tracks, folk_song.melody] if not t.is_drum and t.notes}
    assert {"guitar", "bass"} <= scored  # folk: acoustic guitar and bass (and a flute, a string pad)
    heard = estimate_instruments(folk_audio, SR)
    assert heard.drums is True and heard.drums_confidence > 0.5 and heard.drums_share > 0.5
    found = {f.family for f in heard.families}
    assert {"guitar", "bass"} <= found <= scored  # no family that is not playing
    assert heard.instruments(confidence_word)[0]["share"] >= heard.instruments(confidence_word)[-1]["share"]


def test_solo_piano_has_no_drum_kit(piano_audio):
    heard = estimate_instruments(piano_audio, SR)
    assert heard.drums is False and heard.drums_confidence > 0.5
    # struck keyboards: piano and chromatic percussion (celesta, vibraphone) are confused (see the bench)
    assert heard.families and {f.family for f in heard.families} <= {"piano", "chromatic percussion"}
    entry = heard.instruments(confidence_word)[0]
    assert entry["name"].startswith(entry["family"] + " (") and 0 < entry["share"] <= 1 and "drum kit" not in entry["name"]


def test_silent_and_short_audio_are_undecided():
    for audio, why in ((np.zeros(SR * 3, dtype=np.float32), "silent"), (np.ones(SR // 2, dtype=np.float32), "lasts")):
        heard = estimate_instruments(audio, SR)
        assert heard.drums is None and heard.families == [] and why in heard.reason
        assert heard.drums_attribute()["present"] is None


def test_genre_rules_use_audio_drums_and_families():
    common = {"texture": "polyphonic", "voices": 4, "tempo_bpm": 100.0}
    assert genre(drums=False, **common)["name"] == "classical / chamber"
    assert genre(drums=True, **common, families=["guitar", "bass"])["name"] == "pop / rock"
    assert genre(drums=False, **common, families=["guitar"])["name"] == "acoustic / folk"
    assert genre(drums=False, **common, families=None)["name"] == "classical / chamber"  # symbolic path: unchanged
    assert genre(drums=True, **common, families=[], drums_confidence=0.5)["confidence"] < \
        genre(drums=True, **common, families=[])["confidence"]


def test_top_line_range_ignores_bass_and_rests():
    melody = [NoteEvent(i * 0.5 + (1.0 if i >= 8 else 0.0), i * 0.5 + 0.45 + (1.0 if i >= 8 else 0.0), 67 + (i % 5), 0.8)
              for i in range(16)]  # G4..B4, resting at 4-5 s
    rest = [NoteEvent(4.0 + i * 0.5, 4.45 + i * 0.5, 48, 0.6) for i in range(2)]  # only chords show through
    bass = [NoteEvent(i * 1.0, i * 1.0 + 0.9, 31 + (i % 2) * 5, 0.7) for i in range(9)]  # G1, C2 throughout
    overtone = [NoteEvent(2.0, 2.3, 100, 0.3)]  # an overtone transcribed as a note, five octaves up
    rng = _top_line_range(melody + rest + bass + overtone)
    assert (rng["lowest"], rng["highest"], rng["semitones"]) == ("G4", "B4", 4)
    assert _top_line_range([]) is None


def test_caption_of_folk_song_with_kit_is_not_classical(folk_audio):
    from tools.caption import caption_audio

    a = caption_audio(folk_audio, SR).attributes
    assert a["drums"]["present"] is True
    assert "classical" not in a["genre"]["name"] and "chorale" not in a["genre"]["name"]
    assert a["instruments"] and all("family" in i for i in a["instruments"])
    assert a["melodic_range"]["method"] == "top line of the transcription"
    assert a["melodic_range"]["semitones"] <= 36  # all transcribed notes span bass to melody: ~5 octaves
