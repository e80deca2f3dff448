"""video_soundtrack: music for a video, found in the catalogue or composed, with bar lines on the cuts."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from tools.guards import FileKind
from tools.music.errors import TunesmithError
from tools.registry import Tool, ToolContext, ToolResult, load_registry
from tools.search import open_library


class SoundtrackArgs(BaseModel):
    video: str = Field(min_length=1, max_length=1000, description="video file or artifact id")
    prompt: str = Field(default="", max_length=500, description="what the music should feel like (steers the picture's reading)")
    mode: Literal["retrieve", "compose"] = Field(default="retrieve", description="find a catalogue track or compose one")
    preview: bool = Field(default=True, description="write preview.mp4 with the music muxed in")
    limit: int = Field(default=5, ge=1, le=50, description="retrieve: how many ranked tracks")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


def _retrieve(args: SoundtrackArgs, ctx: ToolContext, analysis) -> tuple[list[dict], object | None, float]:
    from retrieval.alignment import best_offset

    target = analysis.target
    library = open_library(ctx.settings, progress=lambda stage, i, n: ctx.progress(0.2 + 0.2 * i / max(n, 1), stage))
    query = f"{target['mood']} {target['mode']} {args.prompt}".strip()
    hits = library.search(query, limit=200, pool=400)
    ranked = []
    for hit in hits:
        record = hit.record
        bar = record.beats_per_bar * 60.0 / record.tempo_bpm
        offset, error = best_offset(analysis.cuts, bar)
        tempo_fit = math.exp(-abs(math.log(record.tempo_bpm / target["tempo_bpm"])) / 0.25)
        energy_fit = 1.0 - abs(record.energy - target["energy"])
        align_fit = 1.0 - min(1.0, error / (bar / 4)) if analysis.cuts else 1.0
        covers = 1.0 if record.duration_s >= analysis.duration_s + offset else record.duration_s / (analysis.duration_s + offset)
        score = 0.3 * hit.semantic + 0.25 * tempo_fit + 0.15 * energy_fit + 0.15 * align_fit + 0.15 * covers
        reason = (f"{record.tempo_bpm:.0f} BPM for a target of {target['tempo_bpm']:.0f}, energy {record.energy:.2f} vs "
                  f"{target['energy']:.2f}, {record.key or 'key unknown'}; start {offset:.2f} s in puts bar lines "
                  f"{error * 1000:.0f} ms from the cuts on average")
        ranked.append((score, record, offset, error, reason))
    ranked.sort(key=lambda item: -item[0])
    results = [{**record.public(), "score": round(score, 4), "offset_s": round(offset, 3),
                "mean_cut_error_s": round(error, 4), "reason": reason}
               for score, record, offset, error, reason in ranked[:args.limit]]
    if not ranked:
        raise TunesmithError("No catalogue track suits this video")
    best = ranked[0]
    return results, best[1], best[2]


def _text_to_song() -> Tool:
    """text_to_song from the registry; straight from its module if another tool module fails to load."""
    import importlib.util

    try:
        registry = load_registry()
        if "text_to_song" in registry:
            return registry.get("text_to_song")
    except (ImportError, AttributeError):
        pass
    if importlib.util.find_spec("tools.song") is not None:
        from tools.song import TOOLS as SONG_TOOLS

        return next(t for t in SONG_TOOLS if t.name == "text_to_song")
    raise TunesmithError("Composing needs the text_to_song tool, which is not installed here", hint="use mode 'retrieve'")


def _compose(args: SoundtrackArgs, ctx: ToolContext, analysis) -> tuple[dict, object]:
    from retrieval.alignment import bar_errors, fit_tempo

    tool = _text_to_song()
    target = analysis.target
    fit = fit_tempo(analysis.cuts, beats_per_bar=4, target_bpm=target["tempo_bpm"], low_bpm=60, high_bpm=180)
    duration = max(10.0, math.ceil(analysis.duration_s + 1.0))
    prompt = f"instrumental {target['mood']} film soundtrack" + (f", {args.prompt}" if args.prompt else "")
    song_args = {"prompt": prompt, "mood": target["mood"].split(",")[0], "tempo_bpm": fit.tempo_bpm,
                 "duration_s": duration, "vocals": "none", "seed": args.seed,
                 "key": "C major" if target["mode"] == "major" else "A minor", "title": "Soundtrack"}
    result = tool.invoke(song_args, ctx)
    song = result.song
    if song is None:
        raise TunesmithError("text_to_song returned no song")
    if abs(song.beats_per_bar - 4) > 1e-6 or abs(song.tempo_bpm - fit.tempo_bpm) > 0.01:
        # the style chose another meter (or rounded the tempo): refit for its bar and compose again
        fit = fit_tempo(analysis.cuts, beats_per_bar=song.beats_per_bar, target_bpm=target["tempo_bpm"], low_bpm=60, high_bpm=180)
        result = tool.invoke({**song_args, "tempo_bpm": fit.tempo_bpm}, ctx)
        song = result.song
    bar = song.beats_per_bar * song.seconds_per_beat
    errors = bar_errors(analysis.cuts, bar) if analysis.cuts else []
    info = {"tempo_bpm": song.tempo_bpm, "meter": song.meter, "key": song.key, "bar_seconds": round(bar, 4),
            "cut_errors_ms": [round(float(e) * 1000, 1) for e in errors],
            "max_cut_error_ms": round(float(max(errors, default=0.0)) * 1000, 1), "song_summary": result.summary}
    return info, result


def video_soundtrack(args: SoundtrackArgs, ctx: ToolContext) -> ToolResult:
    from retrieval.video import analyze_video, musical_target

    source = ctx.resolve_source(args.video, allowed=(FileKind.VIDEO,))
    if source.path is None:
        raise TunesmithError("The video artifact has no file")
    ctx.progress(0.05, "reading the video")
    analysis = analyze_video(source.path, max_seconds=ctx.settings.max_audio_seconds)
    analysis.target = musical_target(analysis, args.prompt)
    data = {"video": analysis.public(), "mode": args.mode}
    files = {}
    audio = None
    from tools.music.synth import SAMPLE_RATE

    if args.mode == "retrieve":
        results, best, offset = _retrieve(args, ctx, analysis)
        data["tracks"] = results
        summary = (f"{len(results)} tracks for a {analysis.duration_s:.1f} s video with {len(analysis.cuts)} cuts "
                   f"(target {analysis.target['tempo_bpm']:.0f} BPM, {analysis.target['mood']}); best: {results[0]['title']} "
                   f"from {results[0]['offset_s']:.2f} s.")
        if args.preview:
            from retrieval.loader import audio_for

            ctx.progress(0.6, f"rendering {best.title}")
            audio = audio_for(best, seconds=offset + analysis.duration_s + 0.5, sample_rate=SAMPLE_RATE)[int(offset * SAMPLE_RATE):]
    else:
        info, result = _compose(args, ctx, analysis)
        data["composed"] = info
        files.update(result.files)
        summary = (f"Composed {info['tempo_bpm']:g} BPM {info['meter']} {info['key']} for a {analysis.duration_s:.1f} s video; "
                   f"bar lines within {info['max_cut_error_ms']:.0f} ms of its {len(analysis.cuts)} cuts.")
        if args.preview:
            import soundfile

            wav = next((p for name, p in result.files.items() if str(p).endswith(".wav") and "stem" not in name), None)
            if wav is not None:
                audio, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
                if rate != SAMPLE_RATE:
                    raise TunesmithError(f"Unexpected sample rate {rate} in the composed audio")
    if audio is not None:
        from retrieval.media import fit_length, mux_preview

        ctx.progress(0.85, "muxing the preview video")
        audio = fit_length(audio, analysis.duration_s, sample_rate=SAMPLE_RATE)
        files["preview"] = mux_preview(source.path, audio, SAMPLE_RATE, ctx.workdir / "preview.mp4")
    ctx.progress(1.0, "done")
    return ToolResult(kind="video", summary=summary, data=data, files=files, seed=args.seed)


DESCRIPTION = ("Score a video: reads its length, scene cuts, motion, brightness and colour to choose tempo, energy and mood "
               "(steered by the prompt). mode 'retrieve' ranks catalogue tracks and gives the start offset that puts bar "
               "lines on the cuts; mode 'compose' writes an instrumental with text_to_song at a tempo whose bar lines land on "
               "the cuts. Args: video, prompt, mode, preview (preview.mp4 with the music), limit, seed.")

TOOLS = [Tool(name="video_soundtrack", description=DESCRIPTION, args_model=SoundtrackArgs, run=video_soundtrack)]
