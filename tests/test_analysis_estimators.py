"""Key, tempo and loudness estimators on audio we render (known truth) and on corpus notes."""

from __future__ import annotations

import numpy as np
import pytest

from tools.music import analysis
from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.music.theory import parse_chord

SR = 22050
PROGRESSION = ["G", "C", "D", "G", "Em", "C", "D", "G"]


def build_song(key: str = "G major", tempo: float = 96.0, chords: list[str] = PROGRESSION) -> Song:
    """Eight bars: a flute tune in eighths on chord tones, piano chords on every beat, bass roots on 1 and 3."""
    melody, comp, bass = [], [], []
    for bar, symbol in enumerate(chords):
        chord = parse_chord(symbol)
        root = 48 + chord.root if chord.root < 7 else 36 + chord.root
        tones = [60 + (chord.root + i) % 12 for i in chord.intervals]
        for beat in (0.0, 1.0, 2.0, 3.0):
            if beat in (0.0, 2.0):
                bass.append(Note(pitch=root, start=bar * 4 + beat, duration=1.9, velocity=100))
            comp.extend(Note(pitch=p, start=bar * 4 + beat, duration=0.9, velocity=70) for p in tones)
        # running eighths, as most tunes move (a tune of quarters only reads at double tempo)
        line = [tones[i % 3] + 12 for i in (2, 1, 0, 1, 2, 1, 0, 1)] if bar < 7 else [tones[0] + 12]
        for i, pitch in enumerate(line):
            melody.append(Note(pitch=pitch, start=bar * 4 + i * 0.5, duration=0.45 if bar < 7 else 4.0, velocity=95))
    return Song(title="test tune", key=key, tempo_bpm=tempo, meter="4/4",
                sections=[Section(name="verse 1", kind="verse", start_bar=0, bars=8, chords=chords)],
                melody=Track(name="Flute", program=73, role="melody", notes=melody),
                tracks=[Track(name="Piano", program=0, role="comp", notes=comp),
                        Track(name="Bass", program=33, role="bass", notes=bass)])


@pytest.fixture(scope="module")
def rendered() -> tuple[Song, np.ndarray]:
    from tools.music.synth import render_song_audio

    song = build_song()
    return song, render_song_audio(song, sample_rate=SR)


def test_key_from_rendered_audio(rendered):
    _, audio = rendered
    estimate = analysis.estimate_key_from_audio(audio, SR)
    assert estimate.key == "G major"
    assert 0 < estimate.confidence <= 1
    key, confidence = estimate  # unpacks like the song engine expects
    assert key == "G major" and confidence == estimate.confidence


def test_key_accepts_channels_first_and_mono(rendered):
    _, audio = rendered
    assert analysis.estimate_key_from_audio(audio.T.copy(), SR).key == "G major"
    assert analysis.estimate_key_from_audio(audio.mean(axis=1), SR).key == "G major"


def test_tempo_from_rendered_audio(rendered):
    song, audio = rendered
    estimate = analysis.estimate_tempo(audio, SR, meter_hint="4/4")
    assert abs(estimate.bpm - song.tempo_bpm) <= 0.04 * song.tempo_bpm
    beats = np.diff(estimate.beats)
    assert len(estimate.beats) >= 20
    assert abs(np.median(beats) - 60 / song.tempo_bpm) < 0.03


@pytest.mark.parametrize("tempo", [72.0, 140.0])
def test_tempo_other_speeds(tempo):
    from tools.music.synth import render_song_audio

    song = build_song(tempo=tempo)
    audio = render_song_audio(song, sample_rate=SR)[: int(SR * 12)]
    assert abs(analysis.estimate_tempo(audio, SR).bpm - tempo) <= 0.04 * tempo


@pytest.fixture(scope="module")
def chorale_tune() -> tuple[Song, np.ndarray]:
    """Bach's bwv66.6 soprano on a flute at 100 BPM: quarters, a few eighths, legato (breathy onsets)."""
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.synth import render_song_audio

    source = score_to_song(corpus.parse("bach/bwv66.6").measures(0, 6))
    tune = Song(title="chorale", key=source.key, tempo_bpm=100, meter=source.meter,
                melody=Track(name="Flute", program=73, role="melody", notes=source.melody.notes))
    return tune, render_song_audio(tune, sample_rate=SR)


def test_tempo_of_quarter_note_chorale(chorale_tune):
    # regression: onsets picked from the envelope (breath, vibrato) made this read as 141 BPM
    tune, audio = chorale_tune
    assert abs(analysis.estimate_tempo(audio, SR).bpm - tune.tempo_bpm) <= 0.04 * tune.tempo_bpm


def test_minor_key_from_audio():
    from tools.music.synth import render_song_audio

    song = build_song(key="A minor", chords=["Am", "Dm", "E", "Am", "F", "Dm", "E", "Am"])
    assert analysis.estimate_key_from_audio(render_song_audio(song, sample_rate=SR), SR).key == "A minor"


