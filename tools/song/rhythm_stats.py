"""Rhythm statistics learned from the folk songs in the music21 corpus (the Essen collection).

Where a melody's notes start within the bar, and how long each waits for the next, is what makes
it sound like a song rather than a drum machine reading syllables. We count, for every note onset
of the Essen tunes, its position in the bar (on a sixteenth grid) and the time to the next onset,
separately for duple, triple and compound meters. Counting runs once, offline, by
``python -m tools.song.rhythm_stats`` and is stored as data (``data/rhythm_stats.json``); the
melody writer reads the table and searches, per lyric line, for the onsets that are likeliest
under it while putting stressed syllables on strong beats (`tools.song.melody.place_rhythm`).

Notation varies across the collection (old German songs are written in 4/2 and 3/2): positions are
counted in quarters of the meter's beat unit (a sixteenth in x/4, an eighth in x/2), and compound
meters in halves of their pulse, so every table speaks of the song's own sixteenths.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.song.melody_stats import FAMILIES, counting_cli

STATS_PATH = Path(__file__).parent / "data" / "rhythm_stats.json"
BAR_UNITS = {"duple": 16, "triple": 12, "compound": 12}  # sixteenths per (normalised) bar
MAX_GAP = 16  # a gap of a whole 4/4 bar or more is pooled into the last bin
SMOOTHING = 0.2  # add-k for unseen (position, gap) pairs


def meter_family(numerator: int) -> str | None:
    """Which table a meter's numerator reads: 2 and 4 duple, 3 triple, 6 and 12 compound."""
    return {2: "duple", 4: "duple", 3: "triple", 6: "compound", 12: "compound"}.get(numerator)


def _grid_unit(numerator: int, denominator: int) -> Fraction:
    """One grid step in quarter lengths: a quarter of the beat unit, half of a compound pulse."""
    beat_unit = Fraction(4, denominator)
    return beat_unit / 2 if numerator in (6, 12) else beat_unit / 4


def tune_onsets(score) -> tuple[str, list[tuple[int, int]]] | None:
    """(meter family, [(position in bar, gap to the next onset)]) of a tune's top line, in grid units.

    A 2/x bar is half a duple bar (odd bars take the second half) and a 12/x bar two compound bars,
    so every family's bar has the same length. Tunes that change meter, or have onsets off the
    sixteenth grid (triplets, grace notes), are skipped: they would smear the table.
    """
    from music21 import meter, stream

    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    part = parts[0]
    signatures = list(part.recurse().getElementsByClass(meter.TimeSignature))
    if not signatures or len({s.ratioString for s in signatures}) != 1:
        return None
    signature = signatures[0]
    family = meter_family(signature.numerator)
    if family is None:
        return None
    unit = _grid_unit(signature.numerator, signature.denominator)
    bar_units = BAR_UNITS[family]
    onsets: list[tuple[int, int]] = []  # (absolute grid index, position in the normalised bar)
    for measure in part.getElementsByClass(stream.Measure):
        padding = Fraction(measure.paddingLeft).limit_denominator(64)
        for note in measure.notes:
            if note.duration.isGrace:
                continue
            if note.tie is not None and note.tie.type in ("continue", "stop"):
                continue
            absolute = (Fraction(measure.offset).limit_denominator(64) + Fraction(note.offset).limit_denominator(64)) / unit
            in_bar = (padding + Fraction(note.offset).limit_denominator(64)) / unit
            if absolute.denominator != 1 or in_bar.denominator != 1:
                return None
            position = int(in_bar)
            if signature.numerator == 2 and (measure.number or 0) % 2 == 0:
                position += bar_units // 2
            onsets.append((int(absolute), position % bar_units))
    if len(onsets) < 4:
        return None
    pairs = [(position, min(MAX_GAP, later - start))
             for (start, position), (later, _) in zip(onsets, onsets[1:]) if later > start]
    return family, pairs


def learn(*, limit_per_file: int | None = None) -> dict:
    """Count every usable tune of the Essen files the melody statistics use; JSON-ready table."""
    from music21 import corpus

    paths = {p.stem: p for p in corpus.getPaths() if "essenFolksong" in str(p)}
    counts = {family: Counter() for family in BAR_UNITS}
    tunes, skipped = Counter(), 0
    for stem in (s for stems in FAMILIES.values() for s in stems):
        opus = corpus.parse(paths[stem])
        scores = list(opus.scores) if hasattr(opus, "scores") else [opus]
        for score in scores[:limit_per_file]:
            found = tune_onsets(score)
            if found is None:
                skipped += 1
                continue
            family, pairs = found
            counts[family].update(f"{p}:{g}" for p, g in pairs)
            tunes[family] += 1
    return {"source": "music21 corpus, essenFolksong", "files": [s for v in FAMILIES.values() for s in v],
            "tunes": dict(tunes), "skipped": skipped, "max_gap": MAX_GAP, "bar_units": BAR_UNITS,
            "counts": {family: dict(sorted(c.items())) for family, c in counts.items()}}


@dataclass(frozen=True)
class RhythmStats:
    """-log P(gap to the next onset | position in the bar), and how often each position starts a note.

    ``gap_cost[p, g]`` is the cost of the next onset coming ``g`` grid steps after one at position
    ``p`` (g = 1..MAX_GAP, column 0 unused); ``onset_share[p]`` is the share of all onsets falling
    at ``p``, which is the corpus's own picture of strong and weak beats.
    """

    bar_units: int
    gap_cost: np.ndarray
    onset_share: np.ndarray


def stats_from_table(table: dict, family: str) -> RhythmStats:
    bar_units = int(table["bar_units"][family])
    counts = np.full((bar_units, MAX_GAP + 1), SMOOTHING)
    counts[:, 0] = 0.0
    for key, value in table["counts"][family].items():
        position, gap = (int(x) for x in key.split(":"))
        counts[position % bar_units, gap] += value
    onset_share = counts.sum(axis=1) / counts.sum()
    with np.errstate(divide="ignore"):
        gap_cost = -np.log(counts / counts.sum(axis=1, keepdims=True))
    return RhythmStats(bar_units=bar_units, gap_cost=gap_cost, onset_share=onset_share)


@lru_cache(maxsize=4)
def load_rhythm(family: str = "duple") -> RhythmStats:
    """The shipped table for a meter family (duple if the family is unknown)."""
    table = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    return stats_from_table(table, family if family in table["counts"] else "duple")


def main() -> None:
    counting_cli("Count rhythm statistics from the music21 Essen folk songs.", STATS_PATH,
                 lambda limit: learn(limit_per_file=limit),
                 lambda table: f"tunes {table['tunes']}, skipped {table['skipped']}")


if __name__ == "__main__":
    main()
