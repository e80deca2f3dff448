"""Melodic statistics from the Essen folk songs, and composed melodies that move like them."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from tools.song.blueprint import SongArgs, make_blueprint
from tools.song.compose import compose_song
from tools.song.melody_stats import STATS_PATH, count_melody, load_stats, tune_pitches


@pytest.fixture(scope="module")
def essen_tune():
    from music21 import corpus

    return corpus.parse("essenFolksong/altdeu10", number=3)


def test_a_real_folk_tune_is_read_with_its_final_as_tonic(essen_tune):
    pitches, tonic, mode = tune_pitches(essen_tune)
    notes = [n for n in essen_tune.recurse().notes]
    assert len(pitches) <= len(notes) and len(pitches) >= 0.8 * len(notes)
    assert tonic == pitches[-1] % 12
    degrees = Counter((p - tonic) % 12 for p in pitches)
    assert mode == ("minor" if degrees[3] > degrees[4] else "major")
    counts = {"intervals": Counter(), "moves": Counter()}
    count_melody(pitches, tonic, counts)
    assert sum(counts["intervals"].values()) == len(pitches) - 1 == sum(counts["moves"].values())
    first_step = pitches[1] - pitches[0]
    assert counts["moves"][f"{(pitches[0] - tonic) % 12}:{first_step}"] >= 1


def test_shipped_statistics_show_the_tendencies_of_tonal_folk_melody():
    table = json.loads(STATS_PATH.read_text())
    assert table["families"]["diatonic"]["tunes"]["major"] > 500
    assert table["families"]["diatonic"]["tunes"]["minor"] > 100
    major = load_stats("diatonic", "major")
    best = lambda degree: min(range(-12, 13), key=lambda step: major.move_cost[(degree, step)])  # noqa: E731
    assert best(11) == 1  # the leading tone rises to the tonic
    assert best(5) == -1  # the fourth falls to the third
    assert major.move_cost[(0, 6)] > major.move_cost[(0, 2)] + 3  # tritone leaps are rare
    # pentatonic tunes have no half steps: the Han songs' tonic rarely moves by one semitone
    penta = load_stats("pentatonic", "major")
    assert penta.move_cost[(0, 1)] > penta.move_cost[(0, 2)] + 3


def _interval_histogram(melodies: list[list[int]]) -> Counter:
    counts = Counter()
    for pitches in melodies:
        counts.update(max(-12, min(12, b - a)) for a, b in zip(pitches, pitches[1:]))
    return counts


def test_composed_melodies_move_like_the_corpus():
    table = json.loads(STATS_PATH.read_text())
    corpus_counts = Counter()
    for mode in ("major", "minor"):
        for step, count in table["families"]["diatonic"][mode]["intervals"].items():
            corpus_counts[int(step)] += count
    melodies = []
    for k, genre in enumerate(("folk", "pop", "country", "ballad", "rock", "waltz")):
        prompt = ("a song about the sea and going home", "a melancholy song about leaving")[k % 2]
        song = compose_song(make_blueprint(SongArgs(genre=genre, prompt=prompt, seed=k, duration_s=90)))
        melodies.append([n.pitch for n in sorted(song.melody.notes, key=lambda n: n.start)])
    ours = _interval_histogram(melodies)
    p_total, q_total = sum(corpus_counts.values()), sum(ours.values())
    kl = sum(c / p_total * math.log((c / p_total + 1e-4) / (ours[s] / q_total + 1e-4)) for s, c in corpus_counts.items())
    # the hand-set interval table this replaced scored 0.12-0.14 here (0.03-0.06 now, over seeds)
    assert kl < 0.09, kl
    steps = sum(ours[s] for s in (-2, -1, 1, 2)) / q_total
    assert steps > 0.35
    assert sum(c for s, c in ours.items() if abs(s) > 7) / q_total < 0.04
