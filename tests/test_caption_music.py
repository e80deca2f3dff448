"""caption_music on real files: a corpus chorale, a Tunesmith song (symbolic, MIDI, rendered audio),
and files that must be refused with a clear message."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from tools.caption import caption_audio, caption_music, caption_song
from tools.music.errors import TunesmithError
from tools.registry import ToolContext

from test_analysis_estimators import SR, build_song


@pytest.fixture(scope="module")
def song():
    song = build_song(key="A minor", tempo=110.0, chords=["Am", "Dm", "E", "Am", "F", "Dm", "E", "Am"])
    # sing the tune: lyrics make it a vocal part
    for i, note in enumerate(song.melody.notes):
        note.syllable, note.line = ("la", 0)
    song.sections[0].lyrics = ["la la la"]
    return song


def test_caption_song_attributes(song):
    caption = caption_song(song)
    a = caption.attributes
    assert a["key"]["key"] == "A minor"
    assert a["meter"]["meter"] == "4/4" and a["tempo"]["bpm"] == 110.0
    romans = [c["roman"] for c in a["chords"]["timeline"]]
    assert a["chords"]["origin"] == "notated" and romans[:4] == ["i", "iv", "V", "i"]
    assert a["vocals"]["present"] is True
    assert {i["name"] for i in a["instruments"]} == {"Flute", "Acoustic Grand Piano", "Electric Bass (finger)"}
    assert a["melodic_range"]["semitones"] > 0
    assert "A minor" in caption.text and "110 BPM" in caption.text


def test_estimated_chords_without_symbols(song):
    bare = song.model_copy(update={"sections": []})
    timeline = caption_song(bare).attributes["chords"]["timeline"]
    assert [c["symbol"] for c in timeline][:4] == ["Am", "Dm", "E", "Am"]
    assert [c["roman"] for c in timeline][:3] == ["i", "iv", "V"]


def test_long_piece_keeps_every_chord():
    # 320 bars, a chord each: the timeline once stopped at 256 chords, three quarters of the way in
    long = build_song(key="A minor", tempo=110.0, chords=["Am", "Dm", "E", "Am", "F", "Dm", "E", "Am"] * 40)
    chords = caption_song(long.model_copy(update={"sections": []})).attributes["chords"]
    timeline = chords["timeline"]
    assert chords["complete"] and len(timeline) >= 280  # 281 changes: Am–Am joins merge
    end = timeline[-1]["start_beat"] + timeline[-1]["beats"]
    assert end == pytest.approx(320 * 4, abs=4) and timeline[-1]["symbol"] == "Am"


def test_lead_sheet_chords_hold_until_the_next_and_stray_marks_are_not_a_chart(song):
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.song import Section

    sheet = score_to_song(corpus.parse("leadSheet/berlinAlexandersRagtime.mxl"))
    chords = caption_song(sheet).attributes["chords"]
    timeline = chords["timeline"]
    assert chords["origin"] == "notated" and timeline[0]["symbol"] == "F"
    for before, after in zip(timeline, timeline[1:]):  # no bar without a chord between two symbols
        assert before["start_beat"] + before["beats"] == pytest.approx(after["start_beat"])
    assert timeline[-1]["start_beat"] + timeline[-1]["beats"] >= sheet.duration_beats - 1e-6

    # one harmony mark in eight bars (as three Monteverdi madrigals carry): the chords come from the notes
    marked = song.model_copy(update={"sections": [Section(name="song", kind="song", start_bar=0, bars=8,
                                                          chords=["", "", "", "D", "", "", "", ""])]})
    chords = caption_song(marked).attributes["chords"]
    assert chords["origin"] == "estimated" and [c["symbol"] for c in chords["timeline"]][:3] == ["Am", "Dm", "E"]


def test_corpus_chorale():
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    a = caption_song(score_to_song(corpus.parse("bach/bwv66.6"))).attributes
    assert a["key"]["key"] == "F# minor" and a["meter"]["meter"] == "4/4"
    assert a["texture"]["kind"] == "homophonic" and a["texture"]["voices"] >= 3
    assert a["genre"]["name"] == "chorale / hymn"
    romans = {c["roman"].rstrip("7") for c in a["chords"]["timeline"]}
    assert {"i", "V"} <= romans
    # four parts named for voices, no lyrics, no instruments set: sung, not "Acoustic Grand Piano"
    assert [i["name"] for i in a["instruments"]] == ["voices (Soprano, Alto, Tenor, Bass)"]
    assert a["vocals"] == {"present": True, "confidence": 0.8, "evidence": "parts named for voices"}


def test_parts_without_instruments_are_named_as_the_score_names_them():
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    # Corelli's trio sonata sets no instruments: its parts read as program 0, which is a piano
    a = caption_song(score_to_song(corpus.parse("corelli/opus3no1/1grave.xml"))).attributes
    assert [i["name"] for i in a["instruments"]] == ["Violino", "Violone e Organo"]
    assert a["vocals"]["present"] is False
    # music21 gives a string part it cannot place String Ensemble 1: a quartet read as one ensemble
    quartet = caption_song(score_to_song(corpus.parse("mozart/k155/movement3.mxl"))).attributes
    assert {i["name"] for i in quartet["instruments"]} == {"Violin", "Viola", "Cello"}


def test_voice_names_need_every_word_and_bass_needs_company(song):
    from tools.caption.symbolic import voice_parts

    def named(*names_programs):
        tracks = [t.model_copy(update={"name": n, "program": p}) for t, (n, p) in zip(song.tracks, names_programs)]
        return song.model_copy(update={"tracks": tracks, "melody": song.melody.model_copy(update={"name": "Flute"})})

    assert voice_parts(named(("Tenor Sax", 0), ("Bass", 0))) == []  # a band: a sax and a bass
    assert voice_parts(named(("Tenor", 66), ("Bass", 33))) == []  # programs say tenor sax, bass guitar
    assert [t.name for t in voice_parts(named(("Tenor I", 0), ("Bass", 0)))] == ["Tenor I", "Bass"]


def test_the_attribute_asked_about_is_answered_first(song):
    openings = {"key": "It is in A minor (", "tempo": "The tempo is 110 BPM (moderato), as the file sets it.",
                "meter": "It is in 4/4 time.", "chords": "The chords (notated) open Am (i) – Dm (iv) – E (V) – Am (i)",
                "instruments": "It is scored for: ", "range": "The melody spans ",
                "loudness": "A score has no loudness to measure"}
    plain = caption_song(song).text
    for focus, opening in openings.items():
        text = caption_song(song, focus=focus).text
        assert text.startswith(opening), (focus, text)
        assert plain.split(". ")[0] in text  # the whole description follows the answer


def test_tool_on_midi_and_abc(song, tmp_path):
    midi = song.to_midi(tmp_path / "tune.mid")
    result = caption_music.invoke({"source": str(midi), "focus": "key"}, ToolContext(workdir=tmp_path))
    assert result.kind == "caption" and result.data["attributes"]["key"]["key"] == "A minor"
    assert result.summary.startswith(result.summary.split(".")[0])  # first sentence states the key
    assert "A minor" in result.summary.split(".")[0]
    abc = tmp_path / "tune.abc"
    abc.write_text("X:1\nT:Test\nM:3/4\nL:1/4\nK:D\nD F A | d2 A | B G E | F3 | D F A | d2 c | B A G | F2 E | D3 |]\n")
    a = caption_music.invoke({"source": str(abc)}, ToolContext(workdir=tmp_path)).data["attributes"]
    assert a["meter"]["meter"] == "3/4" and a["key"]["key"] == "D major"


def test_audio_caption(song):
    from tools.music.synth import render_song_audio

    audio = render_song_audio(song, sample_rate=SR)
    caption = caption_audio(audio, SR)
    a = caption.attributes
    assert a["key"]["key"] == "A minor"
    assert abs(a["tempo"]["bpm"] - 110) <= 0.04 * 110
    assert a["loudness"]["integrated_lufs"] < 0 and a["transcribed_notes"] > 20
    assert a["chords"]["timeline"] and caption.source == "audio"
    assert abs(a["duration_s"] - audio.shape[0] / SR) < 0.1


def test_rendered_chorale_is_heard_as_homophonic():
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.synth import render_song_audio

    # four voices moving together: the transcription's onsets scatter by a frame or two, which
    # exact onsets once counted as four independent lines ("polyphonic")
    chorale = score_to_song(corpus.parse("bach/bwv66.6"))
    a = caption_audio(render_song_audio(chorale, sample_rate=SR), SR).attributes
    assert a["texture"]["kind"] == "homophonic" and a["texture"]["voices"] >= 3
    assert a["key"]["key"] == "F# minor"


def test_bad_files_are_refused(tmp_path):
    ctx = ToolContext(workdir=tmp_path)
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    silent = tmp_path / "silent.wav"
    soundfile.write(str(silent), np.zeros(SR * 3, dtype=np.float32), SR)
    text = tmp_path / "notes.txt"
    text.write_text("this is not music, only words")
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    no_notes = tmp_path / "blank.musicxml"  # a valid score of one empty bar: music21's key analysis crashed on it
    no_notes.write_text('<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1">'
                        '<part-name>P</part-name></score-part></part-list><part id="P1"><measure number="1">'
                        '<attributes><divisions>1</divisions></attributes><note><rest/><duration>4</duration></note>'
                        '</measure></part></score-partwise>')
    for path, message in ((silent, "silent"), (text, "looks like"), (empty, "empty"), (no_notes, "no notes")):
        with pytest.raises(TunesmithError, match=message):
            caption_music.invoke({"source": str(path)}, ctx)
    with pytest.raises(TunesmithError):
        caption_music.invoke({"source": str(corrupt)}, ctx)
    with pytest.raises(TunesmithError, match="not found"):
        caption_music.invoke({"source": str(tmp_path / "missing.wav")}, ctx)


def test_speech_and_noise_are_refused_as_not_music(tmp_path):
    from tools.music.voice.espeak import engine

    ctx = ToolContext(workdir=tmp_path)
    speech = engine().speak("The weather will be cloudy this morning with sunshine later on, and the traffic "
                            "on the ring road is heavy because of roadworks near the station. Please bring "
                            "your ticket and arrive ten minutes early for the meeting.")
    spoken = tmp_path / "weather_report.wav"
    soundfile.write(str(spoken), np.asarray(speech.audio, dtype=np.float32), speech.sample_rate)
    hiss = tmp_path / "hiss.wav"
    soundfile.write(str(hiss), (np.random.default_rng(0).standard_normal(SR * 8) * 0.2).astype(np.float32), SR)
    for path, kind in ((spoken, "speech"), (hiss, "noise")):
        with pytest.raises(TunesmithError, match=f"does not sound like music: it sounds like {kind}"):
            caption_music.invoke({"source": str(path)}, ctx)


def test_too_long_audio_is_refused(tmp_path, monkeypatch):
    from tools.config import settings

    long_file = tmp_path / "long.wav"
    soundfile.write(str(long_file), (0.1 * np.sin(np.arange(SR * 5) * 0.05)).astype(np.float32), SR)
    monkeypatch.setattr(settings(), "max_audio_seconds", 2.0)
    with pytest.raises(TunesmithError, match="limit"):
        caption_music.invoke({"source": str(long_file)}, ToolContext(workdir=tmp_path))


def test_a_score_with_too_many_notes_is_refused_with_the_limit_named(song, tmp_path, monkeypatch):
    from tools.config import settings

    midi = song.to_midi(tmp_path / "tune.mid")
    notes = sum(len(t.notes) for t in song.all_tracks())
    ctx = ToolContext(workdir=tmp_path)
    assert caption_music.invoke({"source": str(midi)}, ctx).data["attributes"]["key"]
    monkeypatch.setattr(settings(), "max_score_notes", notes - 1)
    ctx = ToolContext(workdir=tmp_path)
    with pytest.raises(TunesmithError, match=f"holds {notes:,} notes; the limit is {notes - 1:,}"):
        caption_music.invoke({"source": str(midi)}, ctx)


def test_cli_json(song, tmp_path):
    import typer
    from typer.testing import CliRunner

    from ui.commands.caption import register

    app = typer.Typer()
    app.callback()(lambda: None)  # keep `caption` a sub-command, as in the real `tunesmith` app
    register(app)

    midi = song.to_midi(tmp_path / "tune.mid")
    result = CliRunner().invoke(app, ["caption", str(midi), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["attributes"]["key"]["key"] == "A minor"
    bad = CliRunner().invoke(app, ["caption", str(tmp_path / "nope.mid")])
    assert bad.exit_code == 1 and "not found" in bad.output


@pytest.mark.parametrize("prompt, cell", [
    ("a melancholy indie-folk song about driving home after a night shift", "mid_energy_low_valence"),
    ("a sad slow ballad about losing a friend", "low_energy_low_valence"),
    ("an angry fast punk song about the landlord", "high_energy_low_valence"),
    ("a calm gentle lullaby for a baby", "low_energy_high_valence"),
])
def test_mood_of_songs_asked_for_by_mood(prompt, cell):
    """Tunesmith's own songs, composed from a mood word, read in that mood's cell of the grid."""
    from tools.caption.describe import words
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt=prompt, seed=3, vocals="female", duration_s=30)), seed=3)
    mood = caption_song(song).attributes["mood"]
    assert mood["words"] == words()["moods"][cell], (prompt, mood)


def test_audio_mood_reads_the_signal(song):
    """A minor tune at 110 BPM: low valence, and about the energy its score has. The energy comes
    from attacks heard, not from notes transcribed (those read 40-60 % more on Tunesmith songs);
    this unmastered render is quieter (-24 LUFS) than its velocities, so it reads a little calmer."""
    from tools.music.synth import render_song_audio

    heard = caption_audio(render_song_audio(song, sample_rate=SR), SR).attributes["mood"]
    written = caption_song(song).attributes["mood"]
    assert heard["valence"] < 0.4 and written["valence"] < 0.4
    assert abs(heard["energy"] - written["energy"]) <= 0.2, (heard, written)


def test_caption_states_a_likely_second_tempo():
    from tools.caption.describe import SAY_ALTERNATIVE_TEMPO, compose_text

    attributes = {"tempo": {"bpm": 66.0, "confidence": 0.55,
                            "alternatives": [{"bpm": 132.0, "probability": SAY_ALTERNATIVE_TEMPO + 0.1}]},
                  "key": {"key": "F major"}, "meter": {"meter": "4/4"}, "duration_s": 30.0}
    assert "it can also be counted at 132 BPM" in compose_text(attributes)
    attributes["tempo"]["alternatives"][0]["probability"] = SAY_ALTERNATIVE_TEMPO / 2
    assert "counted at" not in compose_text(attributes)


def test_caption_hedges_an_unsure_meter():
    from tools.caption.describe import HEDGE_METER, compose_text

    attributes = {"tempo": {"bpm": 96.0, "confidence": 0.9}, "key": {"key": "G minor"},
                  "meter": {"meter": "3/4", "confidence": HEDGE_METER - 0.2}, "duration_s": 30.0}
    assert "perhaps 3/4 time" in compose_text(attributes)
    attributes["meter"]["confidence"] = 1.0
    assert ", 3/4 time" in compose_text(attributes) and "perhaps" not in compose_text(attributes)


def _untimed_midi(path, song, bpm: float) -> None:
    """``song`` played at ``bpm`` saved as MIDI with no tempo and no time signature, the way a
    performance or a transcription is: real seconds on the readers' default 120 BPM grid."""
    import mido

    ticks_per_second = 480 * 2  # 480 ticks a beat at the assumed 120 BPM
    events = []
    for channel, track in enumerate(t for t in song.all_tracks() if t.notes and not t.is_drum):
        for note in track.notes:
            start = note.start * 60.0 / bpm
            end = start + note.duration * 60.0 / bpm
            events.append((round(start * ticks_per_second), mido.Message("note_on", note=note.pitch, velocity=80,
                                                                         channel=channel % 9)))
            events.append((round(end * ticks_per_second) - 1, mido.Message("note_off", note=note.pitch, channel=channel % 9)))
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    now = 0
    for tick, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        track.append(message.copy(time=tick - now))
        now = tick
    midi.tracks.append(track)
    midi.save(str(path))


