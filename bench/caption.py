"""Caption benchmark: render music21 corpus pieces with FluidSynth and score what we measure.

    .venv/bin/python bench/caption.py [--set tuning|heldout|both] [--per-collection N] [--seconds 90]
                                      [--no-audio] [--no-symbolic] [--full] [--verbose] [--ranker]

Two disjoint sets: TUNING (the collections the estimators' constants were chosen on) and HELDOUT
(other collections and composers, never looked at while tuning). Both are reported separately;
a change that helps the tuning set and not the held-out one is overfitting.

Truth: the key is the notated key as `Song.from_musicxml` reads it (the key signature, its major or
minor reading chosen by music21's analysis; Dorian-signature chorales follow the final bass note),
with three corrections made here (see `true_key` and `modal_key`): a file that names a church mode
("K:G dorian") is in that tonic, major or minor by the mode's third; the rule that lets music21's
analysis outvote the signature when the music ends on the analysed tonic applies to one-part
scores too; and modal polyphony (MODAL_COLLECTIONS), whose signature names no key, is in the mode
of its final, as modal theory defines it.
The meter is the notated time signature, the tempo is the quarter-note tempo *we* set (seeded, 60–150
BPM) when rendering. Pieces are rendered and scored whole, because every truth here (above all the
key) belongs to the whole piece: a 90 s cut of a sonata movement may end in its dominant, and its
key then has no right answer. ``--seconds N`` cuts longer pieces to N seconds (the default until
2026-11-29 was 90, for speed: 88 whole pieces are 190 minutes of audio); with a cut, the symbolic key
of the audio's excerpt is printed beside the whole file's.
Chords are compared with music21's `chordify` + root/quality per beat where the piece has several voices.

Prints, for the audio path and the symbolic path: key exact accuracy and MIREX weighted score
(mir_eval), the exact count also split into complete pieces and cut excerpts (an excerpt ends
wherever the cut fell, so cadence evidence misleads there and helps on whole pieces), tempo Acc1
(±4 %) and Acc2 (also ×2, ×3, ×½, ×⅓), Acc1 counting the second tempo the caption states when the
ranker is unsure ("it can also be counted at …"), meter accuracy, chord accuracy, and seconds of analysis per
minute of audio. The machine is shared with other work: times are noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tools.config import prepare_environment  # noqa: E402

TUNING = {  # collection → how many pieces by default (different styles, meters and textures)
    "bach": 14, "essenFolksong": 10, "oneills1850": 8, "airdsAirs": 6, "ryansMammoth": 6,
    "miscFolk": 4, "monteverdi": 3, "mozart": 2, "haydn": 2, "beethoven": 2,
}
HELDOUT = {  # no collection or composer in common with TUNING
    "nottingham-dataset": 3, "palestrina": 4, "trecento": 2, "josquin": 2, "schumann_robert": 3,
    "schumann_clara": 3, "leadSheet": 2, "handel": 1, "corelli": 1, "cpebach": 1, "joplin": 1, "schubert": 1,
    "chopin": 1, "verdi": 1, "weber": 1, "beach": 1, "johnson_j_r": 1, "liliuokalani": 1, "lusitano": 1,
}
SETS = {"tuning": TUNING, "heldout": HELDOUT}
RENDER_RATE = 22050


@dataclass
class Piece:
    """One corpus piece cut to a length, with the truth we know about it."""

    ident: str
    collection: str
    song: object  # tools.music.song.Song
    key: str
    meter: str
    tempo: float
    signature: int | None = None  # sharps (+) or flats (−) of the file's first key signature, None if absent
    complete: bool = True  # False when the cut to --seconds dropped the end of the piece
    whole: object = None  # the uncut Song (the symbolic path reads the whole file, as a user's file is whole)


def _select(per_collection: dict[str, int], seed: int = 7) -> list[tuple[str, str, str | None]]:
    from music21 import corpus

    bundle = corpus.corpora.CoreCorpus().metadataBundle
    by_collection: dict[str, list[tuple[str, str | None]]] = {c: [] for c in per_collection}
    for entry in bundle._metadataEntries.values():
        path = str(entry.sourcePath)
        collection = path.split("/")[0]
        if collection in by_collection and not path.endswith(".rntxt"):  # analyses, not music
            by_collection[collection].append((path, entry.number))
    rng = random.Random(seed)
    chosen = []
    for collection, count in per_collection.items():
        items = sorted(by_collection[collection], key=lambda x: (x[0], str(x[1])))
        for path, number in rng.sample(items, min(len(items), count * 3)):  # spares for unparsable ones
            chosen.append((collection, path, number))
    return chosen


def _cut(song, seconds: float):
    from tools.music.song import Song

    limit = seconds / song.seconds_per_beat
    bar = song.beats_per_bar
    limit = max(bar, (limit // bar) * bar)

    def keep(track):
        notes = [n.model_copy(update={"duration": min(n.duration, limit - n.start)}) for n in track.notes
                 if n.start < limit]
        return track.model_copy(update={"notes": notes})

    tracks = [t for t in (keep(t) for t in song.tracks) if t.notes]
    return Song(title=song.title, key=song.key, tempo_bpm=song.tempo_bpm, meter=song.meter,
                melody=keep(song.melody), tracks=tracks)


def _signature(score) -> int | None:
    from music21 import key as m21key, stream

    if isinstance(score, stream.Opus):
        score = score.scores[0]
    found = list(score.flatten().getElementsByClass(m21key.KeySignature))
    return int(found[0].sharps) if found else None


# a church mode's third decides its major/minor label (G dorian → G minor, A mixolydian → A major)
MODE_THIRD = {"ionian": "major", "lydian": "major", "mixolydian": "major",
              "dorian": "minor", "phrygian": "minor", "aeolian": "minor", "locrian": "minor"}


def true_key(score, notated: str) -> str:
    """The bench's key truth: ``notated`` (what `score_to_song` read) with two corrections.

    A file that names its mode is taken at its word: ABC's "K:G dorian" with one flat was read as
    F major (the signature's major reading), yet the transcriber says G is the tonic. And when the
    analysis and the final note agree on a key the signature does not spell, the analysis wins in
    one-part scores as it already does in scores with a bass part: two lead sheets in F with a
    missing key signature (one flat in the melody, F chords, ending on F) read C major.
    """
    from music21 import key as m21key, stream

    from tools.music.theory import parse_key

    if isinstance(score, stream.Opus):
        score = score.scores[0]
    found = list(score.flatten().getElementsByClass(m21key.KeySignature))
    if not found:
        return notated
    first = found[0]
    if isinstance(first, m21key.Key) and first.mode in MODE_THIRD:
        return str(parse_key(f"{first.tonic.name.replace('-', 'b')} {MODE_THIRD[first.mode]}"))
    if len(getattr(score, "parts", [])) > 1:
        return notated  # score_to_song already applied the rule
    analysed = score.analyze("key")
    spelled = {(k.tonic.name, k.mode) for k in (first.asKey("major"), first.asKey("minor"))}
    notes = list(score.flatten().getElementsByClass(("Note", "Chord")).getElementsNotOfClass("ChordSymbol"))
    final = min(p.midi for p in notes[-1].pitches) % 12 if notes else None
    if (analysed.tonic.name, analysed.mode) not in spelled and final == analysed.tonic.pitchClass:
        return str(parse_key(f"{analysed.tonic.name.replace('-', 'b')} {analysed.mode}"))
    return notated


# Renaissance and medieval polyphony: a signature there transposes a mode and names no key (a
# Palestrina Kyrie with one flat ending on G is G Dorian, not F major), so the final decides
MODAL_COLLECTIONS = frozenset({"palestrina", "trecento", "josquin", "monteverdi", "lusitano"})


def modal_key(song) -> str:
    """The mode of a piece's final, as major/minor: the lowest note sounding at the last onset is
    the tonic, and the third above it that sounds longer in the piece decides the mode."""
    from tools.music.analysis.key import final_bass_pitch_class, pitch_class_histogram
    from tools.music.theory import parse_key, pc_name

    notes = [n for t in song.all_tracks() if not t.is_drum for n in t.notes if n.duration > 0]
    final = final_bass_pitch_class(notes)
    time_on = pitch_class_histogram(notes)
    mode = "major" if time_on[(final + 4) % 12] >= time_on[(final + 3) % 12] else "minor"
    return str(parse_key(f"{pc_name(final)} {mode}"))


def load_pieces(per_collection: dict[str, int], seconds: float | None, cache: Path, seed: int = 7) -> list[Piece]:
    """Parse, cut to ``seconds`` (None: whole) and set a tempo for each selected piece (skipping ones
    music21 cannot read).

    Parsed songs are cached as JSON in ``cache``: parsing multi-tune ABC files takes seconds each.
    """
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song
    from tools.music.song import Song

    rng = random.Random(seed)
    pieces: list[Piece] = []
    counts = {c: 0 for c in per_collection}
    for collection, path, number in _select(per_collection, seed):
        if counts[collection] >= per_collection[collection]:
            continue
        stored = cache / ((f"{path}#{number}" if number else path).replace("/", "_").replace("#", "_") + ".json")
        sidecar, truth_file = stored.with_suffix(".sig"), stored.with_suffix(".truth")
        if stored.exists() and sidecar.exists() and (truth_file.exists() or not stored.read_text()):
            text = stored.read_text()
            if not text:
                continue  # known unreadable
            song = Song.from_json(text)
            signature = None if sidecar.read_text() == "none" else int(sidecar.read_text())
            truth = truth_file.read_text()
        else:
            try:
                score = corpus.parse(path, number=int(number)) if number else corpus.parse(path)
                song = score_to_song(score, title=f"{path}#{number}" if number else path)
            except Exception:
                stored.write_text("")
                sidecar.write_text("none")
                continue
            signature = _signature(score)
            truth = true_key(score, song.key)
            stored.write_text(song.to_json())
            sidecar.write_text("none" if signature is None else str(signature))
            truth_file.write_text(truth)
        if not song.melody.notes:
            continue
        if collection in MODAL_COLLECTIONS:
            truth = modal_key(song)
        tempo = float(rng.randint(60, 150))
        song = song.model_copy(update={"tempo_bpm": tempo})
        notes_end = lambda s: max(n.start + n.duration for t in s.all_tracks() for n in t.notes)  # noqa: E731
        uncut = song
        whole = notes_end(song)
        if seconds is not None:
            song = _cut(song, seconds)
        if song.duration_seconds < 8:
            continue
        counts[collection] += 1
        ident = f"{path}#{number}" if number else path
        pieces.append(Piece(ident=ident, collection=collection, song=song, key=truth, meter=song.meter,
                            tempo=tempo, signature=signature, complete=notes_end(song) >= whole - 1e-6,
                            whole=uncut))
    return pieces


def render(piece: Piece, cache: Path) -> np.ndarray:
    """The piece's audio at RENDER_RATE (mono), cached on disk between runs.

    The cache name holds a hash of the notes rendered and of the synth's code: it once held only
    the piece and tempo, so 5 chorales kept audio cut at an older 30 s length while their notes
    (and the symbolic scores) ran to 90 s, and the audio key was judged on music it never heard.
    """
    import soundfile

    import tools.music.synth as synth
    from tools.music.synth import render_song_audio

    content = hashlib.sha256(piece.song.to_json().encode() + Path(synth.__file__).read_bytes()).hexdigest()[:12]
    name = piece.ident.replace("/", "_").replace("#", "_") + f"_{piece.tempo:.0f}_{content}.flac"
    path = cache / name
    if path.exists():
        y, _ = soundfile.read(str(path), dtype="float32")
        return y
    audio = render_song_audio(piece.song, sample_rate=RENDER_RATE)
    y = audio.mean(axis=1) if audio.ndim == 2 else audio
    y = (y / max(1e-6, float(np.max(np.abs(y)))) * 0.8).astype(np.float32)
    soundfile.write(str(path), y, RENDER_RATE)
    return y


def tempo_scores(estimate: float, truth: float) -> tuple[bool, bool]:
    """MIREX-style Acc1 (±4 %) and Acc2 (±4 % of ×1, ×2, ×3, ×½, ×⅓)."""
    ok = lambda f: abs(estimate - truth * f) <= 0.04 * truth * f  # noqa: E731
    return ok(1.0), any(ok(f) for f in (1.0, 2.0, 3.0, 0.5, 1 / 3))


def meter_family(meter: str) -> tuple[float, bool]:
    """Bar length in quarter notes and whether the beat divides in three (2/2 ≡ 4/4, 6/8 ≠ 3/4)."""
    from tools.music.theory import bar_beats, parse_meter

    num, den = parse_meter(meter)
    return bar_beats(meter), den == 8 and num % 3 == 0


def beat_grouping(meter: str) -> str:
    """"triple" when the bar holds a multiple of three quarter-note beats (3/4, 6/8, 3/8 …), else "duple":
    the coarse question a listener answers first (2/4 and 4/4 sound alike without accents)."""
    return "triple" if round(meter_family(meter)[0] * 2) % 3 == 0 else "duple"


def music21_beat_chords(song) -> dict[int, tuple[int, str]]:
    """Reference chords: music21's root and quality of the notes sounding on each beat (≥ 3 pitch classes)."""
    from music21 import chord as m21chord

    notes = [n for t in song.all_tracks() if not t.is_drum for n in t.notes]
    end = int(max(n.start + n.duration for n in notes))
    ref = {}
    for beat in range(end):
        pitches = sorted({n.pitch for n in notes if n.start <= beat + 0.01 < n.start + n.duration})
        if len({p % 12 for p in pitches}) < 3:
            continue
        c = m21chord.Chord(pitches)
        if c.quality in ("major", "minor"):
            ref[beat] = (c.root().pitchClass, c.quality)
    return ref


def chord_accuracy(ref: dict[int, tuple[int, str]], timeline: list, beat_scale: float = 1.0) -> tuple[int, int]:
    """(matches, compared): root and major/minor third of our chord at each reference beat."""
    from tools.music.theory import parse_chord

    hits = total = 0
    for beat, (root, quality) in ref.items():
        at = beat * beat_scale
        span = next((c for c in timeline if c["start_beat"] <= at + 1e-6 < c["start_beat"] + c["beats"]), None)
        total += 1
        if span is None:
            continue
        chord = parse_chord(span["symbol"])
        ours = "minor" if chord.is_minor else "major"
        hits += int(chord.root == root and ours == quality)
    return hits, total


def measure(piece: Piece, cache: Path, *, audio: bool, symbolic: bool, full: bool, ranker: bool = False) -> dict:
    """Everything the bench scores for one piece, as one row (no hints from the truth are given)."""
    from tools.caption.describe import SAY_ALTERNATIVE_TEMPO
    from tools.music import analysis
    from tools.music.analysis.meter import estimate_meter

    row = {"piece": piece.ident, "true_key": piece.key, "meter": piece.meter, "tempo": piece.tempo,
           "complete": piece.complete}
    ref = music21_beat_chords(piece.song)
    if audio:
        y = render(piece, cache)
        row["audio_seconds"] = len(y) / RENDER_RATE
        start = time.perf_counter()
        row["audio_key"] = analysis.estimate_key_from_audio(y, RENDER_RATE).key
        if ranker:
            row["audio_key_ranker"] = analysis.estimate_key_from_audio(y, RENDER_RATE, method="ranker").key
        tempo = analysis.estimate_tempo(y, RENDER_RATE)
        row["audio_tempo"] = tempo.bpm
        said = [b for b, q in tempo.alternatives[:1] if q >= SAY_ALTERNATIVE_TEMPO]
        row["audio_tempo_said"] = said[0] if said else None  # the caption's "can also be counted at"
        row["audio_meter"] = estimate_meter(y, RENDER_RATE, bpm=tempo.bpm).meter
        row["audio_time"] = time.perf_counter() - start
        if full:
            from tools.caption import caption_audio

            start = time.perf_counter()
            cap = caption_audio(y, RENDER_RATE).attributes
            row["caption_time"] = time.perf_counter() - start
            row["cap_key"] = cap["key"]["key"]
            row["cap_tempo"] = cap["tempo"]["bpm"]
            row["cap_meter"] = cap["meter"]["meter"]
            row["cap_vocals"] = cap["vocals"]["present"]
            if len(ref) >= 8:
                row["audio_chords"] = chord_accuracy(ref, cap["chords"]["timeline"],
                                                     beat_scale=cap["tempo"]["bpm"] / piece.tempo)
    if symbolic:
        from tools.caption import caption_song

        pitched = lambda song: [n for t in song.all_tracks() if not t.is_drum for n in t.notes]  # noqa: E731
        notes, excerpt = pitched(piece.whole or piece.song), pitched(piece.song)
        row["sym_key"] = analysis.estimate_key_from_notes(notes).key
        row["sym_key_excerpt"] = analysis.estimate_key_from_notes(excerpt).key
        row["sym_key_signed"] = analysis.estimate_key_from_notes(notes, signature=piece.signature).key
        if ranker:
            row["sym_key_ranker"] = analysis.estimate_key_from_notes(notes, method="ranker").key
        if len(ref) >= 8:
            row["sym_chords"] = chord_accuracy(ref, caption_song(piece.song).attributes["chords"]["timeline"])
    return row


def report(rows: list[dict], label: str, *, verbose: bool) -> None:
    """Print one set's scores (and, verbose, its misses)."""
    import mir_eval

    print(f"\n== {label}: {len(rows)} pieces from {len({r['piece'].split('/')[0] for r in rows})} collections")

    def key_line(field: str, name: str) -> None:
        got = [r for r in rows if field in r]
        if got:
            exact = sum(r[field] == r["true_key"] for r in got) / len(got)
            mirex = statistics.mean(mir_eval.key.weighted_score(r["true_key"], r[field]) for r in got)
            split = "  ".join(f"{label} {sum(r[field] == r['true_key'] for r in part)}/{len(part)}"
                              for label, part in (("complete", [r for r in got if r["complete"]]),
                                                  ("excerpts", [r for r in got if not r["complete"]])))
            print(f"{name:<34} exact {exact:6.3f}   MIREX {mirex:6.3f}   (n={len(got)}; exact {split})")

    def tempo_line(field: str, name: str) -> None:
        got = [r for r in rows if field in r]
        if got:
            acc = [tempo_scores(r[field], r["tempo"]) for r in got]
            print(f"{name:<34} Acc1  {sum(a for a, _ in acc) / len(acc):6.3f}   Acc2  {sum(b for _, b in acc) / len(acc):6.3f}")
            said = [r for r in got if f"{field}_said" in r]
            if said:
                right = [tempo_scores(r[field], r["tempo"])[0]
                         or (r[f"{field}_said"] is not None and tempo_scores(r[f"{field}_said"], r["tempo"])[0])
                         for r in said]
                stated = sum(r[f"{field}_said"] is not None for r in said)
                print(f"{'  + second reading when stated':<34} Acc1  {sum(right) / len(right):6.3f}   "
                      f"(a second tempo is stated for {stated}/{len(said)})")

    def meter_line(field: str, name: str) -> None:
        got = [r for r in rows if field in r]
        if got:
            ok = sum(meter_family(r[field]) == meter_family(r["meter"]) for r in got) / len(got)
            grouping = sum(beat_grouping(r[field]) == beat_grouping(r["meter"]) for r in got) / len(got)
            print(f"{name:<34} acc   {ok:6.3f}   duple/triple {grouping:6.3f}")

    key_line("audio_key", "audio key (chroma)")
    key_line("audio_key_ranker", "audio key (ranker, opt-in)")
    tempo_line("audio_tempo", "audio tempo")
    meter_line("audio_meter", "audio meter (bar, grouping)")
    key_line("cap_key", "audio caption key (chroma+notes)")
    tempo_line("cap_tempo", "audio caption tempo")
    meter_line("cap_meter", "audio caption meter")
    vocal = [r for r in rows if r.get("cap_vocals") is not None]  # None: the caption makes no claim
    if vocal:  # every corpus render is instrumental: a "present" is a false positive
        print(f"{'audio caption vocals (all instr.)':<34} false positives {sum(bool(r['cap_vocals']) for r in vocal)}"
              f"/{len(vocal)}")
    key_line("sym_key", "symbolic key (whole file)")
    if any(not r["complete"] for r in rows):
        key_line("sym_key_excerpt", "symbolic key (the audio's excerpt)")
    key_line("sym_key_signed", "symbolic key (whole, + signature)")
    key_line("sym_key_ranker", "symbolic key (ranker, opt-in)")
    for field, name in (("audio_chords", "audio chords vs music21"), ("sym_chords", "symbolic chords vs music21")):
        pairs = [r[field] for r in rows if field in r]
        if pairs:
            print(f"{name:<34} acc   {sum(h for h, _ in pairs) / max(1, sum(t for _, t in pairs)):6.3f}   "
                  f"(beats with a music21 triad, {len(pairs)} pieces)")
    for field, name in (("audio_time", "audio key+tempo+meter s/min"), ("caption_time", "audio caption s/min")):
        got = [60.0 * r[field] / r["audio_seconds"] for r in rows if field in r]
        if got:
            print(f"{name:<34} min {min(got):.2f}  median {statistics.median(got):.2f}")
    if verbose:
        for r in rows:
            if "audio_tempo" in r and not tempo_scores(r["audio_tempo"], r["tempo"])[0]:
                print("  tempo miss", r["piece"], r["meter"], r["tempo"], "->", r["audio_tempo"])
            if "audio_meter" in r and meter_family(r["audio_meter"]) != meter_family(r["meter"]):
                print("  meter miss", r["piece"], r["meter"], "->", r["audio_meter"])
            if "audio_key" in r and r["audio_key"] != r["true_key"]:
                print("  audio key miss", r["piece"], r["true_key"], "->", r["audio_key"])
            if "sym_key" in r and r["sym_key"] != r["true_key"]:
                print("  symbolic key miss", r["piece"], r["true_key"], "->", r["sym_key"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("tuning", "heldout", "both"), default="both")
    parser.add_argument("--per-collection", type=int, default=0, help="override every collection's count")
    parser.add_argument("--seconds", type=float, default=None, help="cut longer pieces to this (default: whole)")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--no-symbolic", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--ranker", action="store_true", help="also score the opt-in learned key ranker (key_ranker.py)")
    parser.add_argument("--full", action="store_true",
                        help="also run the whole audio caption (transcription, chords, combined key) and time "
                             "a 3-minute file and a 200,000-note MIDI file")
    args = parser.parse_args()
    prepare_environment()
    from tools.config import settings

    cache = settings().cache_dir / "bench_caption"
    (cache / "songs").mkdir(parents=True, exist_ok=True)
    names = ("tuning", "heldout") if args.set == "both" else (args.set,)
    first: list[Piece] = []
    for name in names:
        counts = {c: (args.per_collection or n) for c, n in SETS[name].items()}
        t0 = time.perf_counter()
        pieces = load_pieces(counts, args.seconds, cache / "songs")
        print(f"{name}: {len(pieces)} pieces parsed in {time.perf_counter() - t0:.1f} s")
        first = first or pieces
        rows = []
        for piece in pieces:
            rows.append(measure(piece, cache, audio=not args.no_audio, symbolic=not args.no_symbolic, full=args.full,
                                ranker=args.ranker))
            if args.verbose:
                print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in rows[-1].items()})
        report(rows, name, verbose=args.verbose)
    if args.full and not args.no_audio:
        from tools.caption import caption_audio

        long = np.concatenate([render(p, cache) for p in first[:12]])[: RENDER_RATE * 180]
        start, cpu = time.perf_counter(), time.process_time()
        caption_audio(long, RENDER_RATE)
        print(f"\n{'3-minute file caption':<34} {time.perf_counter() - start:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} s CPU ({len(long) / RENDER_RATE:.0f} s of audio)")
        time_huge_midi(cache)


def time_huge_midi(cache: Path, notes: int = 200_000) -> None:
    """Caption a 1.6 MB MIDI file of 200,000 notes (no tempo set: its timing is heard too).

    Symbolic files have no length limit, so the caption's work per note and per span must stay
    linear: chord estimation and the voice count once scanned every note per span (50 s here).
    """
    import mido

    from tools.caption import caption_music
    from tools.registry import ToolContext

    path = cache / "huge.mid"
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for i in range(notes):
        track.append(mido.Message("note_on", note=60 + i % 24, velocity=80, time=0))
        track.append(mido.Message("note_off", note=60 + i % 24, velocity=0, time=120))
    midi.save(str(path))
    start, cpu = time.perf_counter(), time.process_time()
    caption_music.invoke({"source": str(path)}, ToolContext(workdir=cache))
    print(f"{'200,000-note MIDI caption':<34} {time.perf_counter() - start:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
