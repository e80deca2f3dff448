"""Song ⇄ MusicXML lead sheet (melody, lyrics, chord symbols) through music21.

music21 is imported inside the functions: it costs about a second to import and most callers
never write a lead sheet.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.music.theory import parse_chord, parse_key

UNMARKED_TEMPO_BPM = 100.0  # a score with no metronome mark is read at this quarter-note tempo


def _quarter_length(beats: float) -> Fraction:
    # Composer output lies on a 1/12-beat grid (16ths and triplets); snapping keeps music21's
    # notation from inventing 1/1024 tuplets out of float noise.
    return Fraction(round(beats * 12), 12)


def _music21_chord_symbol(symbol: str):
    """A fresh ChordSymbol for ``symbol``: a copy of the first one built (music21 spells a chord's
    pitches in ~10 ms; a song repeats a handful of chords dozens of times)."""
    import copy

    return copy.deepcopy(_chord_symbol_template(symbol))


@lru_cache(maxsize=256)
def _chord_symbol_template(symbol: str):
    from music21 import harmony

    chord = parse_chord(symbol)
    root = symbol[: 2 if len(symbol) > 1 and symbol[1] in "#b" else 1].replace("b", "-")
    kind = symbol[len(root):].split("/")[0]
    text = root + kind
    if chord.bass != chord.root:
        text += "/" + symbol.split("/")[1].replace("b", "-")
    try:
        return harmony.ChordSymbol(text)
    except Exception:  # music21 knows fewer qualities than we do: keep the triad it can spell
        return harmony.ChordSymbol(root + ("m" if chord.is_minor else ""))


def song_to_score(song: Song):
    """A music21 Score of the lead sheet: one part, melody with lyrics, chord symbols above."""
    from music21 import key as m21key
    from music21 import meter, note, stream, tempo

    parsed_key = parse_key(song.key)
    part = stream.Part(id="melody")
    part.partName = song.melody.name or "Melody"
    part.insert(0, m21key.Key(parsed_key.tonic_name.replace("b", "-"), parsed_key.mode))
    part.insert(0, meter.TimeSignature(song.meter))
    part.insert(0, tempo.MetronomeMark(number=round(song.tempo_bpm, 2)))
    notes = sorted(song.melody.notes, key=lambda n: n.start)
    for index, item in enumerate(notes):
        end = item.end if index + 1 >= len(notes) else min(item.end, notes[index + 1].start)
        m21note = note.Note(item.pitch, quarterLength=_quarter_length(end - item.start))
        m21note.volume.velocity = item.velocity
        if item.syllable:
            m21note.lyric = item.syllable.rstrip("-")
            lyric = m21note.lyrics[0]
            continues = item.syllable.endswith("-")
            begins = index == 0 or not (notes[index - 1].syllable or "").endswith("-")
            lyric.syllabic = {(True, True): "begin", (False, True): "middle",
                              (True, False): "single", (False, False): "end"}[(begins, continues)]
        part.insert(_quarter_length(item.start), m21note)
    for span in song.chord_timeline():
        part.insert(_quarter_length(span.start), _music21_chord_symbol(span.symbol))
    total = _quarter_length(song.duration_beats)
    score = stream.Score()
    score.metadata = _metadata(song.title)
    score.insert(0, part)
    part.makeRests(fillGaps=True, inPlace=True, refStreamOrTimeRange=(0, total))
    score.makeNotation(inPlace=True)  # in place: a copy of a 3-minute score costs ~0.4 s
    return score


def _metadata(title: str):
    from music21 import metadata

    meta = metadata.Metadata()
    meta.title = title
    return meta


def write_musicxml(song: Song, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    # What ``score.write("musicxml")`` does, minus its first step: a deep copy of the whole score
    # (to fill gaps with rests, which song_to_score did already), ~0.4 s for three minutes.
    score = song_to_score(song)
    exporter = GeneralObjectExporter(score)
    path.write_bytes(exporter.parseWellformedObject(exporter.fromScore(score)))
    return path


def read_musicxml(path: Path) -> Song:
    """Read MusicXML, MXL or ABC: the first part with notes is the melody; other parts are tracks.

    Raises:
        TunesmithError: when music21 cannot parse the file.
    """
    return read_score(path)[0]


def read_score(path: Path) -> tuple[Song, bool]:
    """`read_musicxml`, and whether the score marks a tempo (when not, the Song's tempo is
    UNMARKED_TEMPO_BPM, an assumption a caption must not pass off as the file's)."""
    from music21 import converter

    try:
        score = converter.parse(str(path))
    except Exception as error:  # music21 raises many unrelated types for bad files
        reason = str(error).split(". ")[0][:200]  # its messages go on to dump parser internals
        raise TunesmithError(f"{path.name} is not a readable score: {reason}") from error
    return _convert(score, path.stem)


def _marked_tempo(score) -> float | None:
    """The first metronome mark's quarter-note BPM, None when the score marks none."""
    from music21 import tempo

    marks = list(score.flatten().getElementsByClass(tempo.MetronomeMark))
    return float(marks[0].getQuarterBPM()) if marks and marks[0].number else None


def score_to_song(score, *, title: str = "Untitled") -> Song:
    """Convert a parsed music21 Score (or Part/Opus) to a Song."""
    return _convert(score, title)[0]


def _convert(score, title: str) -> tuple[Song, bool]:
    """`score_to_song`, and whether the score marks its tempo."""
    from music21 import harmony, meter, stream

    if isinstance(score, stream.Opus):
        score = score.scores[0]
    if score.metadata is not None and score.metadata.title:
        title = score.metadata.title
    parts = list(score.parts) if hasattr(score, "parts") and score.parts else [score]
    if not any(part.flatten().notes for part in parts):
        raise TunesmithError("The score holds no notes")  # music21's key analysis would crash on it
    flat_first = parts[0].flatten()
    marked = _marked_tempo(score)
    bpm = UNMARKED_TEMPO_BPM if marked is None else marked
    signatures = list(flat_first.getElementsByClass(meter.TimeSignature))
    time_signature = signatures[0].ratioString if signatures else "4/4"
    song_key = str(_score_key(score))
    tracks: list[Track] = []
    for index, part in enumerate(parts):
        notes = _part_notes(part)
        if notes:
            name = part.partName or f"Part {index + 1}"
            tracks.append(Track(name=name, program=_program_of(part), role="comp", notes=notes))
    if not tracks:
        raise TunesmithError("The score holds no notes")
    melody = tracks.pop(0)
    melody.role = "melody"
    song = Song(title=title, key=song_key, tempo_bpm=bpm, meter=time_signature, melody=melody, tracks=tracks)
    chords = [(float(c.offset), c.figure) for c in flat_first.getElementsByClass(harmony.ChordSymbol)
              if not isinstance(c, harmony.NoChord)]
    song.sections = [_single_section(song, chords)]
    return song, marked is not None


def _score_key(score):
    """The notated key, unless the music clearly ends in another one.

    Old scores often notate minor keys with one flat fewer (Dorian signatures, as in many Bach
    chorales): when the analysed key's tonic is the final bass note and the signature disagrees,
    the analysis wins. Otherwise the signature's major or minor reading is chosen by analysis.
    """
    from music21 import key as m21key

    analysed = score.analyze("key")
    signatures = list(score.flatten().getElementsByClass(m21key.KeySignature))
    if not signatures:
        return _key_text(analysed)
    signature = signatures[0]
    candidates = [signature.asKey("major"), signature.asKey("minor")]
    if isinstance(signature, m21key.Key) and signature.mode in ("major", "minor"):
        candidates = [signature]
    matches = lambda k, c: k.tonic.name == c.tonic.name and k.mode == c.mode  # noqa: E731
    has_bass_part = len(getattr(score, "parts", [])) > 1
    if has_bass_part and not any(matches(analysed, c) for c in candidates) \
            and _final_bass_pc(score) == analysed.tonic.pitchClass:
        return _key_text(analysed)
    for option in [analysed, *analysed.alternateInterpretations]:
        for candidate in candidates:
            if matches(option, candidate):
                return _key_text(candidate)
    return _key_text(candidates[0])


def _final_bass_pc(score) -> int | None:
    last_pitches = []
    for part in getattr(score, "parts", [score]):
        notes = list(part.flatten().getElementsByClass(("Note", "Chord")).getElementsNotOfClass("ChordSymbol"))
        if notes:
            last_pitches.extend(p.midi for p in notes[-1].pitches)
    return min(last_pitches) % 12 if last_pitches else None


def _key_text(m21key) -> str:
    tonic = m21key.tonic.name.replace("-", "b")
    return str(parse_key(f"{tonic} {m21key.mode if m21key.mode in ('major', 'minor') else 'major'}"))


def _program_of(part) -> int:
    from music21 import instrument

    found = part.getInstrument(returnDefault=False)
    if isinstance(found, instrument.Instrument) and found.midiProgram is not None:
        return int(found.midiProgram)
    return 0


def _part_notes(part) -> list[Note]:
    """The part's sounding notes, a tied chain read as one note.

    Ties are joined here rather than by music21's ``stripTies``: it re-sorts the part for every
    chain it joins, which took 30 s of the 33 s that Beethoven's Grosse Fuge (opus133.mxl, 8,892
    notes) needed to read; one pass over the flat part gives the same notes in a second.
    """
    from music21 import chord as m21chord
    from music21 import harmony
    from music21 import note as m21note

    notes: list[Note] = []
    open_ties: dict[int, int] = {}  # MIDI pitch → index in notes of the chain it continues
    line = 0
    for element in part.flatten().notes:
        start, length = float(element.offset), float(element.quarterLength)
        if length <= 0 or isinstance(element, harmony.ChordSymbol):
            continue  # grace notes have no duration of their own
        members = list(element.notes) if isinstance(element, m21chord.Chord) else [element]
        velocity = element.volume.velocity or 90
        syllable = None
        if isinstance(element, m21note.Note) and element.lyrics:
            lyric = element.lyrics[0]
            syllable = lyric.text + ("-" if lyric.syllabic in ("begin", "middle") else "")
        for member in members:
            midi = int(member.pitch.midi)
            tie = member.tie or (element.tie if len(members) == 1 else None)
            continues = tie is not None and tie.type in ("start", "continue")
            chained = open_ties.pop(midi, None)
            # a chain goes on with the next note of its pitch that starts where it ends, tie mark or
            # not: Monteverdi's parts mark only the start (as stripTies reads them too)
            if chained is not None and abs(notes[chained].start + notes[chained].duration - start) < 1e-3:
                notes[chained].duration += length
                if continues:
                    open_ties[midi] = chained
                continue
            notes.append(Note(pitch=midi, start=start, duration=length, velocity=int(velocity),
                              syllable=syllable, line=line if syllable else None))
            syllable = None
            if continues:
                open_ties[midi] = len(notes) - 1
    return notes


def _single_section(song: Song, chords: list[tuple[float, str]]) -> Section:
    bar = song.beats_per_bar
    bars = max(1, int(-(-song.duration_beats // bar)))
    per_bar: list[list[str]] = [[] for _ in range(bars)]
    for offset, figure in chords:
        symbol = figure.replace("-", "b")
        try:
            parse_chord(symbol)
        except TunesmithError:
            continue
        index = int(offset // bar)
        if 0 <= index < bars:
            per_bar[index].append(symbol)
    lyrics = []
    return Section(name="song", kind="song", start_bar=0, bars=bars,
                   chords=[" ".join(b) for b in per_bar] if chords else [], lyrics=lyrics)
