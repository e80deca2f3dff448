"""`tunesmith index add|build|info`, `tunesmith search`, `tunesmith playlist`, `tunesmith soundtrack`."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def _bar():
    """A rich progress bar and a callback (stage, done, total) that drives it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=False)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    return progress, update


def _context(out: Path | None):
    from tools.registry import ToolContext

    folder = Path(tempfile.mkdtemp(prefix="tunesmith-retrieval-")) if out is None else out
    return ToolContext(workdir=folder)


def _library(progress=None):
    from tools.config import settings
    from tools.search import open_library

    return open_library(settings(), ensure_default=False, progress=progress)


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(help="Build and grow the music index.", no_args_is_help=True)

    @index_app.command("build")
    def build(force: bool = typer.Option(False, "--force", help="rebuild even when already built"),
              as_json: bool = typer.Option(False, "--json")) -> None:
        """Index the bundled music21 corpus (quick and idempotent once built)."""
        library = _library()
        progress, update = _bar()
        with progress:
            stats = library.build_default(force=force, progress=update)
        stats.update(library.info())
        print(json.dumps(stats, indent=2) if as_json else
              f"{stats['tracks']} tracks indexed ({'built' if stats['built'] else 'already built'}, {stats['seconds']} s)")

    @index_app.command("add")
    def add(folder: Path = typer.Argument(..., help="folder of audio, MIDI, MusicXML or ABC files"),
            as_json: bool = typer.Option(False, "--json")) -> None:
        """Add a music folder (recursive, incremental, resumable; bad files are skipped and listed)."""
        from retrieval.ingest import ingest_folder
        from tools.config import settings
        from tools.search import caption_for_songs

        library = _library()
        progress, update = _bar()
        with progress:
            report = ingest_folder(library, folder.expanduser(), captioner=caption_for_songs(),
                                   progress=lambda i, n, name: update("indexing files", i, n),
                                   max_bytes=settings().max_upload_bytes, max_seconds=settings().max_audio_seconds,
                                   max_notes=settings().max_score_notes)
        data = report.public()
        if as_json:
            print(json.dumps(data, indent=2))
            return
        print(f"added {data['added']}, already indexed {data['already_indexed']}, skipped {len(data['skipped'])} "
              f"({data['seconds']} s)")
        for item in data["skipped"]:
            print(f"  skipped {item['file']}: {item['reason']}")

    @index_app.command("info")
    def info() -> None:
        """Where the index is and what it holds."""
        print(json.dumps(_library().info(), indent=2))

    app.add_typer(index_app, name="index")

    @app.command("search")
    def search(query: str = typer.Argument("", help="what to find"),
               like: str | None = typer.Option(None, "--like", help="a file or track id to find music like"),
               limit: int = typer.Option(10, "--limit"),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Search the music index in words or by example."""
        from tools.registry import load_registry

        result = load_registry().get("search_music").invoke({"query": query, "like": like, "limit": limit}, _context(None))
        print(json.dumps(result.data, indent=2, ensure_ascii=False) if as_json else result.summary)

    @app.command("playlist")
    def playlist(prompt: str = typer.Argument(..., help="what the playlist is"),
                 minutes: float | None = typer.Option(None, "--minutes", help="total length in minutes"),
                 count: int | None = typer.Option(None, "--count", help="number of tracks"),
                 seed: int = typer.Option(0, "--seed"),
                 preview: bool = typer.Option(False, "--preview", help="also render preview.wav with crossfades"),
                 out: Path | None = typer.Option(None, "--out", help="playlist file (.m3u8, .xspf or .json); siblings get the other formats"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
        """Make a playlist and export it as M3U8, XSPF and JSON."""
        from tools.registry import load_registry

        args = {"prompt": prompt, "duration_min": minutes, "count": count, "seed": seed, "preview": preview}
        result = load_registry().get("make_playlist").invoke(args, _context(None))
        files = dict(result.files)
        if out is not None:
            out = out.expanduser()
            out.parent.mkdir(parents=True, exist_ok=True)
            stem = out.with_suffix("")
            for name, path in result.files.items():
                target = out if out.suffix.lstrip(".") == name else stem.with_suffix(Path(path).suffix)
                shutil.copyfile(path, target)
                files[name] = target
        if as_json:
            print(json.dumps({**result.data, "files": {k: str(v) for k, v in files.items()}}, indent=2, ensure_ascii=False))
        else:
            print(result.summary)
            for name, path in files.items():
                print(f"  {name}: {path}")

    @app.command("soundtrack")
    def soundtrack(video: Path = typer.Argument(..., help="the video"),
                   prompt: str = typer.Option("", "--prompt", help="how the music should feel"),
                   mode: str = typer.Option("retrieve", "--mode", help="retrieve | compose"),
                   out: Path | None = typer.Option(None, "--out", help="folder for the preview and files"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
        """Find or compose music for a video, bar lines on its cuts."""
        from tools.registry import load_registry

        result = load_registry().get("video_soundtrack").invoke(
            {"video": str(video.expanduser()), "prompt": prompt, "mode": mode}, _context(out))
        if as_json:
            print(json.dumps({**result.data, "files": {k: str(v) for k, v in result.files.items()}}, indent=2, ensure_ascii=False))
        else:
            print(result.summary)
            for name, path in result.files.items():
                print(f"  {name}: {path}")
