"""The music check before a caption: a drum groove is music even though nothing in it is tonal."""

from __future__ import annotations

from tools.music.analysis.musicness import NOISE_TONAL, music_evidence
from tools.music.analysis.signal import to_mono
from tools.music.song import Track
from tools.music.synth import render_song_audio
from tools.song import SongArgs, compose_song, make_blueprint


def test_a_drum_groove_alone_is_music():
    song = compose_song(make_blueprint(SongArgs(prompt="a groove", genre="funk", seed=62, vocals="none",
                                                duration_s=20)), seed=62)
    drums = song.model_copy(update={"tracks": [t for t in song.tracks if t.is_drum],
                                    "melody": Track(name="none", program=0, role="melody", notes=[])})
    evidence = music_evidence(to_mono(render_song_audio(drums, include_melody=False, sample_rate=22050), 22050), 22050)
    assert evidence.tonal < NOISE_TONAL  # as untonal as noise: only its beat tells it apart
    assert evidence.refusal() is None, evidence
