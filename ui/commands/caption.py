"""`tunesmith caption FILE [--focus key] [--json]`: describe an audio or symbolic music file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

from tools.music.errors import TunesmithError


def register(app: typer.Typer) -> None:
    @app.command("caption")
    def caption(file: Path = typer.Argument(..., help="audio (wav flac mp3 ogg m4a), MIDI, MusicXML/MXL or ABC"),
                focus: str | None = typer.Option(None, "--focus", help="key | tempo | chords | instruments | …"),
                as_json: bool = typer.Option(False, "--json", help="print the attributes and caption as JSON")) -> None:
        """Describe FILE: key, tempo, meter, chords, instruments, texture, mood and more."""
        from tools.caption import caption_music
        from tools.registry import ToolContext

        args = {"source": str(file)} | ({"focus": focus} if focus else {})
        try:
            result = caption_music.invoke(args, ToolContext(workdir=Path(tempfile.mkdtemp(prefix="tunesmith-caption-"))))
        except TunesmithError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        except Exception as error:  # pydantic validation of --focus
            if error.__class__.__name__ == "ValidationError":
                typer.echo(f"error: invalid option: {error.errors()[0]['msg']}", err=True)
                raise typer.Exit(2) from None
            raise
        typer.echo(json.dumps(result.data, indent=2, default=str) if as_json else result.summary)
