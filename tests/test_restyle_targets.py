"""style_transfer meets its targets as `caption_music` measures them (issue 7): tempo within 2 %,
the mode changed when asked, the preset's instruments present (and no others), 3/4 for a waltz.

Each case restyles a short real piece (eight bars of a Bach chorale from music21's corpus, or a
short composed song), renders it instrumental (no singing: fast), and captions the rendered WAV
(audio path: basic-pitch transcription, tempo, meter and key from the signal) and the written
MIDI (symbolic path: the General MIDI instruments).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tools.music.theory import parse_key
from tools.registry import ToolContext
from tools.restyle import StyleTransferArgs, style_transfer
from tools.song.presets import load_preset

pytest.importorskip("basic_pitch")


def caption(path: Path) -> dict:
    """What the `caption_music` tool measures in a file (the attributes of its data)."""
    from tools.caption import CaptionArgs, caption_music

    return caption_music.run(CaptionArgs(source=str(path)), ToolContext(workdir=path.parent)).data["attributes"]


def gm_name(program: int) -> str:
    import pretty_midi

    return pretty_midi.program_to_instrument_name(program)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    from music21 import corpus

    from tools.song import compose_song, make_blueprint

    folder = tmp_path_factory.mktemp("sources")
    chorale = folder / "bwv66_6.musicxml"  # F# minor, 4/4, 100 BPM
    corpus.parse("bach/bwv66.6").measures(0, 8).write("musicxml", fp=str(chorale))
    lyrics = "[verse]\nthe road is long tonight\nthe lights are burning low\n[chorus]\nsing it out loud\n"
    song = compose_song(make_blueprint({"lyrics": lyrics, "genre": "pop", "seed": 2, "tempo_bpm": 112}), seed=2)
    composed = song.to_midi(folder / "pop.mid")  # C major, 4/4
    return {"chorale": chorale, "composed": composed}


@pytest.fixture(scope="module")
def restyled(sources, tmp_path_factory):
    """One restyle + captions per case, shared by the tests that read it."""
    folder = tmp_path_factory.mktemp("restyled")

    @lru_cache(maxsize=None)
    def run(source: str, style: str, **kwargs) -> dict:
        out = folder / f"{source}-{style}"
        result = style_transfer(StyleTransferArgs(source=str(sources[source]), target_style=style, vocals="none",
                                                  **kwargs), ToolContext(workdir=out))
        return {"song": result.song, "audio": caption(out / "song.wav"), "midi": caption(out / "song.mid"),
                "source": caption(sources[source])}

    return run


def _tempo_within(measured: float, asked: float, tolerance: float = 0.02) -> bool:
    return abs(measured - asked) <= tolerance * asked


def _band_instruments(style: str) -> tuple[set[str], set[str]]:
    """(GM names the band must have: bass, comp, drum kit; every name the style may use)."""
    spec = load_preset(style).instruments
    core = {gm_name(spec.bass.program), gm_name(spec.comp.program), "Drum Kit"}
    allowed = core | {gm_name(s.program) for role, s in spec if role != "drums" and s is not None}
    return core, allowed


def test_rock_from_a_chorale_tempo_mode_instruments(restyled):
    case = restyled("chorale", "rock", tempo_bpm=120, mode="major")  # the chorale is in F# minor
    audio, midi = case["audio"], case["midi"]
    assert _tempo_within(audio["tempo"]["bpm"], 120), audio["tempo"]
    assert case["source"]["key"]["mode"] == "minor"
    assert audio["key"]["mode"] == "major", audio["key"]
    assert parse_key(audio["key"]["key"]).tonic == parse_key(case["song"].key).tonic  # same tonic, new mode
    core, allowed = _band_instruments("rock")
    names = {i["name"] for i in midi["instruments"]}
    assert core <= names and names <= allowed, names


def test_waltz_is_heard_in_three(restyled):
    waltz = restyled("chorale", "waltz")
    rock = restyled("chorale", "rock", tempo_bpm=120, mode="major")
    assert waltz["source"]["meter"]["meter"] == "4/4"
    assert waltz["audio"]["meter"]["meter"] == "3/4", waltz["audio"]["meter"]
    assert rock["audio"]["meter"]["meter"] != "3/4"  # the meter estimate tells the two apart
    assert _tempo_within(waltz["audio"]["tempo"]["bpm"], 100), waltz["audio"]["tempo"]  # the chorale's tempo kept
    core, allowed = _band_instruments("waltz")
    names = {i["name"] for i in waltz["midi"]["instruments"]}
    assert core <= names and names <= allowed, names


def test_jazz_in_minor_from_a_composed_song(restyled):
    case = restyled("composed", "jazz", tempo_bpm=140, mode="minor")  # the song is in C major
    audio = case["audio"]
    assert _tempo_within(case["midi"]["tempo"]["bpm"], 140), case["midi"]["tempo"]
    # A known weakness of the audio tempo estimator, not of the restyle: swing with the hi-hat on 2
    # and 4 pulses at the half note, and where the melody has few eighths (this song since the
    # learned melody rhythm, 44b0035) the audio reads the exact half, 70.07 BPM. Half or exact only.
    assert any(_tempo_within(audio["tempo"]["bpm"], 140 * f) for f in (1.0, 0.5)), audio["tempo"]
    assert case["source"]["key"]["key"] == "C major"
    assert audio["key"]["key"] == "C minor", audio["key"]
    core, allowed = _band_instruments("jazz")
    names = {i["name"] for i in case["midi"]["instruments"]}
    assert core <= names and names <= allowed, names
