"""Melodic statistics learned from the folk songs in the music21 corpus (the Essen collection).

The melody writer scores candidate pitches with what real singers' tunes do: how often each
melodic interval occurs and which scale degree tends to follow which. Counting is done once,
offline, by ``python -m tools.song.melody_stats`` and stored as data
(``data/melody_stats.json``); the composer only reads the table. Two families are kept apart
because they move differently: German/European ballads and children's songs (diatonic) and the
Chinese Han songs (pentatonic: wider leaps between the scale's five steps, no half steps).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATS_PATH = Path(__file__).parent / "data" / "melody_stats.json"
FAMILIES = {
    "diatonic": ("altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "kinder0", "erk5", "boehme10"),
    "pentatonic": ("han1", "han2"),
}
MAX_INTERVAL = 12  # larger leaps are pooled into the +/-12 bins
SMOOTHING = 0.5  # add-k for unseen intervals and degree pairs


def _degree(pitch_class: int, tonic: int) -> int:
    return (pitch_class - tonic) % 12


def count_melody(pitches: list[int], tonic: int, counts: dict[str, Counter]) -> None:
    """Add one tune's intervals, and intervals by the scale degree they leave, to ``counts``."""
    for a, b in zip(pitches, pitches[1:]):
        step = max(-MAX_INTERVAL, min(MAX_INTERVAL, b - a))
        counts["intervals"][str(step)] += 1
        counts["moves"][f"{_degree(a % 12, tonic)}:{step}"] += 1


def tune_pitches(score) -> tuple[list[int], int, str] | None:
    """The top line's MIDI pitches (tied notes once), its tonic and its mode.

    The Essen files give a key signature but no mode (minor tunes carry a major K: field), so the
    tonic is the tune's final note, which it is in almost every folk song of the collection, and
    the mode is the commoner third above it.
    """
    pitches = []
    for note in score.recurse().notes:
        if note.isChord:
            note = note.notes[-1]
        if note.tie is not None and note.tie.type in ("continue", "stop"):
            continue
        pitches.append(note.pitch.midi)
    if len(pitches) < 4:
        return None
    tonic = pitches[-1] % 12
    degrees = Counter(_degree(p % 12, tonic) for p in pitches)
    return pitches, tonic, "minor" if degrees[3] > degrees[4] else "major"


def learn(families: dict[str, tuple[str, ...]] = FAMILIES, *, limit_per_file: int | None = None) -> dict:
    """Count every tune of each family's corpus files; returns the JSON-ready table."""
    from music21 import corpus

    paths = {p.stem: p for p in corpus.getPaths() if "essenFolksong" in str(p)}
    table: dict = {"source": "music21 corpus, essenFolksong", "families": {}}
    for family, stems in families.items():
        counts = {mode: {"intervals": Counter(), "moves": Counter()} for mode in ("major", "minor")}
        tunes = Counter()
        for stem in stems:
            opus = corpus.parse(paths[stem])
            scores = list(opus.scores) if hasattr(opus, "scores") else [opus]
            for score in scores[:limit_per_file]:
                found = tune_pitches(score)
                if found is None:
                    continue
                pitches, tonic, mode = found
                mode = "minor" if mode == "minor" else "major"
                count_melody(pitches, tonic, counts[mode])
                tunes[mode] += 1
        table["families"][family] = {
            "files": list(stems),
            "tunes": dict(tunes),
            **{mode: {name: dict(sorted(c.items())) for name, c in counts[mode].items()} for mode in counts},
        }
    return table


@dataclass(frozen=True)
class MelodyStats:
    """-log P(interval | scale degree it leaves): the pitch chooser's cost of each melodic move.

    Conditioning the interval on the degree keeps both what folk melodies do in general (mostly
    steps and repeats, few leaps) and what each degree tends to do (the leading tone rises to the
    tonic, the fourth falls to the third).
    """

    move_cost: dict[tuple[int, int], float]

    def cost(self, previous: int, pitch: int, tonic: int) -> float:
        step = max(-MAX_INTERVAL, min(MAX_INTERVAL, pitch - previous))
        return self.move_cost[(_degree(previous % 12, tonic), step)]


def stats_from_table(table: dict, family: str, mode: str) -> MelodyStats:
    """Smoothed conditional probabilities from the stored counts, as negative logs."""
    block = table["families"][family]["minor" if mode == "minor" else "major"]
    steps = range(-MAX_INTERVAL, MAX_INTERVAL + 1)
    costs = {}
    for degree in range(12):
        counts = [block["moves"].get(f"{degree}:{step}", 0) + SMOOTHING for step in steps]
        total = sum(counts)
        costs.update({(degree, step): -math.log(c / total) for step, c in zip(steps, counts)})
    return MelodyStats(move_cost=costs)


@lru_cache(maxsize=8)
def load_stats(family: str = "diatonic", mode: str = "major") -> MelodyStats:
    """The shipped table's costs for a scale family and mode."""
    table = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    if family not in table["families"]:
        family = "diatonic"
    return stats_from_table(table, family, mode)


def counting_cli(description: str, default_out: Path, learn_table, summary) -> None:
    """Command line shared by the corpus counters: count, write the JSON table, print a summary.

    Args:
        learn_table: ``limit_per_file -> table``; summary: ``table -> one line``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--limit-per-file", type=int, default=None, help="tunes per corpus file (for a quick run)")
    args = parser.parse_args()
    started = time.perf_counter()
    table = learn_table(args.limit_per_file)
    args.out.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(summary(table))
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    counting_cli("Count melodic statistics from the music21 Essen folk songs.", STATS_PATH,
                 lambda limit: learn(limit_per_file=limit),
                 lambda table: "; ".join(f"{family}: tunes {block['tunes']}" for family, block in table["families"].items()))


if __name__ == "__main__":
    main()
