"""Catalogue records for the music21 corpus from its metadata bundle, ABC headers and text scans.

No score is parsed: the metadata bundle (~2 s) gives signature, meter, ambitus, note and part counts;
ABC headers give key with mode, rhythm and tempo; MusicXML/Humdrum text scans give the final bass
note, words and part names. All 15k entries take well under a minute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

from tools.music.theory import Key, note_name_to_pc, parse_meter

from retrieval.abc_headers import AbcTune, meter_from_abc, read_abc_tunes
from retrieval.describe import caption, data_file, estimate_energy, instrument_families, pick_mode, summary
from retrieval.score_scan import scan_score
from retrieval.track import TrackRecord

_AMBITUS_NOTE = re.compile(r"^([A-G])([#\-]*)(-?\d+)$")
_DANCE_WORDS = ("slip jig", "double jig", "single jig", "set dance", "highland fling", "reel", "jig",
                "hornpipe", "strathspey", "clog", "waltz", "polka", "march", "air", "schottische", "quickstep")


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _midi_of(name: str | None, default: int) -> int:
    if not name:
        return default
    match = _AMBITUS_NOTE.match(str(name))
    if not match:
        return default
    letter, accidentals, octave = match.groups()
    pc = note_name_to_pc(letter) + accidentals.count("#") - accidentals.count("-")
    return max(0, min(127, 12 * (int(octave) + 1) + pc))


def _source_path(entry) -> str:
    metadata = entry.metadata
    return str((metadata.sourcePath if metadata is not None else None) or entry.sourcePath or "")


def collection_info(collection: str) -> dict:
    table = data_file("collections.json")
    return table.get(collection, table["_default"])


def _dance_genre(*texts: str | None) -> str | None:
    for text in texts:
        lowered = (text or "").lower().replace("-", " ")
        for word in _DANCE_WORDS:
            if re.search(rf"\b{word}s?\b", lowered):
                return word
    return None


def _tempo_from_words(notes: list[str]) -> float | None:
    words = data_file("tempo_words.json")["words"]
    for note in notes:
        lowered = note.lower()
        for word in sorted(words, key=len, reverse=True):
            if re.search(rf"\b{re.escape(word)}\b", lowered):
                return float(words[word])
    return None


def _spell(pc: int, mode: str) -> str:
    family = "minor" if mode in ("minor", "dorian", "phrygian", "aeolian", "locrian") else "major"
    return Key(pc % 12, family).tonic_name


def _clean_title(title: str) -> str:
    # Ryan's titles carry the dance type: "DANDY MIKE'S -- REEL.", "Night Of Fun -- Jig., The"
    title = re.sub(r"\s*--\s*[A-Za-z .'\-]+?\.?(?=,|$)", "", title.strip().strip('"'))
    return title.title() if title.isupper() else title


def record_from_metadata(entry, root: Path, abc_cache: dict[str, dict[int, AbcTune]]) -> TrackRecord | None:
    """One catalogue record from a metadata-bundle entry (None when the entry names no file)."""
    metadata = entry.metadata
    rel = _source_path(entry)
    if not rel or metadata is None:
        return None
    path = root / rel
    collection = rel.split("/")[0]
    info = collection_info(collection)
    number = int(entry.number) if str(entry.number or "").isdigit() else None
    sharps_list = list(metadata.keySignatures or [])
    sharps = int(sharps_list[0]) if sharps_list else None
    meters = list(metadata.timeSignatures or [])
    meter = meters[0] if meters else None
    ambitus = metadata.ambitus
    record = TrackRecord(
        uid=f"corpus:{rel}" + (f"#{number}" if number is not None else ""), source="corpus", path=rel,
        number=number, title=str(metadata.bestTitle or metadata.title or metadata.movementName or Path(rel).stem),
        collection=collection, composer=info.get("composer", "") or str(metadata.composer or ""),
        genre=info["genre"], region=info["region"], era=info["era"],
        locale=str(metadata.localeOfComposition or ""), sharps=sharps, meter=meter,
        parts=int(metadata.numberOfParts or 1), note_count=int(metadata.noteCount or 0),
        ambitus=int(ambitus.semitones) if ambitus else 0,
        pitch_low=_midi_of(getattr(ambitus, "pitchLowest", None), 60),
        pitch_high=_midi_of(getattr(ambitus, "pitchHighest", None), 72),
        instruments=list(info.get("instruments", [])),
    )
    bars = 0
    tempo: float | None = None
    if path.suffix.lower() == ".abc":
        tunes = abc_cache.get(rel)
        if tunes is None:
            tunes = abc_cache[rel] = read_abc_tunes(path) if path.is_file() else {}
        tune = tunes.get(number) if number is not None else next(iter(tunes.values()), None)
        if tune is not None:
            tonic, mode = tune.tonic_mode
            record.tonic, record.mode = tonic, mode
            record.meter = meter_from_abc(tune.meter) or record.meter
            record.genre = _dance_genre(tune.rhythm, tune.title) or record.genre
            record.title = _clean_title(tune.title or record.title)
            record.locale = record.locale or (tune.origin or "")
            tempo = tune.quarter_bpm() or _tempo_from_words(tune.notes)
            bars = tune.bars
            record.has_lyrics = tune.has_words
    else:
        scan = scan_score(path)
        if scan is not None:
            if sharps is not None and any(scan.pc_counts):
                tonic_pc, mode = pick_mode(sharps, scan.pc_counts, scan.final_bass_pc)
                record.tonic, record.mode = _spell(tonic_pc, mode), mode
            record.has_lyrics = scan.has_lyrics
            named = instrument_families(scan.part_names)
            if named:
                record.instruments = named
            bars = scan.bars
        if collection == "bach":
            record.title = "Chorale BWV " + Path(rel).stem.removeprefix("bwv")
        if metadata.movementName and collection in ("palestrina", "josquin"):
            record.title = f"{metadata.movementName} ({record.title})" if record.title else str(metadata.movementName)
    record.title = _clean_title(record.title) or Path(rel).stem
    if tempo is None:
        tempo = float(data_file("tempo_words.json")["genres"].get(record.genre, info["tempo"]))
        record.tempo_known = False
    else:
        record.tempo_known = True
    record.tempo_bpm = float(tempo)
    beats_per_bar = record.beats_per_bar
    if bars > 0:
        quarter_length = bars * beats_per_bar
    else:
        quarter_length = max(8.0, record.note_count / max(1, record.parts))
    record.duration_s = round(max(5.0, quarter_length * 60.0 / record.tempo_bpm), 1)
    if record.meter:
        try:
            parse_meter(record.meter)
        except Exception:
            record.meter = None
    record.energy = estimate_energy(record)
    record.caption = caption(record, info["name"])
    record.summary = summary(record, info["name"])
    return record


def corpus_records(*, collections: set[str] | None = None, limit: int | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Iterator[TrackRecord]:
    """Records for the music21 corpus (optionally only some collections, or the first ``limit``)."""
    from music21 import corpus

    bundle = corpus.corpora.CoreCorpus().metadataBundle
    root = corpus_root()
    # MetadataBundle.__iter__ indexes a fresh list per item (quadratic: 22 s for 15k entries)
    all_entries = list(getattr(bundle, "_metadataEntries", {}).values()) or list(bundle)
    entries = [e for e in all_entries
               if collections is None or _source_path(e).split("/")[0] in collections]
    if limit is not None:
        entries = entries[:limit]
    abc_cache: dict[str, dict[int, AbcTune]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        record = record_from_metadata(entry, root, abc_cache)
        if record is not None and record.uid not in seen:
            seen.add(record.uid)
            yield record
        if progress is not None and (index % 250 == 0 or index == len(entries) - 1):
            progress(index + 1, len(entries))
