"""Melody rhythm from the Essen folk songs: the table is read right, and lines set to it scan."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tools.music.theory import bar_beats
from tools.song.blueprint import bars_per_line
from tools.song.melody import line_syllables, place_rhythm
from tools.song.rhythm import line_onsets
from tools.song.rhythm_stats import MAX_GAP, STATS_PATH, load_rhythm, tune_onsets

# lines no rule or weight was chosen on
UNSEEN_LINES = [
    "The lantern swings above the harbour wall", "my father's boat is late again",
    "We counted every star along the river", "and never told a single soul",
    "Give me a reason to stay until the morning", "the kettle's singing on the stove",
    "Nobody listens when the thunder's rolling", "so I will sing it one more time",
]


def test_a_real_folk_tune_gives_its_onsets_positions_and_gaps():
    from music21 import corpus

    tune = corpus.parse("essenFolksong/altdeu10", number=8)  # a 4/4 tune with a pickup
    family, pairs = tune_onsets(tune)
    notes = [n for n in tune.recurse().notes if not (n.tie is not None and n.tie.type in ("continue", "stop"))]
    assert family == "duple"
    assert len(pairs) == len(notes) - 1
    assert all(0 <= position < 16 and 1 <= gap <= MAX_GAP for position, gap in pairs)
    # the gaps add up to the time from the first onset to the last, in quarters of the beat unit
    quarters = notes[-1].getOffsetInHierarchy(tune) - notes[0].getOffsetInHierarchy(tune)
    signature = tune.recurse().getElementsByClass("TimeSignature").first()
    grid_step = (4 / signature.denominator) / 4
    assert sum(gap for _, gap in pairs) == pytest.approx(quarters / grid_step)


def test_the_shipped_table_hears_strong_and_weak_beats():
    table = json.loads(STATS_PATH.read_text())
    assert table["tunes"]["duple"] > 1000 and table["tunes"]["triple"] > 200 and table["tunes"]["compound"] > 100
    duple, triple, compound = load_rhythm("duple"), load_rhythm("triple"), load_rhythm("compound")
    beats, offbeats = duple.onset_share[[0, 4, 8, 12]], np.delete(duple.onset_share, [0, 4, 8, 12])
    assert beats.min() > offbeats.max()
    assert duple.onset_share[0] == duple.onset_share.max()
    assert int(np.argmax(triple.onset_share)) == 0
    assert set(np.argsort(compound.onset_share)[-4:]) >= {0, 6}  # the two dotted-quarter pulses
    # after a downbeat in 4/4 a quarter or an eighth is likelier than a sixteenth
    assert duple.gap_cost[0, 4] < duple.gap_cost[0, 1] and duple.gap_cost[0, 2] < duple.gap_cost[0, 1]


def test_onsets_keep_order_room_for_the_final_note_and_repeat_with_the_seed():
    stats = load_rhythm("duple")
    stresses = [1, 0, 1, 0, 0, 1, 0, 1]
    for seed in range(30):
        onsets = line_onsets(stresses, 28, 0, stats, random.Random(seed))
        assert onsets == sorted(set(onsets)) and len(onsets) == len(stresses)
        assert onsets[0] <= 4 and onsets[-1] <= 28 - 4
        assert all(1 <= b - a <= MAX_GAP for a, b in zip(onsets, onsets[1:]))
        assert onsets == line_onsets(stresses, 28, 0, stats, random.Random(seed))
    rhythms = {tuple(line_onsets(stresses, 28, 0, stats, random.Random(seed))) for seed in range(30)}
    assert len(rhythms) > 5  # sampled, not one fixed answer
    assert line_onsets([1] * 30, 28, 0, stats, random.Random(0)) is None  # more syllables than sixteenths


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8"])
def test_unseen_lines_put_stresses_on_beats_and_move_like_the_corpus(meter):
    family = {"4/4": "duple", "3/4": "triple", "6/8": "compound"}[meter]
    stats = load_rhythm(family)
    beat = 1.0 if meter != "6/8" else 1.5  # a stress belongs on a beat (in 6/8 on a dotted quarter)
    slot = bars_per_line(meter) * bar_beats(meter)  # as the song writer sizes a line
    composed = np.zeros_like(stats.gap_cost)
    stressed = on_beat = 0
    for seed in range(10):
        for line in UNSEEN_LINES:
            notes = [n for n in place_rhythm(line_syllables(line, 0), slot, rng=random.Random(seed), meter=meter)
                     if n.syllable is not None]
            assert all(0 <= n.start < slot and n.duration > 0 for n in notes)
            assert notes[-1].duration >= 0.5  # the phrase ends on a held note
            for a, b in zip(notes, notes[1:]):
                composed[int(round(a.start / 0.25)) % stats.bar_units, min(MAX_GAP, int(round((b.start - a.start) / 0.25)))] += 1
            for n in notes:
                if n.stress == 1:
                    stressed += 1
                    on_beat += n.start % beat == 0
    assert on_beat / stressed >= 0.8, (meter, on_beat / stressed)
    corpus = np.exp(-stats.gap_cost) * stats.onset_share[:, None]
    corpus[:, 0] = 0
    composed = (composed + 1e-3) / (composed + 1e-3).sum()
    mask = corpus > 0
    kl = float(np.sum(corpus[mask] * np.log(corpus[mask] / composed[mask])))
    assert kl < 0.8, (meter, kl)
