"""`tunesmith song`: write, arrange and sing a song into a folder."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tools.music.errors import TunesmithError


def register(app: typer.Typer) -> None:
    @app.command("song")
    def song(
        prompt: str = typer.Option("", "--prompt", "-p", help="what the song is about and how it sounds"),
        lyrics: Path | None = typer.Option(None, "--lyrics", help="a text file of lyrics ([verse]/[chorus] tags optional)"),
        genre: str | None = typer.Option(None, "--genre", help="style, e.g. folk, bossa nova, synthpop"),
        mood: str | None = typer.Option(None, "--mood", help="e.g. melancholy, happy"),
        key: str | None = typer.Option(None, "--key", help="e.g. 'A minor', 'Bb major'"),
        tempo: float | None = typer.Option(None, "--tempo", help="beats per minute"),
        duration: float | None = typer.Option(None, "--duration", help="target length in seconds"),
        vocals: str | None = typer.Option(None, "--vocals", help="female | male | none"),
        title: str | None = typer.Option(None, "--title"),
        seed: int = typer.Option(0, "--seed"),
        blueprint: Path | None = typer.Option(None, "--blueprint", help="an edited blueprint.json to render as given"),
        out: Path = typer.Option(..., "--out", help="folder for the song's files"),
        as_json: bool = typer.Option(False, "--json", help="print the manifest as JSON"),
    ) -> None:
        """Write and sing a complete song with accompaniment."""
        from tools.registry import ToolContext
        from tools.song import TOOLS  # this command's own tool: no need to import every other one

        lyric_text = None
        if lyrics is not None:
            if not lyrics.is_file():
                raise TunesmithError(f"Lyrics file {lyrics} does not exist")
            if lyrics.stat().st_size > 200_000:
                raise TunesmithError(f"Lyrics file {lyrics} is too large ({lyrics.stat().st_size} bytes)")
            try:
                lyric_text = lyrics.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                raise TunesmithError(f"Lyrics file {lyrics} is not UTF-8 text") from error
        edited = None
        if blueprint is not None:
            try:
                edited = json.loads(blueprint.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise TunesmithError(f"Blueprint {blueprint} is not readable JSON: {error}") from error
        args = {"prompt": prompt, "lyrics": lyric_text, "genre": genre, "mood": mood, "key": key, "tempo_bpm": tempo,
                "duration_s": duration, "vocals": vocals, "title": title, "seed": seed, "blueprint": edited}
        tool = TOOLS[0]
        result = tool.invoke({k: v for k, v in args.items() if v is not None}, ToolContext(workdir=out))
        if as_json:
            print(json.dumps(result.data["manifest"], indent=2, default=str))
        else:
            typer.echo(result.summary)
            for name, path in result.files.items():
                typer.echo(f"  {name}: {path}")
