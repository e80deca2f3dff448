"""text_to_song: a full sung song with accompaniment from a prompt and/or lyrics, on a CPU.

Stages, each callable on its own: `make_blueprint` (the musical thought) → `compose_song`
(symbolic Song) → `render_song` (audio, exports, manifest, closed-loop check).
"""

from __future__ import annotations

from tools.registry import Tool, ToolContext, ToolResult
from tools.song.blueprint import Blueprint, SongArgs, make_blueprint
from tools.song.compose import compose_song
from tools.song.presets import load_preset, nearest_preset
from tools.song.render import render_song

__all__ = ["Blueprint", "SongArgs", "make_blueprint", "compose_song", "render_song", "load_preset",
           "nearest_preset", "text_to_song", "TOOLS"]

DESCRIPTION = (
    "Write and sing a complete song with accompaniment from a prompt and/or lyrics. "
    "Args: prompt (topic and sound), lyrics (optional, [verse]/[chorus] tags), genre (e.g. folk, bossa nova, "
    "synthpop; unknown styles map to the nearest preset), mood, tempo_bpm, key ('A minor'), duration_s, "
    "vocals (female|male|none), title, seed, blueprint (an edited outline). Returns song.wav/mp3, stems, "
    "MIDI with lyrics, MusicXML lead sheet, LRC, blueprint.json and manifest.json."
)


def text_to_song(args: SongArgs, ctx: ToolContext) -> ToolResult:
    """Run the whole pipeline into ``ctx.workdir``."""
    limit = ctx.settings.max_song_seconds
    if args.duration_s and args.duration_s > limit:
        from tools.music.errors import TunesmithError

        raise TunesmithError(f"A {args.duration_s:.0f} s song is longer than the {limit:.0f} s limit",
                             hint="ask for a shorter song or raise max_song_seconds")
    ctx.progress(0.05, "outlining the song")
    blueprint = make_blueprint(args)
    if blueprint.duration_s > limit:
        from tools.music.errors import TunesmithError

        raise TunesmithError(f"The song would last {blueprint.duration_s:.0f} s, over the {limit:.0f} s limit",
                             hint="shorten the lyrics or the form")
    ctx.progress(0.15, "composing melody and arrangement")
    song = compose_song(blueprint, seed=args.seed)
    ctx.progress(0.3, "rendering instruments and voice")
    requested = {"key": blueprint.key, "tempo_bpm": blueprint.tempo_bpm,
                 "duration_s": args.duration_s or round(blueprint.duration_s, 3),
                 "style": args.genre or args.prompt or None, "vocals": args.vocals}
    recipe = {"tool": "text_to_song", "args": args.model_dump(exclude={"blueprint"}), "seed": args.seed}
    output = render_song(song, ctx.workdir, vocals=blueprint.vocals, blueprint=blueprint, requested=requested,
                         recipe=recipe)
    ctx.progress(1.0, "done")
    m = output.manifest
    summary = (f"“{m['title']}”: {m['style']} in {m['key']}, {m['tempo_bpm']:g} BPM, {m['duration_s']:.0f} s, "
               f"{'sung by a ' + m['vocals'] + ' voice' if m['vocals'] != 'none' else 'instrumental'}; "
               f"form {' / '.join(s['name'] for s in m['sections'])}.")
    if m["warnings"]:
        summary += " Note: " + "; ".join(m["warnings"])
    return ToolResult(kind="song", summary=summary, data={"manifest": m, "blueprint": blueprint.model_dump()},
                      files=output.files, song=song, seed=args.seed)


TOOLS = [Tool(name="text_to_song", description=DESCRIPTION, args_model=SongArgs, run=text_to_song)]
