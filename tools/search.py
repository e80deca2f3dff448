"""search_music: find tracks in the catalogue by words, by example ("like" a file) and by filters.

Also home of `open_library`, the one place the tools open the index under ``settings().index_dir``
(one `Library` per folder per process, so the catalogue cache and MiniLM load once).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools.config import Settings
from tools.guards import FileKind
from tools.music.errors import TunesmithError
from tools.registry import Tool, ToolContext, ToolResult

_LIBRARIES: dict[Path, Any] = {}
_LOCK = threading.Lock()


def open_library(settings: Settings, *, ensure_default: bool = True, progress=None):
    """The library in ``settings.index_dir``; builds the default corpus index on first use."""
    from retrieval.library import Library

    directory = settings.index_dir
    with _LOCK:
        library = _LIBRARIES.get(directory)
        if library is None:
            library = _LIBRARIES[directory] = Library(directory)
    if ensure_default and not library.is_default_built():
        library.build_default(progress=progress)
    return library


def caption_for_songs():
    """The symbolic captioner from tools.caption when it exists (user files get richer captions)."""
    try:
        from tools.caption import caption_song
    except ImportError:
        return None

    def captioner(song) -> str:
        result = caption_song(song)
        return result if isinstance(result, str) else getattr(result, "text", None) or getattr(result, "caption", str(result))

    return captioner


def resolve_like(like: str, ctx: ToolContext, library):
    """A `TrackRecord` for ``like``: a catalogue uid, an artifact id, or a music file."""
    from retrieval.ingest import file_hash, record_from_audio, record_from_song

    like = like.strip()
    if like.startswith(("corpus:", "user:")):
        record = library.catalogue.by_uid(like)
        if record is None:
            raise TunesmithError(f"No catalogue track has the id {like!r}", hint="use an id from search results")
        return record
    source = ctx.resolve_source(like, allowed=(FileKind.MIDI, FileKind.MUSICXML, FileKind.ABC, FileKind.AUDIO))
    if source.song is not None:
        return record_from_song(source.song, path=Path(source.artifact_id or "song"), content_hash=source.artifact_id or "song")
    assert source.path is not None
    content_hash = file_hash(source.path)
    if source.kind == FileKind.AUDIO:
        return record_from_audio(source.path, content_hash=content_hash, max_seconds=ctx.settings.max_audio_seconds)
    from retrieval.ingest import _read_symbolic

    song = _read_symbolic(source.path, "midi" if source.kind == FileKind.MIDI else "musicxml")
    return record_from_song(song, path=source.path, content_hash=content_hash)


class SearchArgs(BaseModel):
    query: str = Field(default="", max_length=500, description="what to find, e.g. 'Irish reel in D major'")
    like: str | None = Field(default=None, max_length=1000, description="a file, artifact id or track id to find music like")
    limit: int = Field(default=10, ge=1, le=100, description="how many hits")
    filters: dict[str, Any] | None = Field(default=None, description="key, mode, meter, collection, genre, instrument, lyrics, tempo_min, tempo_max")


def search_music(args: SearchArgs, ctx: ToolContext) -> ToolResult:
    if not args.query.strip() and not args.like and not args.filters:
        raise TunesmithError("Nothing to search for", hint="give a query, a file to search 'like', or filters")
    library = open_library(ctx.settings, progress=lambda stage, i, n: ctx.progress(0.9 * i / max(n, 1), stage))
    like = resolve_like(args.like, ctx, library) if args.like else None
    from retrieval.query import merge_filters, parse_query

    hits = library.search(args.query, like=like, limit=args.limit, filters=args.filters)
    parsed = merge_filters(parse_query(args.query), args.filters).describe()
    lines = [f"{i + 1}. {h.record.title} ({h.record.key or 'key unknown'}, {h.record.meter or '?'}) — {h.reason}"
             for i, h in enumerate(hits[:5])]
    summary = f"{len(hits)} tracks for {args.query or 'your example'!r}" + (":\n" + "\n".join(lines) if lines else ".")
    return ToolResult(kind="search", summary=summary,
                      data={"hits": [h.public() for h in hits], "filters": parsed,
                            "like": like.public() if like is not None else None})


DESCRIPTION = ("Search the music catalogue (music21 corpus plus the user's indexed folders) by words, by example and by "
               "filters. Args: query (e.g. 'slow Scottish air in E minor', 'Bach chorale with words in G major'), like "
               "(a file, artifact id or track id: find music that sounds like it), limit, filters (key, mode, meter, "
               "collection, genre, instrument, lyrics, tempo_min, tempo_max). Each hit has a one-line reason.")

TOOLS = [Tool(name="search_music", description=DESCRIPTION, args_model=SearchArgs, run=search_music)]
