"""Where a song to restyle comes from: a song artifact, MIDI, MusicXML/ABC, or audio.

Symbolic files go through the foundation's readers; audio is transcribed with basic-pitch (ONNX)
and its tempo estimated from the audio. Whatever the source, the result is a Song with a
monophonic melody (the vocal or top line), chords per bar and sections to address.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.guards import FileKind, check_note_count
from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.music.theory import chord_symbol, parse_key

SECTION_BARS = 8
ALLOWED = (FileKind.MIDI, FileKind.MUSICXML, FileKind.ABC, FileKind.AUDIO)


@dataclass
class Loaded:
    song: Song
    origin: str  # artifact | midi | musicxml | abc | audio
    parent_id: str | None = None
    notes: list[str] | None = None  # what was inferred (for the summary)


def skyline(notes: list[Note]) -> list[Note]:
    """A monophonic top line: at each onset the highest note, cut where the next one starts."""
    by_start: dict[float, Note] = {}
    for n in notes:
        key = round(n.start, 3)
        if key not in by_start or n.pitch > by_start[key].pitch:
            by_start[key] = n
    line = [by_start[k] for k in sorted(by_start)]
    out: list[Note] = []
    for i, n in enumerate(line):
        if i + 1 < len(line) and n.end > line[i + 1].start:
            n = n.model_copy(update={"duration": round(max(line[i + 1].start - n.start, 0.05), 4)})
        out.append(n)
    return out


def bar_chords(song: Song, notes: list[Note]) -> list[str]:
    """One diatonic triad per bar, the one whose tones cover most of the bar's sounding time."""
    key = parse_key(song.key)
    scale = key.scale
    candidates = []
    for degree in range(7):
        root, third, fifth = scale[degree], scale[(degree + 2) % 7], scale[(degree + 4) % 7]
        quality = {(4, 7): "", (3, 7): "m", (3, 6): "dim"}.get(((third - root) % 12, (fifth - root) % 12), "")
        candidates.append((chord_symbol(root, quality, key), {root, third, fifth}, degree))
    bar = song.beats_per_bar
    bars = max(1, song.total_bars or int(-(-song.duration_beats // bar)))
    chords = []
    for b in range(bars):
        weights = np.zeros(12)
        for n in notes:
            overlap = min(n.end, (b + 1) * bar) - max(n.start, b * bar)
            if overlap > 0:
                weights[n.pitch % 12] += overlap * (1.5 if n.pitch < 60 else 1.0)
        if not weights.any():
            chords.append(chords[-1] if chords else candidates[0][0])
            continue
        best = max(candidates, key=lambda c: (sum(weights[p] for p in c[1]), c[2] in (0, 3, 4)))
        chords.append(best[0])
    return chords


def with_sections(song: Song) -> Song:
    """An imported song split into addressable 8-bar sections with chords per bar."""
    notes = [n for t in song.all_tracks() if not t.is_drum for n in t.notes]
    has_chords = any(c.strip() for s in song.sections for c in s.chords)
    if len(song.sections) > 1 and has_chords:
        return song
    bar = song.beats_per_bar
    bars = max(1, int(-(-song.duration_beats // bar)))
    probe = song.model_copy(update={"sections": [Section(name="song", kind="verse", start_bar=0, bars=bars)]})
    chords = bar_chords(probe, notes) if not has_chords else (song.sections[0].chords + [""] * bars)[:bars]
    chords = [c or (chords[i - 1] if i else "C") for i, c in enumerate(chords)]
    sections, counts = [], {"verse": 0, "chorus": 0}
    for i, start in enumerate(range(0, bars, SECTION_BARS)):
        kind = "verse" if i % 2 == 0 else "chorus"
        counts[kind] += 1
        length = min(SECTION_BARS, bars - start)
        sections.append(Section(name=f"{kind} {counts[kind]}", kind=kind, start_bar=start, bars=length,
                                chords=chords[start:start + length], energy=0.5 if kind == "verse" else 0.85))
    return song.model_copy(update={"sections": sections})


def melody_of(song: Song) -> Song:
    """The melody as a monophonic line: the melody/vocal track's, else the top line of all parts."""
    if song.melody.notes:
        line = skyline(song.melody.notes)
        tracks = song.tracks
    else:
        pitched = [n for t in song.tracks if not t.is_drum for n in t.notes]
        if not pitched:
            raise TunesmithError("The source has no pitched notes", hint="give a song with a melody")
        line = skyline(pitched)
        tracks = song.tracks
    melody = Track(name="Vocals", program=song.melody.program, role="melody", notes=line)
    return song.model_copy(update={"melody": melody, "tracks": tracks})


def transcribe(path: Path, *, max_seconds: float) -> Song:
    """Audio → Song: basic-pitch notes, tempo from the audio, key from the notes (both by
    caption_music's estimators), top line as melody."""
    from tools.music.analysis import estimate_key_from_notes
    from tools.music.resources import basic_pitch_onnx_path

    model = basic_pitch_onnx_path()
    if model is None:
        raise TunesmithError("Audio sources need basic-pitch", hint="pip install --no-deps basic-pitch onnxruntime")
    import librosa

    try:
        duration = librosa.get_duration(path=str(path))
    except Exception as error:  # soundfile/audioread raise many types
        raise TunesmithError(f"{path.name} is not readable audio: {error}") from error
    if duration > max_seconds:
        raise TunesmithError(f"{path.name} lasts {duration:.0f} s; the limit is {max_seconds:.0f} s")
    y, sr = librosa.load(str(path), sr=22050, mono=True)
    if np.abs(y).max() > 0:  # silence is left to the transcription's "no notes were heard"
        from tools.music.analysis.musicness import music_evidence

        refusal = music_evidence(y, sr).refusal()
        if refusal:
            raise TunesmithError(f"{path.name} does not sound like music: {refusal}",
                                 hint="style transfer re-arranges a song, a tune or a recording of music")
    # deferred: basic_pitch pulls in onnxruntime and resampy
    from basic_pitch.inference import predict

    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # basic-pitch prints progress; --json output must stay clean
        _, _, events = predict(str(path), model_or_model_path=str(model))
    if not events:
        raise TunesmithError(f"No notes were heard in {path.name}", hint="a clearer recording of the tune helps")
    tempo = _tempo(y, sr)
    spb = 60.0 / tempo
    notes = [Note(pitch=int(p), start=round(float(s) / spb, 4), duration=round(max(float(e - s) / spb, 0.05), 4),
                  velocity=int(min(127, max(1, 40 + 87 * float(a))))) for s, e, p, a, *_ in events]
    line = skyline(notes)
    key = estimate_key_from_notes(notes).key  # caption_music's key estimator, on every heard note
    rest = [n for n in notes if n not in line]
    song = Song(title=path.stem, key=key, tempo_bpm=round(tempo, 2), meter="4/4",
                melody=Track(name="Vocals", program=53, role="melody", notes=line),
                tracks=[Track(name="Transcribed", program=0, role="comp", notes=rest)] if rest else [])
    return song


def _tempo(y: np.ndarray, sr: int) -> float:
    """caption_music's tempo estimator, folded into the range a hummed or played tune lives in."""
    from tools.music import analysis

    tempo = float(analysis.estimate_tempo(y, sr).bpm)
    while tempo > 160:  # beat trackers double the tempo of plain tunes; a hummed line is rarely this fast
        tempo /= 2
    if not 40 <= tempo <= 220:
        tempo = 100.0
    return tempo


def _song_json(path: Path, ctx) -> Song:
    """A song.json written by Tunesmith (the project state), size-checked and validated."""
    limit = int(getattr(ctx.settings, "max_upload_bytes", 100 * 1024 * 1024))
    if path.stat().st_size > limit:
        raise TunesmithError(f"{path.name} is larger than the {limit // (1024 * 1024)} MB limit")
    try:
        song = Song.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise TunesmithError(f"{path.name} is not a Tunesmith song.json: {str(error)[:200]}") from error
    if not song.sections or not any(t.notes for t in song.all_tracks()):
        raise TunesmithError(f"The song in {path.name} is empty", hint="it needs sections and notes")
    return song


def load_source(ctx, source: str) -> Loaded:
    """Resolve ``source`` (artifact id or path) into a Song ready to restyle or edit.

    Raises:
        TunesmithError: unknown artifact, unsupported or unreadable file, empty song.
    """
    path = Path((source or "").strip()).expanduser()
    if path.suffix.lower() == ".json" and path.is_file():
        return Loaded(song=_song_json(path, ctx), origin="song.json")
    resolved = ctx.resolve_source(source, allowed=ALLOWED)
    if resolved.song is not None:
        song, origin = resolved.song, "artifact"
    elif resolved.kind == FileKind.MIDI:
        song, origin = Song.from_midi(resolved.path), "midi"
    elif resolved.kind in (FileKind.MUSICXML, FileKind.ABC):
        song, origin = Song.from_musicxml(resolved.path), resolved.kind.value
    elif resolved.kind == FileKind.AUDIO:
        song, origin = transcribe(resolved.path, max_seconds=float(getattr(ctx.settings, "max_audio_seconds", 600))), "audio"
    else:
        raise TunesmithError(f"{source} is not a song, MIDI, MusicXML, ABC or audio file")
    if not any(t.notes for t in song.all_tracks()):
        raise TunesmithError("The song is empty: it has no notes", hint="give a song with a melody")
    check_note_count(song, resolved.artifact_id or resolved.path.name, max_notes=ctx.settings.max_score_notes)
    if origin != "artifact":
        song = with_sections(melody_of(song))
    return Loaded(song=song, origin=origin, parent_id=resolved.artifact_id)
