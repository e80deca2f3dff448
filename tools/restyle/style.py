"""The style a song already has, so an edit re-arranges it in its own band.

Composed and restyled songs carry their preset's name in ``style_tags``. An imported song (MIDI,
MusicXML, ABC, audio) has none: re-arranging it as "pop" would swap a string quartet for a synth
pad, so the nearest preset is guessed from what the song measurably has (meter, tempo, General
MIDI instruments, drums) and the reason is said in words. Weights live in ``data/style_guess.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.song.presets import Preset, all_presets, load_preset

DATA = Path(__file__).parent / "data"
VOCAL_PROGRAMS = {52, 53, 54}  # choir and voice programs say nothing about the band


@dataclass(frozen=True)
class SongStyle:
    """A song's style and how it was found: ``method`` is "tag" (the song says so) or "guess"."""

    preset: Preset
    method: str
    reason: str

    @property
    def words(self) -> str:
        """How a reply says it: "as folk (the song's style)" or "as waltz (guessed from …)"."""
        return f"as {self.preset.name} ({self.reason})"


@lru_cache(maxsize=1)
def weights() -> dict:
    return json.loads((DATA / "style_guess.json").read_text())


def vocals_of(song: Song) -> str:
    """Who sings: the "<voice> vocals" tag, else a female voice when the melody has syllables."""
    for tag in song.style_tags:
        words = tag.split()
        if len(words) == 2 and words[1] == "vocals" and words[0] in ("female", "male", "none"):
            return words[0]
    return "female" if any(n.syllable for n in song.melody.notes) else "none"


def _band_programs(song: Song) -> list[int]:
    """The GM programs that characterise the band: accompaniment, and the melody unless sung."""
    programs = [t.program for t in song.tracks if not t.is_drum and t.notes]
    if song.melody.notes and song.melody.program not in VOCAL_PROGRAMS:
        programs.append(song.melody.program)
    return sorted(set(programs))


def _preset_programs(preset: Preset) -> set[int]:
    return {spec.program for role, spec in preset.instruments if role != "drums" and spec is not None}


def _pulse(meter: str) -> str:
    """Triple (3/4, 6/8, 9/8) or duple (2/4, 2/2, 4/4, 12/8): what a band's groove follows."""
    beats = int(meter.split("/")[0])
    return "triple" if beats in (3, 6, 9) else "duple"


def style_score(song: Song, preset: Preset) -> float:
    """How well ``preset`` describes ``song`` by meter, tempo, instruments and drums (higher is closer)."""
    w = weights()
    if song.meter == preset.meter:
        score = w["meter"]
    else:
        score = w["same_pulse"] if _pulse(song.meter) == _pulse(preset.meter) else 0.0
    low, high = preset.tempo
    if low <= song.tempo_bpm <= high:
        score += w["tempo_inside"]
    else:
        score += w["tempo_outside_per_10_bpm"] * min(abs(song.tempo_bpm - low), abs(song.tempo_bpm - high)) / 10
    programs = _band_programs(song)
    if programs:
        theirs = _preset_programs(preset)
        families = {p // 8 for p in theirs}
        credit = [1.0 if p in theirs else w["same_family"] if p // 8 in families else 0.0 for p in programs]
        score += w["instruments"] * sum(credit) / len(credit)
        ours = {p // 8 for p in programs}
        roles = [spec.program for role, spec in preset.instruments if role != "drums" and spec is not None]
        score += w["coverage"] * sum(p // 8 in ours for p in roles) / len(roles)
    drums = any(t.is_drum and t.notes for t in song.tracks)
    if drums == (preset.instruments.drums != "none"):
        score += w["drums_agree"]
    return score


def _instrument_words(programs: list[int]) -> str:
    import pretty_midi  # deferred: only the guess's wording needs GM names

    return ", ".join(pretty_midi.program_to_instrument_name(p) for p in programs[:4]) or "no pitched band"


def guess_style(song: Song) -> SongStyle:
    """The preset nearest to ``song``'s meter, tempo, instruments and drums (ties: the fallback, then by name)."""
    fallback = weights()["fallback"]
    ranked = sorted(all_presets().values(),
                    key=lambda p: (-round(style_score(song, p), 6), p.name != fallback, p.name))
    best = ranked[0]
    drums = "drums" if any(t.is_drum and t.notes for t in song.tracks) else "no drums"
    reason = (f"guessed: the song has no style tag; nearest preset to {song.meter}, {song.tempo_bpm:g} BPM, "
              f"{_instrument_words(_band_programs(song))}, {drums}")
    return SongStyle(preset=best, method="guess", reason=reason)


def song_style(song: Song) -> SongStyle:
    """The style named in the song's tags (its preset, or the one it was restyled to), else a guess."""
    for tag in song.style_tags:
        try:
            return SongStyle(preset=load_preset(tag), method="tag", reason="the song's style")
        except TunesmithError:
            continue  # "female vocals" and other non-style tags
    return guess_style(song)