def test_untimed_midi_gets_its_tempo_heard(tmp_path):
    """A MIDI file that sets no tempo is not "120 BPM": its tempo and meter are heard in a render,
    and its beats are counted at that tempo (Foster's "Jeanie", 4/4, played at 84 BPM)."""
    from music21 import corpus

    from tools.music.midi_io import read_midi_with_timing
    from tools.music.musicxml_io import score_to_song

    song = score_to_song(corpus.parse("leadSheet/fosterBrownHair.mxl"))
    path = tmp_path / "performance.mid"
    _untimed_midi(path, song, 84.0)
    assert read_midi_with_timing(path)[1] is False
    data = caption_music.invoke({"source": str(path)}, ToolContext(workdir=tmp_path)).data
    a = data["attributes"]
    assert a["tempo"]["origin"].startswith("heard") and "the file sets no tempo" in data["caption"]
    readings = [a["tempo"]["bpm"]] + [alt["bpm"] for alt in a["tempo"]["alternatives"]]
    assert abs(readings[0] - 84.0) <= 0.04 * 84.0, readings
    assert a["meter"]["origin"].startswith("heard") and a["meter"]["confidence"] < 1.0
    seconds = max(n.start + n.duration for t in song.all_tracks() for n in t.notes) * 60.0 / 84.0
    assert abs(a["duration_s"] - seconds) < 1.0  # re-timing moved the beat grid, not the notes
    assert a["key"]["key"] == "F major"

    timed = song.model_copy(update={"tempo_bpm": 84.0}).to_midi(tmp_path / "timed.mid")  # sets both
    assert read_midi_with_timing(timed)[1] is True
    a = caption_music.invoke({"source": str(timed)}, ToolContext(workdir=tmp_path)).data["attributes"]
    assert a["tempo"] == {"bpm": 84.0, "confidence": 1.0, "origin": "file"}


