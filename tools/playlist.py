"""make_playlist: a playlist from a prompt, sized by minutes or count, ordered for flow, exported."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from tools.music.errors import TunesmithError
from tools.registry import Tool, ToolContext, ToolResult
from tools.search import open_library

MAX_PREVIEW_TRACKS = 40


class PlaylistArgs(BaseModel):
    prompt: str = Field(min_length=1, max_length=500, description="what the playlist is, e.g. 'calm Scottish airs'")
    duration_min: float | None = Field(default=None, ge=0.5, le=600, description="total length in minutes (±5 %)")
    count: int | None = Field(default=None, ge=1, le=500, description="number of tracks (instead of a duration)")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    preview: bool = Field(default=False, description="render an audio preview with crossfades")
    preview_seconds: float = Field(default=15.0, ge=4, le=60, description="seconds of each track in the preview")
    filters: dict[str, Any] | None = Field(default=None, description="key, mode, meter, collection, genre, instrument, lyrics, tempo_min, tempo_max")

    @model_validator(mode="after")
    def _one_size(self) -> "PlaylistArgs":
        if self.duration_min is not None and self.count is not None:
            raise ValueError("give duration_min or count, not both")
        return self


def render_preview(playlist, ctx: ToolContext, *, seconds: float, fade_s: float = 2.0):
    """The playlist's first ``seconds`` of each track joined with crossfades, as preview.wav."""
    import soundfile

    from retrieval.loader import audio_for
    from retrieval.media import crossfade_concat
    from tools.music.synth import SAMPLE_RATE

    if len(playlist.tracks) > MAX_PREVIEW_TRACKS:
        raise TunesmithError(f"A preview covers at most {MAX_PREVIEW_TRACKS} tracks; this playlist has {len(playlist.tracks)}")
    clips, skipped = [], []
    for index, record in enumerate(playlist.tracks):
        ctx.progress(0.5 + 0.45 * index / len(playlist.tracks), f"rendering {record.title}")
        try:
            clips.append(audio_for(record, seconds=min(seconds, record.duration_s + 1.0), sample_rate=SAMPLE_RATE))
        except TunesmithError as error:
            skipped.append(f"{record.title}: {error.message}")
    if not clips:
        raise TunesmithError("None of the playlist's tracks could be rendered for a preview")
    audio = crossfade_concat(clips, sample_rate=SAMPLE_RATE, fade_s=fade_s)
    path = ctx.workdir / "preview.wav"
    soundfile.write(str(path), audio, SAMPLE_RATE, subtype="PCM_16")
    return path, skipped


def make_playlist_tool(args: PlaylistArgs, ctx: ToolContext) -> ToolResult:
    from retrieval.exports import write_all
    from retrieval.playlist import make_playlist

    library = open_library(ctx.settings, progress=lambda stage, i, n: ctx.progress(0.3 * i / max(n, 1), stage))
    ctx.progress(0.35, "choosing and ordering tracks")
    playlist = make_playlist(library, args.prompt, duration_min=args.duration_min, count=args.count, seed=args.seed,
                             filters=args.filters)
    files = write_all(playlist, ctx.workdir)
    data = playlist.public()
    if args.preview:
        path, skipped = render_preview(playlist, ctx, seconds=args.preview_seconds)
        files["preview"] = path
        data["preview_skipped"] = skipped
    flow = playlist.flow
    summary = (f"{len(playlist.tracks)} tracks, {playlist.total_seconds / 60:.1f} min for {args.prompt!r}; "
               f"transition cost {flow['mean_transition_cost']} vs {flow['random_mean_transition_cost']} for a random order, "
               f"{flow['key_compatible_fraction'] if flow['key_compatible_fraction'] is not None else '-'} of moves key-compatible.")
    ctx.progress(1.0, "done")
    return ToolResult(kind="playlist", summary=summary, data=data, files=files, seed=args.seed)


DESCRIPTION = ("Make a playlist from a prompt: relevant and varied tracks (MMR), total length within ±5 % of duration_min "
               "or exactly count tracks, ordered for smooth flow (tempo, energy, Camelot key moves). Args: prompt, "
               "duration_min or count, seed, preview (crossfaded audio), preview_seconds, filters. "
               "Writes playlist.m3u8, playlist.xspf, playlist.json (and preview.wav).")

TOOLS = [Tool(name="make_playlist", description=DESCRIPTION, args_model=PlaylistArgs, run=make_playlist_tool)]
