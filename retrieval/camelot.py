"""The Camelot wheel: key codes and how smoothly one key moves to another.

Smooth moves (harmonic mixing): the same code, one step round the wheel with the same letter
(a fifth), or the same number with the other letter (relative major/minor). The table lives in
data/camelot.json, keyed by pitch class so spelling cannot disagree.
"""

from __future__ import annotations

from tools.music.theory import note_name_to_pc

from retrieval.describe import data_file
from retrieval.track import MODE_FAMILY


def camelot_code(tonic: str | int, mode: str) -> tuple[int, str] | None:
    """(8, "A") for A minor, (8, "B") for C major; modes map to their major/minor family."""
    family = MODE_FAMILY.get(mode)
    if family is None:
        return None
    try:
        pc = tonic if isinstance(tonic, int) else note_name_to_pc(tonic)
    except Exception:
        return None
    text = data_file("camelot.json")[family][str(pc % 12)]
    return int(text[:-1]), text[-1]


def camelot_text(tonic: str | int, mode: str) -> str | None:
    code = camelot_code(tonic, mode)
    return f"{code[0]}{code[1]}" if code else None


def camelot_distance(a: tuple[int, str] | None, b: tuple[int, str] | None) -> float:
    """Steps between two codes: 0 same key, 1 a smooth move, more for clashes; 2.5 when unknown."""
    if a is None or b is None:
        return 2.5
    steps = abs(a[0] - b[0]) % 12
    steps = min(steps, 12 - steps)
    return float(steps + (0 if a[1] == b[1] else 1))


def is_smooth(a: tuple[int, str] | None, b: tuple[int, str] | None) -> bool:
    return camelot_distance(a, b) <= 1.0
