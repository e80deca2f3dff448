from __future__ import annotations

import pytest

from tools.music.errors import TunesmithError
from tools.music.theory import degree_chord, parse_chord, parse_key, roman_numeral


@pytest.mark.parametrize("text,canonical,sharps", [
    ("A minor", "A minor", 0), ("Bb major", "Bb major", -2), ("f# minor", "F# minor", 3),
    ("Eb", "Eb major", -3), ("C sharp minor", "C# minor", 4), ("Dm", "D minor", -1), ("Gb major", "Gb major", -6),
])
def test_keys(text: str, canonical: str, sharps: int) -> None:
    key = parse_key(text)
    assert str(key) == canonical
    assert key.sharps == sharps


def test_chords_and_numerals() -> None:
    c = parse_key("C major")
    assert parse_chord("Am7").pitch_classes == (0, 4, 7, 9)
    assert parse_chord("D/F#").bass == 6
    assert degree_chord(c, "vi") == "Am" and degree_chord(parse_key("F major"), "bVII7") == "Eb7"
    assert roman_numeral(parse_chord("G7"), c) == "V7"
    assert roman_numeral(parse_chord("Bdim"), c) == "vii°"
    with pytest.raises(TunesmithError):
        parse_chord("H7")