def test_score_without_a_tempo_mark_says_so(tmp_path):
    """A chorale with no metronome mark has no tempo of its own: the caption says it was assumed
    instead of calling it "a moderate 100 BPM"; a marked score keeps its tempo."""
    from music21 import corpus, tempo

    score = corpus.parse("bach/bwv66.6")
    for mark in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        mark.activeSite.remove(mark)
    unmarked = tmp_path / "chorale.musicxml"
    score.write("musicxml", fp=str(unmarked))
    data = caption_music.invoke({"source": str(unmarked)}, ToolContext(workdir=tmp_path)).data
    assert data["attributes"]["tempo"]["origin"].startswith("assumed")
    assert "no tempo marked" in data["caption"] and "moderate" not in data["caption"].split(".")[0]

    score.parts[0].measure(1).insert(0, tempo.MetronomeMark(number=72))
    marked = tmp_path / "chorale_72.musicxml"
    score.write("musicxml", fp=str(marked))
    data = caption_music.invoke({"source": str(marked)}, ToolContext(workdir=tmp_path)).data
    assert data["attributes"]["tempo"] == {"bpm": 72.0, "confidence": 1.0, "origin": "file"}
    assert "72 BPM" in data["caption"]


def test_untimed_midi_tempo_is_heard_in_its_opening(tmp_path, monkeypatch):
    """Only the opening is rendered for the tempo (a long performance would cost a render of all
    of it); the re-timing still covers every note."""
    from music21 import corpus

    import tools.caption.caption as caption_module
    from tools.music.musicxml_io import score_to_song

    monkeypatch.setattr(caption_module, "HEARD_TIMING_SECONDS", 30.0)
    song = score_to_song(corpus.parse("leadSheet/fosterBrownHair.mxl"))
    path = tmp_path / "performance.mid"
    _untimed_midi(path, song, 84.0)
    a = caption_music.invoke({"source": str(path)}, ToolContext(workdir=tmp_path)).data["attributes"]
    assert abs(a["tempo"]["bpm"] - 84.0) <= 0.04 * 84.0
    seconds = max(n.start + n.duration for t in song.all_tracks() for n in t.notes) * 60.0 / 84.0
    assert abs(a["duration_s"] - seconds) < 1.0


