"""caption_song (symbolic) and caption_audio (audio → transcription + signal features).

Both build the same attribute dict, so captions of a score and of its recording compare directly.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from tools.caption import symbolic
from tools.caption.describe import Caption, compose_text, confidence_word, genre, mood, onset_rate
from tools.caption.genre import audio_features, guess_genre, guess_genre_from_audio
from tools.caption.rhythm_pattern import rhythm_pattern
from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.music.theory import note_name, parse_key


def _common_progression(romans: list[str]) -> str | None:
    """The most repeated 3–5-chord sequence (longer wins a tie), as MidiCaps reports it."""
    best, best_count = None, 1
    for length in (5, 4, 3):
        counts = Counter(tuple(romans[i:i + length]) for i in range(len(romans) - length + 1))
        for seq, count in counts.items():
            if len(set(seq)) > 1 and count > best_count:
                best, best_count = seq, count
    return " – ".join(best) if best else (" – ".join(romans[:4]) if len(romans) >= 2 else None)


# The chord timeline lists every chord change up to this many: a 15-minute piece (the audio limit)
# at 200 BPM changing chord on every beat. The cap was 256, which cut a Bach chorale at bar 64 and a
# pop song at 4 minutes: "what are the chords?" then had no answer for the rest, and the bench's
# whole-piece chord score counted the lost beats as wrong (0.437 against 0.755 on 90 s cuts). A
# longer MIDI file (they have no length limit) keeps its first chords and says it was cut.
TIMELINE_CHORDS = 3000


# Chord symbols written on fewer than this share of a score's bars are marks, not a chord chart:
# three Monteverdi madrigals carry two or three stray "D"/"E"/"B" harmony marks in 70–90 bars, and
# the caption gave those as the whole piece's chords (bench chord score 0.583 on whole pieces; with
# the chords estimated from the notes instead, 0.723). A lead sheet names a chord every bar or two
# (Berlin's "Alexander's Ragtime Band": 19 symbols in 34 bars).
NOTATED_CHORDS_MIN_BARS = 0.25


def _notated_chords(song: Song) -> list[tuple[float, float, str]]:
    """The score's own chords as (start beat, beats, symbol), each held until the next one as on a
    lead sheet (a bar with no symbol keeps the last chord); empty when the score has no chord chart."""
    spans = song.chord_timeline()
    bars = max(1.0, song.duration_beats / song.beats_per_bar)
    if not spans or len({int(c.start // song.beats_per_bar) for c in spans}) < NOTATED_CHORDS_MIN_BARS * bars:
        return []
    ends = [c.start for c in spans[1:]] + [max(song.duration_beats, spans[-1].start + spans[-1].duration)]
    return [(c.start, end - c.start, c.symbol) for c, end in zip(spans, ends)]


def _chords(song: Song, notes: list, key_name: str) -> dict:
    from tools.music.analysis.chords import estimate_chords
    from tools.music.theory import parse_chord, roman_numeral

    key = parse_key(key_name)
    given = _notated_chords(song)
    if given:
        timeline = [{"start_beat": start, "beats": beats, "symbol": symbol,
                     "roman": roman_numeral(parse_chord(symbol), key), "confidence": 1.0}
                    for start, beats, symbol in given]
        origin = "notated"
    else:
        found = estimate_chords(notes, key=key, beats_per_bar=song.beats_per_bar)
        timeline = [{"start_beat": c.start, "beats": c.duration, "symbol": c.symbol, "roman": c.roman,
                     "confidence": c.confidence} for c in found]
        origin = "estimated"
    romans = [c["roman"] for c in timeline]
    common = [r for r, _ in Counter(romans).most_common(6)]
    return {"origin": origin, "timeline": timeline[:TIMELINE_CHORDS], "complete": len(timeline) <= TIMELINE_CHORDS,
            "common": common, "progression": _common_progression(romans),
            "confidence": round(float(np.mean([c["confidence"] for c in timeline])), 2) if timeline else 0.0}


# Fewer distinct onsets than this (four bars of quarter notes) tell nothing about a beat, a mood or
# a style: an untimed MIDI file keeps its grid (the tempo ranker would name a tempo from a handful of
# gaps with a confident-looking probability), and no caption names a mood or genre ("a warm and
# cheerful folk tune" of three notes).
FEW_ONSETS = 16


def _distinct_onsets(notes: list) -> int:
    return len({round(float(n.start), 3) for n in notes})


def describe_notes(song: Song, *, source: str, key_estimate, tempo: dict, meter: dict, duration_s: float,
                   extra: dict | None = None, instruments: list | None = None, vocals: dict | None = None,
                   focus: str | None = None, drums: dict | None = None, melodic_range: dict | None = None,
                   onsets_per_s: float | None = None, genre_guess: dict | None = None) -> Caption:
    """Shared second half of both paths: everything measured from the notes, then the text.

    Audio passes what the notes cannot tell: ``drums`` (the timbre model's verdict, as the
    ``drums`` attribute) and ``melodic_range`` (the transcription's top line, not every note).
    """
    notes = symbolic.pitched_notes(song)
    kind, texture_conf, voices = symbolic.texture(notes)
    has_drums = any(t.is_drum and t.notes for t in song.all_tracks()) if drums is None else bool(drums["present"])
    density = len(notes) / max(duration_s, 1e-6)
    lufs = (extra or {}).get("loudness", {}).get("integrated_lufs")
    attributes = {
        "source": source,
        "duration_s": round(duration_s, 2),
        "tempo": tempo,
        "meter": meter,
        "key": {"key": key_estimate.key, "mode": parse_key(key_estimate.key).mode,
                "confidence": key_estimate.confidence, "candidates": [list(c) for c in key_estimate.candidates[:3]]},
        "chords": _chords(song, notes, key_estimate.key),
        "instruments": instruments if instruments is not None else symbolic.instruments(song),
        "texture": {"kind": kind, "voices": voices, "confidence": texture_conf},
        "vocals": vocals if vocals is not None else symbolic.vocals(song),
        "melodic_range": melodic_range if melodic_range is not None
        else symbolic.melodic_range(song, flats=parse_key(key_estimate.key).uses_flats),
        "structure": symbolic.structure(notes, song.beats_per_bar),
        "note_density_per_s": round(density, 2),
    }
    attributes.update(extra or {})
    if drums is not None:
        attributes["drums"] = drums
    if _distinct_onsets(notes) < FEW_ONSETS:
        return Caption(text=compose_text(attributes, focus=focus), attributes=attributes, source=source)
    if onsets_per_s is None:
        onsets_per_s = onset_rate([song.beats_to_seconds(n.start) for n in notes])
    loudness = (lufs + 30) / 20 if lufs is not None else float(np.mean([n.velocity for n in notes])) / 127
    attributes["mood"] = mood(tempo_bpm=tempo["bpm"], mode=attributes["key"]["mode"], onsets_per_s=onsets_per_s,
                              loudness=loudness)
    families = [i["family"] for i in attributes["instruments"] if "family" in i] if drums is not None else None
    if genre_guess is not None:  # audio: the audio model's guess from timbre and the folded beat
        attributes["genre"] = genre_guess
    elif source == "symbolic":  # the fitted model reads the kit's parts and the programs a score names
        attributes["genre"] = guess_genre(song, minor=attributes["key"]["mode"] == "minor")
    else:  # audio the timbre model could not read: rules over what was heard
        attributes["genre"] = genre(texture=kind, voices=voices, drums=has_drums, tempo_bpm=tempo["bpm"],
                                    families=families, drums_confidence=drums["confidence"] if drums is not None else 1.0)
    return Caption(text=compose_text(attributes, focus=focus), attributes=attributes, source=source)


def caption_song(song: Song, *, focus: str | None = None, timing_from_file: bool = True,
                 tempo_marked: bool = True) -> Caption:
    """Caption a Song (from MIDI, MusicXML, ABC or a song artifact) from its notes.

    The key is *estimated* from the notes (the file's notated key is reported beside it as
    ``notated_key``). Tempo and meter are the file's own, unless ``timing_from_file`` is False (a
    MIDI file that sets neither, see `midi_io.read_midi_with_timing`): then they are heard in a render,
    as for audio, and the notes' beats are rescaled to the tempo found. ``tempo_marked`` False (a
    score with no metronome mark) reports the tempo as assumed, not as the file's.

    Raises:
        TunesmithError: the song has no pitched notes.
    """
    from tools.music.analysis import estimate_key_from_notes

    notes = symbolic.pitched_notes(song)
    if not notes:
        raise TunesmithError("The song has no pitched notes to describe")
    tempo = {"bpm": round(song.tempo_bpm, 2), "confidence": 1.0 if tempo_marked else 0.0,
             "origin": "file" if tempo_marked else "assumed (no tempo is marked)"}
    meter = {"meter": song.meter, "confidence": 1.0, "origin": "file"}
    if not timing_from_file:
        try:
            song, tempo, meter = _with_heard_timing(song)
            notes = symbolic.pitched_notes(song)
        except TunesmithError:  # too few notes to hear a beat in: say the grid is an assumption
            tempo = {**tempo, "confidence": 0.0, "origin": "assumed (the file sets no tempo)"}
            meter = {**meter, "confidence": 0.0, "origin": "assumed (the file sets no meter)"}
    key = estimate_key_from_notes(notes)
    return describe_notes(song, source="symbolic", key_estimate=key, tempo=tempo, meter=meter,
                          duration_s=song.duration_seconds, extra={"notated_key": song.key,
                                                                   "title": song.title}, focus=focus)


# An untimed MIDI file's tempo and meter are heard in a render of its first this-many seconds: a
# long performance would otherwise cost a render and a meter chroma of all of it (an hour-long
# file: ~1 CPU-min) for a tempo the opening already shows.
HEARD_TIMING_SECONDS = 120.0


def _with_heard_timing(song: Song) -> tuple[Song, dict, dict]:
    """The song re-timed to the tempo and meter its render sounds in, and those two attributes.

    The notes' seconds stay where they were; only the beat grid they are counted on changes.
    """
    from tools.music import analysis
    from tools.music.analysis.meter import estimate_meter
    from tools.music.synth import render_song_audio

    rate = 22050
    horizon = HEARD_TIMING_SECONDS / song.seconds_per_beat  # in the file's beats
    heard_part = _each_track(song, lambda n: n if n.start < horizon else None)
    if _distinct_onsets([n for t in heard_part.all_tracks() for n in t.notes]) < FEW_ONSETS:
        raise TunesmithError("Too few notes to hear a tempo in")
    audio = render_song_audio(heard_part, sample_rate=rate)
    heard = analysis.estimate_tempo(audio, rate)
    meter = estimate_meter(audio, rate, bpm=heard.bpm)
    scale = heard.bpm / song.tempo_bpm
    song = _each_track(song, lambda n: n.model_copy(update={"start": n.start * scale, "duration": n.duration * scale}),
                       tempo_bpm=heard.bpm, meter=meter.meter)
    origin = "heard (the file sets no tempo)"
    return song, _tempo_attribute(heard, origin=origin), {"meter": meter.meter, "confidence": meter.confidence,
                                                          "origin": origin}


def _each_track(song: Song, note_fn, **update) -> Song:
    """The song with ``note_fn`` applied to every note of every track (None drops the note), its
    sections cleared (their bars belong to the old grid) and ``update`` set."""
    def change(track):
        return track.model_copy(update={"notes": [m for m in map(note_fn, track.notes) if m is not None]})

    return song.model_copy(update={"sections": [], "melody": change(song.melody),
                                   "tracks": [change(t) for t in song.tracks], **update})


def _tempo_attribute(estimate, **extra) -> dict:
    """The ``tempo`` attribute of a tempo heard in audio (a TempoEstimate), with its other readings."""
    return {"bpm": estimate.bpm, "confidence": estimate.confidence, **extra,
            "alternatives": [{"bpm": b, "probability": q} for b, q in estimate.alternatives]}


def load_audio(path: Path) -> tuple[np.ndarray, int]:
    """Decode an audio file to float32 (frames, channels): soundfile first, PyAV for m4a and others.

    Raises:
        TunesmithError: the file cannot be decoded as audio.
    """
    import soundfile

    try:
        y, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
        return y, int(sr)
    except Exception:
        pass
    try:
        import av

        with av.open(str(path)) as container:
            stream = next(s for s in container.streams if s.type == "audio")
            frames = [f.to_ndarray() for f in container.decode(stream)]
            sr = int(stream.rate)
        data = np.concatenate(frames, axis=1) if frames else np.zeros((1, 0))
        if data.dtype.kind == "i":
            data = data / float(np.iinfo(data.dtype).max)
        return data.T.astype(np.float32), sr
    except Exception as error:  # PyAV raises many kinds for broken files
        raise TunesmithError(f"{path.name} is not readable audio: {error}") from error


def caption_audio(path_or_array: str | Path | np.ndarray, sr: int | None = None, *, focus: str | None = None,
                  title: str | None = None) -> Caption:
    """Caption audio: tempo, meter, key, loudness from the signal; chords, texture, range and form
    from the basic-pitch transcription; the key combines the chroma's and the notes' evidence.

    Raises:
        TunesmithError: unreadable, silent, too short or malformed audio.
    """
    from tools.music import analysis
    from tools.music.analysis.key import key_from_profile, pitch_class_histogram, chroma_profile, final_bass_from_audio
    from tools.music.analysis.meter import estimate_meter
    from tools.music.analysis.musicness import music_evidence
    from tools.music.analysis.signal import ANALYSIS_RATE, to_mono
    from tools.music.analysis.timbre import estimate_instruments
    from tools.music.analysis.transcribe import events_to_notes, transcribe
    from tools.music.analysis.vocals import detect_vocals
    from tools.music.song import Track

    if isinstance(path_or_array, (str, Path)):
        path = Path(path_or_array)
        y, sr = load_audio(path)
        title = title or path.stem
    else:
        if sr is None:
            raise TunesmithError("caption_audio needs the sample rate with an array")
        y = path_or_array
    mono = to_mono(y, sr, min_seconds=2.0)
    duration = len(mono) / ANALYSIS_RATE
    refusal = music_evidence(mono, ANALYSIS_RATE).refusal()
    if refusal:
        raise TunesmithError(f"This does not sound like music: {refusal}",
                             hint="caption_music describes songs and pieces, not speech or noise")
    events = transcribe(mono, ANALYSIS_RATE)
    if len(events) < 4:
        raise TunesmithError("No musical notes were heard in the audio", hint="is it music? speech and noise have no notes")
    tempo = analysis.estimate_tempo(mono, ANALYSIS_RATE)
    meter = estimate_meter(mono, ANALYSIS_RATE, bpm=tempo.bpm)
    notes = events_to_notes(events, tempo.bpm)
    # key: chroma and transcribed notes both vote (each profile correlation in −1..1)
    chroma = chroma_profile(mono, ANALYSIS_RATE)
    hist = pitch_class_histogram(notes)
    combined = chroma / max(chroma.sum(), 1e-9) + hist / max(hist.sum(), 1e-9)
    key = key_from_profile(combined, final_bass_pc=final_bass_from_audio(mono, ANALYSIS_RATE))
    loud = analysis.measure_loudness(y, sr)
    song = Song(title=title or "audio", key=key.key, tempo_bpm=tempo.bpm, meter=meter.meter,
                melody=Track(name="Transcribed", program=0, role="comp", notes=notes))
    heard = estimate_instruments(mono, ANALYSIS_RATE)
    # attacks counted in the signal, not the transcription's notes: basic-pitch splits and doubles
    # notes (5.5-6 per second on Tunesmith songs whose MIDI has 2.4-4.5)
    pattern = rhythm_pattern(mono, ANALYSIS_RATE, tempo.beats)
    genre_guess = guess_genre_from_audio(audio_features(
        bpm=tempo.bpm, meter=meter.meter, minor=parse_key(key.key).mode == "minor", onsets_per_s=pattern.onsets_per_s,
        timbre_probabilities=heard.mean_probabilities, pattern=pattern.features)) if heard.mean_probabilities else None
    instruments = heard.instruments(confidence_word) or [{"name": _register_words(events), "share": 1.0, "confidence": 0.3}]
    return describe_notes(song, source="audio", key_estimate=key,
                          tempo=_tempo_attribute(tempo, beats_s=list(tempo.beats[:512])),
                          meter={"meter": meter.meter, "confidence": meter.confidence}, duration_s=duration,
                          instruments=instruments, vocals=detect_vocals(mono, ANALYSIS_RATE).as_attribute(),
                          drums=heard.drums_attribute() if heard.drums is not None else None,
                          melodic_range=_top_line_range(events, flats=parse_key(key.key).uses_flats),
                          extra={"loudness": {"integrated_lufs": loud.integrated_lufs,
                                              "true_peak_dbfs": loud.true_peak_dbfs,
                                              "loudness_range_lu": loud.loudness_range_lu,
                                              "peak_to_loudness_db": loud.peak_to_loudness_db},
                                 "title": title, "transcribed_notes": len(events)}, focus=focus,
                          onsets_per_s=pattern.onsets_per_s, genre_guess=genre_guess)


def _register_words(events) -> str:
    """An honest audio 'instrument' estimate: the pitched register of the transcription."""
    pitches = np.array([e.pitch for e in events])
    low, high = np.percentile(pitches, 10), np.percentile(pitches, 90)
    parts = []
    if low < 48:
        parts.append("bass-register")
    if high > 72:
        parts.append("treble-register")
    if not parts:
        parts.append("mid-register")
    return " and ".join(parts) + " pitched instruments"


TOP_LINE_GRID_S = 0.05  # the skyline is sampled every 50 ms
TOP_LINE_DROP = 12  # a top note an octave off the local top line is not melody (a rest, or an overtone)


def _top_line_range(events, *, flats: bool = False) -> dict | None:
    """Range of the transcription's top line (its skyline), not of every note: a band's bass and
    chords would otherwise span five octaves. Where the top falls an octave below its running
    median (±2 s) the melody rests and the accompaniment shows through; where it jumps an octave
    above, an overtone was transcribed (overdriven guitar); those moments are dropped, and the
    2nd–98th percentiles of what is left bound the range."""
    from scipy.ndimage import median_filter

    if not events:
        return None
    end = max(e.end_s for e in events)
    top = np.full(int(end / TOP_LINE_GRID_S) + 1, -1.0)
    for e in events:
        a, b = int(e.start_s / TOP_LINE_GRID_S), max(int(e.end_s / TOP_LINE_GRID_S), int(e.start_s / TOP_LINE_GRID_S) + 1)
        top[a:b] = np.maximum(top[a:b], e.pitch)
    top = top[top >= 0]
    if not len(top):
        return None
    running = median_filter(top, size=int(4.0 / TOP_LINE_GRID_S) + 1, mode="nearest")
    line = top[np.abs(top - running) <= TOP_LINE_DROP]
    low, high = (int(round(v)) for v in np.percentile(line, [2, 98]))
    return {"lowest": note_name(low, flats=flats), "highest": note_name(high, flats=flats),
            "semitones": high - low, "method": "top line of the transcription"}
