"""Pictures for the chat: piano roll with lyrics and chords, waveform, chord chart, cut timeline.

Each function writes one PNG (matplotlib, Agg backend, no fonts fetched) or returns a small table,
so the UI shows what people would rather look at than read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.music.song import Song

ROLE_COLOURS = {"melody": "#d9480f", "bass": "#1c7ed6", "comp": "#37b24d", "pad": "#ae3ec9", "lead": "#f59f00",
                "drums": "#868e96"}


def _pyplot():
    # Imported here: matplotlib costs ~0.5 s and is only needed when a picture is drawn.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def piano_roll(song: Song, target: Path) -> Path:
    """Every pitched track as coloured bars; melody syllables under their notes; chords on top."""
    plt = _pyplot()
    beats = max(song.duration_beats, 1.0)
    fig, ax = plt.subplots(figsize=(min(24, 4 + beats / 6), 4.2), dpi=80)
    pitches: list[int] = []
    for track in song.all_tracks():
        if track.is_drum:
            continue
        colour = ROLE_COLOURS.get(track.role, "#495057")
        for note in track.notes:
            ax.add_patch(plt.Rectangle((note.start, note.pitch - 0.4), note.duration, 0.8, color=colour,
                                       alpha=0.9 if track.role == "melody" else 0.45, linewidth=0))
            pitches.append(note.pitch)
    low, high = (min(pitches), max(pitches)) if pitches else (48, 72)
    for note in song.melody.notes:
        if note.syllable:
            ax.text(note.start, low - 2.5, note.syllable, fontsize=7, rotation=60, va="top")
    for span in song.chord_timeline():
        ax.axvline(span.start, color="#adb5bd", linewidth=0.5)
        ax.text(span.start + 0.1, high + 1.5, span.symbol, fontsize=8, color="#212529")
    for section in song.sections:
        ax.axvline(section.start_bar * song.beats_per_bar, color="#212529", linewidth=1.2)
    ax.set_xlim(0, beats)
    ax.set_ylim(low - 8, high + 4)
    ax.set_xlabel("beats")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(f"{song.title} — {song.key}, {song.tempo_bpm:g} BPM", fontsize=10)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def waveform(audio_path: Path, target: Path, *, points: int = 2000) -> Path:
    """Peak envelope of an audio file (read once, downsampled to ``points`` columns)."""
    import numpy as np
    import soundfile

    data, rate = soundfile.read(str(audio_path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    columns = max(1, len(mono) // points)
    trimmed = mono[: len(mono) // columns * columns].reshape(-1, columns)
    peaks_hi, peaks_lo = trimmed.max(axis=1), trimmed.min(axis=1)
    seconds = np.arange(len(peaks_hi)) * columns / rate
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 2.2), dpi=80)
    ax.fill_between(seconds, peaks_lo, peaks_hi, color="#1c7ed6", linewidth=0)
    ax.set_xlim(0, max(seconds[-1] if len(seconds) else 1.0, 1e-3))
    ax.set_ylim(-1, 1)
    ax.set_xlabel("seconds")
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def chord_chart(song: Song) -> str:
    """Markdown: one row per section, one cell per bar (four bars to a line, like a lead sheet)."""
    lines = [f"**{song.title}** — {song.key}, {song.tempo_bpm:g} BPM, {song.meter}", ""]
    for section in song.sections:
        bars = section.chords or ["—"] * section.bars
        rows = [" | ".join(bars[i:i + 4]) for i in range(0, len(bars), 4)]
        lines.append(f"**{section.name}** ({section.bars} bars)  ")
        lines.extend(f"`| {row} |`  " for row in rows)
        if section.lyrics:
            lines.append("_" + " / ".join(section.lyrics) + "_")
        lines.append("")
    return "\n".join(lines)


def table_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]] | None:
    """A playlist or search result as (headers, rows): the first list of dicts found in the data;
    a caption as its measured attributes, one a row."""
    if isinstance(data.get("attributes"), dict) and "key" in data["attributes"]:
        return caption_rows(data["attributes"])
    for key in ("tracks", "playlist", "items", "results"):
        items = data.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            headers: list[str] = []
            for item in items:
                for name, value in item.items():
                    if name not in headers and not isinstance(value, (dict, list)):
                        headers.append(name)
            headers = headers[:8]
            return headers, [[item.get(h, "") for h in headers] for item in items]
    return None


def caption_rows(a: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of a caption's attributes: what was measured, its value, how sure."""
    def sure(entry: Any) -> Any:
        return round(float(entry["confidence"]), 2) if isinstance(entry, dict) and "confidence" in entry else ""

    rows: list[list[Any]] = [["key", a["key"]["key"], sure(a["key"])],
                             ["tempo", f"{a['tempo']['bpm']:.0f} BPM ({a['tempo'].get('origin', 'heard')})", sure(a["tempo"])],
                             ["meter", a["meter"]["meter"], sure(a["meter"])],
                             ["duration", f"{a['duration_s']:.1f} s", ""]]
    chords = a.get("chords") or {}
    if chords.get("progression"):
        rows.append(["chords", f"{chords['progression']} (most repeated)", sure(chords)])
    if a.get("instruments"):
        rows.append(["instruments", ", ".join(i["name"] for i in a["instruments"][:5]), ""])
    for name, field, value in (("texture", "texture", "kind"), ("genre", "genre", "name")):
        if a.get(field):
            rows.append([name, a[field][value], sure(a[field])])
    if a.get("mood", {}).get("words"):
        rows.append(["mood", ", ".join(a["mood"]["words"][:3]), sure(a["mood"])])
    if a.get("vocals"):
        rows.append(["vocals", "yes" if a["vocals"].get("present") else "no", sure(a["vocals"])])
    if a.get("melodic_range"):
        rng = a["melodic_range"]
        rows.append(["melodic range", f"{rng['lowest']}–{rng['highest']}", ""])
    if a.get("structure"):
        rows.append(["form", a["structure"]["form"], sure(a["structure"])])
    if a.get("loudness"):
        rows.append(["loudness", f"{a['loudness']['integrated_lufs']:.1f} LUFS", ""])
    return ["attribute", "value", "confidence"], rows


def cut_timeline(data: dict[str, Any], target: Path) -> Path | None:
    """A video's cuts (red) and the musical beats chosen for them (blue), when the data has them."""
    cuts = data.get("cuts") or data.get("scene_cuts")
    beats = data.get("beats") or data.get("beat_times")
    if not cuts and not beats:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 1.6), dpi=80)
    for beat in beats or []:
        ax.axvline(float(beat), color="#1c7ed6", linewidth=0.6, alpha=0.6)
    for cut in cuts or []:
        ax.axvline(float(cut if not isinstance(cut, dict) else cut.get("time", 0)), color="#e03131", linewidth=2)
    duration = data.get("duration_s") or max([float(b) for b in beats or [0]] + [1.0])
    ax.set_xlim(0, float(duration))
    ax.set_yticks([])
    ax.set_xlabel("seconds (red: cuts, blue: beats)")
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target