def test_untimed_midi_too_short_to_hear_keeps_an_assumed_tempo(tmp_path):
    """Three notes give no beat to hear, nor a mood or a style: the caption still comes, says the
    tempo is assumed, and names no mood or genre."""
    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    for pitch in (60, 64, 67):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, time=480))
    midi.tracks.append(track)
    path = tmp_path / "three.mid"
    midi.save(str(path))
    data = caption_music.invoke({"source": str(path)}, ToolContext(workdir=tmp_path)).data
    assert data["attributes"]["tempo"]["origin"].startswith("assumed")
    assert "no tempo marked" in data["caption"]
    assert "mood" not in data["attributes"] and "genre" not in data["attributes"]
    assert data["caption"].startswith("A piece in C major")


def test_tempo_word_agrees_with_the_tempo_mark():
    from tools.caption.describe import _threshold_word, words

    kind = {"grave": "slow", "largo": "slow", "larghetto": "slow", "adagio": "slow", "andante": "moderate",
            "moderato": "moderate", "allegro": "fast", "vivace": "fast", "presto": "very fast"}
    for bpm in range(20, 260):  # "a fast 120 BPM (moderato)" said two things
        assert _threshold_word(words()["tempo_words"], bpm) == kind[_threshold_word(words()["tempo_marks"], bpm)], bpm


