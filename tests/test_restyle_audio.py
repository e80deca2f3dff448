"""style_transfer from audio: a tune rendered from the music21 corpus is transcribed (basic-pitch),
re-arranged, and its melody survives (note F1 ≥ 0.8 against the score)."""

from __future__ import annotations

import pytest

from tools.music.song import Song, Track
from tools.registry import ToolContext
from tools.restyle import StyleTransferArgs, style_transfer

pytest.importorskip("basic_pitch")


@pytest.fixture(scope="module")
def restyled_from_audio(tmp_path_factory):
    """Render a corpus tune, restyle the recording once; the tests below read the result."""
    import soundfile
    from music21 import corpus

    from tools.music.synth import render_song_audio

    tmp_path = tmp_path_factory.mktemp("restyle_audio")
    score = corpus.parse("bach/bwv66.6").measures(0, 6)
    xml = tmp_path / "tune.musicxml"
    score.write("musicxml", fp=str(xml))
    source = Song.from_musicxml(xml)
    tune = Song(title="tune", key=source.key, tempo_bpm=100, meter=source.meter,
                melody=Track(name="Flute", program=73, role="melody", notes=source.melody.notes))
    wav = tmp_path / "tune.wav"
    soundfile.write(wav, render_song_audio(tune), 44100)

    result = style_transfer(StyleTransferArgs(source=str(wav), target_style="folk"), ToolContext(workdir=tmp_path / "out"))
    return tune, result


def test_rendered_corpus_tune_keeps_its_melody(restyled_from_audio):
    from tests.test_restyle_transfer import melody_f1

    tune, result = restyled_from_audio
    restyled = result.song
    assert result.data["manifest"]["source"] == "audio"
    # the melody is compared in seconds, so it survives a wrong tempo (which only moves bar lines)
    assert melody_f1(tune, restyled) >= 0.8
    assert {t.role for t in restyled.tracks} >= {"bass", "comp"}


def test_rendered_corpus_tune_tempo_is_measured(restyled_from_audio):
    _, result = restyled_from_audio
    assert 80 <= result.song.tempo_bpm <= 125


def test_a_spoken_recording_is_refused_before_it_is_re_arranged(tmp_path):
    import numpy as np
    import soundfile

    from tools.music.errors import TunesmithError
    from tools.music.voice.espeak import engine

    speech = engine().speak("Good morning, this is the station announcer: the train to the coast leaves from "
                            "platform four in ten minutes, and the café on the concourse is open until noon.")
    spoken = tmp_path / "announcement.wav"
    soundfile.write(spoken, np.asarray(speech.audio, dtype=np.float32), speech.sample_rate)
    with pytest.raises(TunesmithError, match="does not sound like music: it sounds like speech"):
        style_transfer(StyleTransferArgs(source=str(spoken), target_style="jazz"), ToolContext(workdir=tmp_path / "out"))
