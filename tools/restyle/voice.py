"""The singer a style asks for: the plain female or male voice with the style's vibrato,
breathiness, glide, formant and range (``data/voices.json``), so a jazz version is sung with a
slower, wider vibrato and more breath, and a lullaby softly and straight.

The voice follows from the song's style tag and its vocals, so a restyle and every later edit of
it sing with the same voice (and the section cache keys on it).
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path

from tools.music.song import Song
from tools.music.voice.singer import VoiceParams, voice_params
from tools.restyle.style import song_style

DATA = Path(__file__).parent / "data"
RELATIVE = ("formant_scale", "range_shift")


@lru_cache(maxsize=1)
def style_voices() -> dict[str, dict]:
    """Per-style voice changes (``data/voices.json``), checked against VoiceParams' fields once."""
    data = {k: v for k, v in json.loads((DATA / "voices.json").read_text()).items() if not k.startswith("_")}
    known = {f.name for f in dataclasses.fields(VoiceParams)} | set(RELATIVE)
    for style, changes in data.items():
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"voices.json: {style} sets unknown voice fields {sorted(unknown)}")
    return data


def voice_for(vocals: str, style: str | None) -> VoiceParams:
    """The ``vocals`` voice ("female"/"male") as ``style`` sings it; unlisted styles: unchanged.

    Raises:
        TunesmithError: an unknown voice name (or a change out of VoiceParams' range).
    """
    base = voice_params(vocals)
    changes = dict(style_voices().get(style or "", {}))
    if not changes:
        return base
    scale, shift = changes.pop("formant_scale", 1.0), int(changes.pop("range_shift", 0))
    return dataclasses.replace(base, name=f"{vocals} ({style})", formant=round(base.formant * scale, 4),
                               low=base.low + shift, high=base.high + shift, **changes)


def song_voice(song: Song, vocals: str) -> VoiceParams:
    """The voice that sings ``song``: its vocals in its tagged style (an untagged song: plain)."""
    style = song_style(song)
    return voice_for(vocals, style.preset.name if style.method == "tag" else None)