def test_key_from_corpus_notes():
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    chorale = score_to_song(corpus.parse("bach/bwv66.6"))  # notated in F# minor (three sharps, ends on F#)
    notes = [n for t in chorale.all_tracks() for n in t.notes]
    assert analysis.estimate_key_from_notes(notes).key == "F# minor"
    song = build_song()
    assert analysis.estimate_key_from_notes(song.melody.notes + song.tracks[0].notes).key == "G major"


def test_loudness_reference_sine():
    # BS.1770: a full-scale 997 Hz sine in one channel reads −3.01 LUFS
    t = np.arange(48000 * 10) / 48000
    sine = np.sin(2 * np.pi * 997 * t).astype(np.float32)
    assert analysis.integrated_lufs(sine, 48000) == pytest.approx(-3.01, abs=0.1)
    assert analysis.integrated_lufs(sine * 0.5, 48000) == pytest.approx(-3.01 - 6.02, abs=0.1)
    assert analysis.true_peak_dbfs(sine * 0.5, 48000) == pytest.approx(-6.02, abs=0.1)
    steady = analysis.loudness_range(sine, 48000)
    assert steady < 0.5
    stepped = np.concatenate([sine * 0.1, sine])  # 20 dB step
    assert analysis.loudness_range(stepped, 48000) > 15


def test_loudness_of_rendered_mix(rendered):
    _, audio = rendered
    stats = analysis.measure_loudness(audio, SR)
    assert -40 < stats.integrated_lufs < 0
    assert stats.true_peak_dbfs >= 20 * np.log10(np.abs(audio).max()) - 0.01
    assert stats.peak_to_loudness_db == pytest.approx(stats.true_peak_dbfs - stats.integrated_lufs, abs=0.02)


@pytest.mark.parametrize("bad, message", [
    (np.zeros(SR * 3, dtype=np.float32), "silent"),
    (np.full(SR * 3, np.nan, dtype=np.float32), "NaN"),
    (np.ones(100, dtype=np.float32), "lasts"),
    ([0.1, 0.2], "numpy array"),
    (np.zeros((2, 3, 4)), "shape"),
])
def test_bad_audio_is_refused(bad, message):
    with pytest.raises(TunesmithError, match=message):
        analysis.estimate_key_from_audio(bad, SR)
    with pytest.raises(TunesmithError):
        analysis.estimate_tempo(bad, SR)


def test_bad_rate_and_empty_notes():
    with pytest.raises(TunesmithError, match="Sample rate"):
        analysis.integrated_lufs(np.ones(SR, dtype=np.float32), 0)
    with pytest.raises(TunesmithError, match="no pitched notes"):
        analysis.estimate_key_from_notes([])


@pytest.mark.parametrize("genre, meter", [("rock", "4/4"), ("punk", "4/4"), ("edm", "4/4"), ("waltz", "3/4")])
def test_meter_of_rendered_songs(genre, meter):
    """Backbeat styles read 4/4, not 2/4, and a waltz stays 3/4 (seed 977: unseen by fit_meter)."""
    from tools.music.analysis.meter import estimate_meter
    from tools.music.synth import render_song_audio
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt="a song about the market", genre=genre, seed=977,
                                                vocals="none", duration_s=30)), seed=977)
    audio = render_song_audio(song, sample_rate=SR)
    assert song.meter == meter
    assert estimate_meter(audio, SR, bpm=analysis.estimate_tempo(audio, SR).bpm).meter == meter


COMPOUND_JIGS = ["BannocksOBarleyMealJig", "BarneyBrallagansJig", "BarneysGoatJig", "BattleTheCashJig",
                 "BelleOfTheKitchenJig", "BillyORourkesJig", "BillyPattersonsFavoriteJig",
                 "BillyTheBarberShavedHisFatherJig"]  # 6/8 and 9/8; none is among fit_meter's training pieces


def test_meter_model_hears_compound_jigs():
    """Jigs' eighths group in threes: most read 6/8 at their quarter-note tempo (6 of these 8 on the
    fitted model; the rule it replaced read 6/8 only when the dotted quarter outpulsed the quarter)."""
    from music21 import corpus

    from tools.music.analysis.meter import METERS, estimate_meter, load_model
    from tools.music.musicxml_io import score_to_song
    from tools.music.synth import render_song_audio

    model = load_model()
    assert model["weights"].shape == (len(METERS), len(model["mean"]) + 1)
    read = []
    for name in COMPOUND_JIGS:
        song = score_to_song(corpus.parse(f"ryansMammoth/{name}.abc")).model_copy(update={"tempo_bpm": 120.0})
        assert song.meter in ("6/8", "9/8")
        audio = render_song_audio(song, sample_rate=SR)[: SR * 25]
        estimate = estimate_meter(audio, SR, bpm=120.0)
        assert 0.25 <= estimate.confidence <= 1.0
        read.append(estimate.meter)
    assert read.count("6/8") >= 5, read
