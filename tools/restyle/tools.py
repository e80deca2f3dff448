"""The two tools: `style_transfer` (a whole song into another style) and `edit_song` (one named
part changed, the rest kept). Both return a new song version whose parent is the source."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.music.theory import parse_key
from tools.registry import ARTIFACT_ID, Tool, ToolContext, ToolResult
from tools.restyle.arrange import instrument, rearrange
from tools.restyle.diff import compare_songs
from tools.restyle.edit import EditFields, apply_fields, parse_instruction
from tools.restyle.harmony import change_key, change_meter, fit_range, revoice_chords
from tools.restyle.render import render_sections, write_outputs
from tools.restyle.sections import resolve
from tools.restyle.sources import load_source
from tools.restyle.style import vocals_of
from tools.restyle.voice import song_voice, voice_for

class StyleTransferArgs(BaseModel):
    """Arguments of `style_transfer`."""

    source: str = Field(description="song artifact id, or a MIDI/MusicXML/ABC/audio file path")
    target_style: str = Field(max_length=200, description="a style preset or free words (mapped to the nearest)")
    tempo_bpm: float | None = Field(default=None, ge=40, le=220)
    key: str | None = Field(default=None, max_length=20, description="e.g. 'D minor'")
    mode: Literal["major", "minor"] | None = Field(default=None, description="change mode, keeping the tonic")
    instrumentation: list[str] = Field(default_factory=list, description="instrument words, e.g. ['strings', 'flute']")
    vocals: Literal["keep", "female", "male", "none"] = "keep"
    swing: float | None = Field(default=None, ge=0, le=0.5, description="0 straight … 0.33 triplet feel")
    instruction: str = Field(default="", max_length=1000, description="free words, e.g. 'a bit faster'")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator("instrumentation", mode="before")
    @classmethod
    def _instruments(cls, value):
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if not value or not value.strip() else str(parse_key(value))


class EditSongArgs(BaseModel):
    """Arguments of `edit_song`."""

    source: str = Field(description="song artifact id or song.json / MIDI path")
    section: str | None = Field(default=None, max_length=100, description="'chorus 2', 'verse 1 line 3', 'intro'")
    instruction: str = Field(default="", max_length=1000, description="free words: 'bigger', 'add strings'")
    energy: Literal["+", "-"] | None = Field(default=None, description="+ (or up/more) / - (or down/less)")
    add: list[str] = Field(default_factory=list, description="instrument words to add")
    remove: list[str] = Field(default_factory=list, description="instrument words to remove")
    bars: int | None = Field(default=None, ge=-32, le=32, description="+N extend / -N shorten")
    lyrics: str | None = Field(default=None, max_length=5000, description="new words, or 'rewrite'")
    key: str | None = Field(default=None, max_length=20)
    tempo_bpm: float | None = Field(default=None, ge=40, le=220)
    vocals: Literal["female", "male", "none"] | None = None
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator("energy", mode="before")
    @classmethod
    def _energy_words(cls, value):
        if isinstance(value, str):
            return {"up": "+", "more": "+", "higher": "+", "down": "-", "less": "-", "lower": "-"}.get(
                value.strip().lower(), value.strip())
        return value

    @field_validator("add", "remove", mode="before")
    @classmethod
    def _listed(cls, value):
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def restyle_song(song: Song, args: StyleTransferArgs) -> tuple[Song, dict]:
    """The symbolic style transfer (no audio): returns the new song and what was decided."""
    from tools.song.presets import nearest_preset

    match = nearest_preset(args.target_style)
    preset = match.preset
    vocals = vocals_of(song) if args.vocals == "keep" else args.vocals
    if song.meter != preset.meter:
        song = change_meter(song, preset.meter)
    key = args.key or (f"{parse_key(song.key).tonic_name} {args.mode}" if args.mode else None)
    if key:
        song = change_key(song, key)
    tempo = args.tempo_bpm
    if not tempo and args.instruction:
        tempo = parse_instruction(args.instruction, song).tempo_bpm  # "faster" / "slower"
    if tempo:
        song = song.model_copy(update={"tempo_bpm": float(tempo)})
    voice = voice_for(vocals, preset.name) if vocals != "none" else None
    if voice is not None:  # the melody sits in the style's singer's range
        song = fit_range(song, voice.low, voice.high)
    song = revoice_chords(song, preset.name)
    programs = {}
    for word in args.instrumentation:
        _, program, role = instrument(word)
        if role != "drums":
            programs[role] = program
    restyled = rearrange(song, preset, vocals=vocals, swing=args.swing, instrumentation=programs, seed=args.seed)
    decided = {"style": preset.name, "style_match": {"query": args.target_style, "method": match.method,
                                                      "score": round(match.score, 3)},
               "vocals": vocals, "voice": dataclasses.asdict(voice) if voice else None,
               "key": restyled.key, "tempo_bpm": restyled.tempo_bpm, "meter": restyled.meter}
    return restyled, decided


def _manifest(song: Song, rendered, files, extra: dict, *, inherited_gain: bool = False) -> dict:
    return {"title": song.title, "key": song.key, "tempo_bpm": song.tempo_bpm, "meter": song.meter,
            "duration_s": round(rendered.audio.shape[0] / 44100, 3),
            "sections": [{"name": s.name, "kind": s.kind, "bars": s.bars, "chords": s.chords, "energy": s.energy,
                          "lyrics": s.lyrics} for s in song.sections],
            "tracks": [{"name": t.name, "program": t.program, "role": t.role, "notes": len(t.notes)}
                       for t in song.all_tracks()],
            "render": {"seconds": rendered.seconds, "rendered_sections": rendered.rendered,
                       "reused_sections": rendered.reused},
            "master": rendered.master_info(inherited=inherited_gain),
            "files": {k: p.name for k, p in files.items()}, **extra}


def _sung_by(voice: dict) -> str:
    base = voice["name"].split(" (")[0]
    if voice["name"] == base:
        return f"sung by a {base} voice"
    return (f"sung by a {base} voice in the {voice['name'].split(' (')[1].rstrip(')')} manner (vibrato "
            f"{voice['vibrato_cents']:g} cents at {voice['vibrato_hz']:g} Hz, breathiness {voice['breathiness']:g})")


def style_transfer(args: StyleTransferArgs, ctx: ToolContext) -> ToolResult:
    """Load, restyle, render into ``ctx.workdir``."""
    ctx.progress(0.05, "reading the source")
    loaded = load_source(ctx, args.source)
    ctx.progress(0.3, "re-arranging")
    song, decided = restyle_song(loaded.song, args)
    ctx.progress(0.5, "rendering")
    rendered = render_sections(song, vocals=decided["vocals"])
    files = write_outputs(song, rendered, ctx.workdir)
    manifest = _manifest(song, rendered, files, {"source": loaded.origin, **decided,
                                                 "recipe": {"tool": "style_transfer", "args": args.model_dump()}})
    (ctx.workdir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    files["manifest.json"] = ctx.workdir / "manifest.json"
    summary = (f"“{song.title}” as {decided['style']} ({decided['style_match']['method']} match for "
               f"{args.target_style!r}): {song.key}, {song.tempo_bpm:g} BPM, {song.meter}, "
               f"{_sung_by(decided['voice']) if decided['voice'] else 'instrumental'}; "
               f"parts: {', '.join(t.name for t in song.tracks)}.")
    return ToolResult(kind="song", summary=summary, data={"manifest": manifest}, files=files, song=song,
                      parent_id=loaded.parent_id, seed=args.seed)


def edit_fields_of(args: EditSongArgs, song: Song) -> EditFields:
    """Structured fields win; the free-words instruction fills what they leave empty."""
    parsed = parse_instruction(args.instruction, song)
    return EditFields(
        energy={"+": 1.0, "-": -1.0}.get(args.energy or "", parsed.energy),
        add=args.add or parsed.add, remove=args.remove or parsed.remove,
        bars=args.bars if args.bars is not None else parsed.bars,
        lyrics=args.lyrics if args.lyrics is not None else parsed.lyrics,
        key=str(parse_key(args.key)) if args.key else parsed.key,
        tempo_bpm=args.tempo_bpm or parsed.tempo_bpm)


def parent_master_gain(ctx: ToolContext, source: str) -> float | None:
    """The master gain the source version was rendered with by this renderer (its manifest, in
    the artifact store or beside a song.json), or None: a song rendered elsewhere is mastered afresh."""
    from tools.restyle.render import CACHE_VERSION

    path = Path((source or "").strip()).expanduser()
    try:
        if path.suffix.lower() == ".json" and path.is_file():
            manifest_path = path.with_name("manifest.json")
        elif ctx.artifacts is not None and ARTIFACT_ID.match((source or "").strip()):
            manifest_path = ctx.artifacts.file_of(source.strip(), "manifest.json")
        else:
            return None
        master = json.loads(manifest_path.read_text(encoding="utf-8")).get("master") or {}
    except (TunesmithError, OSError, ValueError, AttributeError):
        return None  # no manifest, or not one of ours
    if master.get("renderer") != CACHE_VERSION or not isinstance(master.get("gain_db"), (int, float)):
        return None
    return float(master["gain_db"])


def edit_song(args: EditSongArgs, ctx: ToolContext) -> ToolResult:
    """Change the named part only; re-render only what changed."""
    loaded = load_source(ctx, args.source)
    song = loaded.song
    parent_gain = parent_master_gain(ctx, args.source)
    target = resolve(song, args.section)
    fields = edit_fields_of(args, song)
    edited, changes = apply_fields(song, target, fields, seed=args.seed)
    if not changes and not args.vocals:
        raise TunesmithError(f"Nothing to change in {args.instruction!r}",
                             hint="say e.g. 'bigger', 'add strings', 'two bars longer', or give lyrics, key or tempo")
    vocals = args.vocals or vocals_of(song)
    if args.vocals:
        changes.append(f"vocals: {args.vocals}")
        edited = edited.model_copy(update={"style_tags": [t for t in edited.style_tags if not t.endswith(" vocals")]
                                           + [f"{vocals} vocals"]})
    rendered = render_sections(edited, vocals=vocals, gain_db=parent_gain)
    files = write_outputs(edited, rendered, ctx.workdir)
    diff = compare_songs(song, edited)
    manifest = _manifest(edited, rendered, files, {"source": loaded.origin, "section": args.section,
                                                   "changes": changes, "diff": diff, "vocals": vocals,
                                                   "voice": dataclasses.asdict(song_voice(edited, vocals))
                                                   if vocals != "none" else None,
                                                   "recipe": {"tool": "edit_song", "args": args.model_dump()}},
                         inherited_gain=parent_gain is not None)
    (ctx.workdir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    files["manifest.json"] = ctx.workdir / "manifest.json"
    summary = "; ".join(changes) + (f". Re-rendered {', '.join(rendered.rendered) or 'nothing'}; kept "
                                    f"{', '.join(rendered.reused) or 'nothing'} as it was.")
    return ToolResult(kind="song", summary=summary[0].upper() + summary[1:], data={"manifest": manifest, "diff": diff},
                      files=files, song=edited, parent_id=loaded.parent_id, seed=args.seed)


STYLE_DESCRIPTION = (
    "Re-arrange a song in another style, keeping its melody and lyrics. Args: source (song artifact, MIDI, "
    "MusicXML, ABC or audio: a hummed or sung tune becomes the melody), target_style (preset or free words), "
    "tempo_bpm, key or mode (major/minor), instrumentation (instrument words), vocals (keep/female/male/none), "
    "swing. Harmony is re-voiced to the style (jazz sevenths and ii-V, waltz in 3/4 ...). Returns a new version.")
EDIT_DESCRIPTION = (
    "Change one named part of a song and keep the rest exactly: section ('chorus 2', 'verse 1 line 3', 'intro'), "
    "instruction (free words) and/or fields energy (+/-), add/remove instruments, bars (+N/-N), lyrics "
    "(new words or 'rewrite'), key, tempo_bpm, vocals. Only changed sections are re-rendered. Returns a new version.")

TOOLS = [Tool(name="style_transfer", description=STYLE_DESCRIPTION, args_model=StyleTransferArgs, run=style_transfer),
         Tool(name="edit_song", description=EDIT_DESCRIPTION, args_model=EditSongArgs, run=edit_song)]
