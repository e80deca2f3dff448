"""caption_music: describe any audio or symbolic file, measured, in words and in data.

Public functions other parts reuse: `caption_song(song)` (symbolic path, used by retrieval and
style transfer) and `caption_audio(path_or_array, sr)`; both return a `Caption` (``.text``,
``.attributes``, ``.to_dict()``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.caption.caption import caption_audio, caption_song
from tools.caption.describe import Caption
from tools.guards import FileKind, check_note_count
from tools.registry import Tool, ToolContext, ToolResult

ALLOWED = (FileKind.AUDIO, FileKind.MIDI, FileKind.MUSICXML, FileKind.ABC)
FOCUS = Literal["key", "tempo", "meter", "chords", "instruments", "texture", "mood", "genre", "structure",
                "loudness", "range"]


class CaptionArgs(BaseModel):
    source: str = Field(min_length=1, max_length=1000, description="an uploaded file path or an artifact id")
    focus: FOCUS | None = Field(default=None, description="the attribute the user asked about, stated first")


def _caption_symbolic(resolved, focus: str | None, max_notes: int) -> Caption:
    """A song artifact, MIDI, MusicXML, MXL or ABC, told apart by how far its tempo can be trusted."""
    from tools.music.midi_io import read_midi_with_timing
    from tools.music.musicxml_io import read_score

    if resolved.song is not None:
        song, trust = resolved.song, {}
    elif resolved.kind == FileKind.MIDI:
        # neither a tempo nor a time signature: a performance on the default grid, so hear them
        song, timed = read_midi_with_timing(resolved.path)
        trust = {"timing_from_file": timed}
    else:
        song, marked = read_score(resolved.path)
        trust = {"tempo_marked": marked}
    check_note_count(song, resolved.artifact_id or resolved.path.name, max_notes=max_notes)
    return caption_song(song, focus=focus, **trust)


def run(args: CaptionArgs, ctx: ToolContext) -> ToolResult:
    """Resolve the source, take the audio or symbolic path, return attributes and the caption."""
    resolved = ctx.resolve_source(args.source, allowed=ALLOWED)
    ctx.progress(0.1, "analysing")
    if resolved.song is None and resolved.kind == FileKind.AUDIO:
        caption = caption_audio(resolved.path, focus=args.focus)
    else:
        caption = _caption_symbolic(resolved, args.focus, ctx.settings.max_score_notes)
    ctx.progress(1.0, "done")
    data = caption.to_dict()
    if args.focus:
        data["focus"] = args.focus
    return ToolResult(kind="caption", summary=caption.text, data=data, parent_id=resolved.artifact_id)


caption_music = Tool(
    name="caption_music",
    description="Describe a music file or an earlier song: key, tempo, meter, chords with Roman numerals, "
                "instruments, texture, mood, genre, loudness, form; returns measured attributes and a caption.",
    args_model=CaptionArgs,
    run=run,
)

TOOLS = [caption_music]

__all__ = ["TOOLS", "caption_music", "caption_song", "caption_audio", "Caption", "CaptionArgs"]
