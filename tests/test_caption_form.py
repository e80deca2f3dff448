"""The caption's form against the sections Tunesmith wrote: choruses found as one repeated section."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.caption import caption_song
from tools.caption.describe import form_words


@pytest.mark.parametrize("genre, seed", [("rock", 21), ("pop", 22), ("country", 23)])
def test_choruses_start_sections_and_share_a_letter(genre, seed):
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt="a song about a lighthouse", genre=genre, seed=seed,
                                                vocals="female", duration_s=150)), seed=seed)
    form = caption_song(song).attributes["structure"]
    starts = {s["start_bar"]: s["label"] for s in form["sections"]}
    choruses = [s.start_bar for s in song.sections if s.kind == "chorus"]
    found = [starts.get(bar) for bar in choruses]
    assert sum(f is not None for f in found) >= 0.75 * len(choruses), (found, form["form"])
    letter, count = Counter(f for f in found if f).most_common(1)[0]
    assert count >= 2, (found, form["form"])
    # sections tile the song from bar 0, in order
    bars = [(s["start_bar"], s["bars"]) for s in form["sections"]]
    assert bars[0][0] == 0 and all(a + n == b for (a, n), (b, _) in zip(bars, bars[1:]))


def test_form_words_give_lengths_once():
    form = {"sections": [{"label": "A", "bars": 2}, {"label": "B", "bars": 8}, {"label": "C", "bars": 8},
                         {"label": "B", "bars": 8}, {"label": "C", "bars": 8}, {"label": "C", "bars": 8}]}
    assert form_words(form) == "A (2 bars), B (8), C (8), B, C, C; C returns 3 times"
    assert form_words({"sections": [{"label": "A", "bars": 1}, {"label": "B", "bars": 4}]}) == "A (1 bar), B (4)"
    # a part played many times in a row is counted, not listed (one held note once gave 128 "A"s)
    held = {"sections": [{"label": "A", "bars": 8}] * 128 + [{"label": "B", "bars": 4}]}
    assert form_words(held) == "A (8 bars) ×128, B (4); A returns 128 times"


def test_a_note_held_for_hours_is_read_in_its_first_bars():
    from tools.caption.symbolic import STRUCTURE_MAX_BARS, structure
    from tools.music.song import Note

    # one note held 100,000 beats (25,000 bars of 4/4) once kept the caption busy for minutes
    form = structure([Note(pitch=60, start=0.0, duration=100_000.0, velocity=90)], 4.0)
    last = form["sections"][-1]
    assert last["start_bar"] + last["bars"] <= STRUCTURE_MAX_BARS


def test_a_through_composed_fugue_keeps_every_section_distinct_and_is_summed_up():
    from music21 import corpus

    from tools.music.musicxml_io import score_to_song

    # Beethoven's Grosse Fuge: 180-odd phrases; past the 26th every new one was lettered Z, so the
    # caption read "Z (4) ×158; Z returns 158 times"
    caption = caption_song(score_to_song(corpus.parse("beethoven/opus133.mxl")))
    form = caption.attributes["structure"]
    labels = [s["label"] for s in form["sections"]]
    assert len(set(labels)) > 26 and "AA" in labels
    assert max(Counter(labels).values()) < 10
    assert "largely through-composed" in caption.text and " Z " not in caption.text
    assert "Bb6" in caption.text  # its top note spelled as the key spells it, not A#6


def test_form_sentence_lists_a_short_form_and_counts_a_long_one():
    from tools.caption.describe import FORM_LIST_MAX, form_sentence
    from tools.caption.symbolic import section_letter

    short = {"sections": [{"label": "A", "bars": 4}, {"label": "B", "bars": 4}, {"label": "A", "bars": 4}]}
    assert form_sentence(short) == "Its sections run A (4 bars), B (4), A."
    letters = [section_letter(i) for i in range(FORM_LIST_MAX + 30)]
    assert len(set(letters)) == len(letters) and letters[26:28] == ["AA", "AB"]
    long = {"sections": [{"label": x, "bars": 4} for x in letters] * 2}
    assert form_sentence(long) == (f"Its form is long and sectional: {2 * len(letters)} sections of mostly 4 bars, "
                                   f"{len(letters)} of them different.")