def test_a_midi_tempo_no_song_can_hold_reads_as_untimed(tmp_path):
    import mido

    from tools.music.midi_io import read_midi_with_timing

    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=1))  # a broken writer: 60,000,000 BPM
    for pitch in (60, 62, 64, 65, 67):
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    path = tmp_path / "broken_tempo.mid"
    midi.save(str(path))
    song, timed = read_midi_with_timing(path)
    assert timed is False and song.tempo_bpm == 120.0
    a = caption_music.invoke({"source": str(path)}, ToolContext(workdir=tmp_path)).data["attributes"]
    assert a["tempo"]["origin"].startswith("assumed") and a["key"]["key"] == "C major"


def test_the_page_shows_a_caption_as_a_table_of_attributes(song, tmp_path):
    from ui.visuals import table_rows

    data = caption_music.invoke({"source": str(song.to_midi(tmp_path / "tune.mid"))}, ToolContext(workdir=tmp_path)).data
    headers, rows = table_rows(data)
    by_name = {row[0]: row[1:] for row in rows}
    assert headers == ["attribute", "value", "confidence"]
    assert by_name["key"][0] == "A minor" and by_name["tempo"][0] == "110 BPM (file)" and by_name["meter"][0] == "4/4"
    assert "Flute" in by_name["instruments"][0] and by_name["vocals"][0] == "yes"
