"""`tunesmith rhyme WORD` and `tunesmith lyrics analyze|write`: the lyric tools from a terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from tools.music.errors import TunesmithError

MAX_LYRICS_BYTES = 200_000


def _read_text(source: str) -> str:
    """Lyrics from a file path or '-' (standard input), checked for size and encoding."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_LYRICS_BYTES + 1)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise TunesmithError(f"Lyrics file {source} does not exist", hint="give a text file or '-' for stdin")
        if path.stat().st_size > MAX_LYRICS_BYTES:
            raise TunesmithError(f"Lyrics file {source} is too large ({path.stat().st_size} bytes)",
                                 hint=f"the limit is {MAX_LYRICS_BYTES} bytes")
        data = path.read_bytes()
    if len(data) > MAX_LYRICS_BYTES:
        raise TunesmithError("the lyrics are too large", hint=f"the limit is {MAX_LYRICS_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TunesmithError(f"{source} is not UTF-8 text", hint="save the lyrics as plain UTF-8 text") from error


def _run(tool_name: str, args: dict, workdir: Path | None = None):
    import tempfile

    from tools.lyrics import TOOLS
    from tools.registry import ToolContext

    # the lyric tools directly, not the whole registry: a half-installed other capability cannot
    # break `tunesmith rhyme`
    tool = {t.name: t for t in TOOLS}[tool_name]
    folder = workdir or Path(tempfile.mkdtemp(prefix="tunesmith-lyrics-"))
    return tool.invoke(args, ToolContext(workdir=folder))


def register(app: typer.Typer) -> None:
    lyrics_app = typer.Typer(help="Analyse and write lyrics.", no_args_is_help=True)

    @app.command("rhyme")
    def rhyme(word: str = typer.Argument(..., help="the word to rhyme"),
              kind: str = typer.Option("all", "--kind", help="perfect | near | assonance | consonance | multisyllabic | all"),
              syllables: int | None = typer.Option(None, "--syllables", help="only results with this many syllables"),
              limit: int = typer.Option(30, "--limit"),
              as_json: bool = typer.Option(False, "--json", help="print the results as JSON")) -> None:
        """Find rhymes for WORD."""
        args = {"word": word, "kind": kind, "limit": limit}
        if syllables is not None:
            args["syllables"] = syllables
        result = _run("find_rhymes", args)
        if as_json:
            print(json.dumps(result.data, indent=2))
            return
        typer.echo(result.summary)
        for r in result.data["rhymes"]:
            typer.echo(f"  {r['word']:<24} {r['kind']:<14} {r['score']:.2f}  {r['syllables']} syl")

    @lyrics_app.command("analyze")
    def analyze(source: str = typer.Argument(..., help="a lyrics text file, or - for standard input"),
                as_json: bool = typer.Option(False, "--json", help="print the analysis as JSON")) -> None:
        """Syllables, stresses, rhyme scheme, meter and singability warnings of lyrics."""
        result = _run("analyze_lyrics", {"text": _read_text(source)})
        if as_json:
            print(json.dumps(result.data, indent=2))
            return
        typer.echo(result.summary)
        for line in result.data["lines"]:
            typer.echo(f"  {line['rhyme']:<2} {line['syllables']:>2}  {line['stress']:<16} {line['text']}")
        for warning in result.data["warnings"]:
            typer.echo(f"  warning: {warning}")

    @lyrics_app.command("write")
    def write(topic: str = typer.Argument(..., help="what the song is about"),
              scheme: str = typer.Option("ABAB", "--scheme", help="rhyme scheme per stanza"),
              structure: str = typer.Option("verse chorus verse chorus bridge chorus", "--structure"),
              genre: str | None = typer.Option(None, "--genre"),
              mood: str | None = typer.Option(None, "--mood"),
              syllables: int | None = typer.Option(None, "--syllables", help="syllables per line"),
              title: str | None = typer.Option(None, "--title"),
              seed: int = typer.Option(0, "--seed"),
              out: Path | None = typer.Option(None, "--out", help="folder for lyrics.txt"),
              as_json: bool = typer.Option(False, "--json", help="print the lyrics as JSON")) -> None:
        """Write lyrics on TOPIC."""
        args = {"topic": topic, "rhyme_scheme": scheme, "structure": structure, "genre": genre, "mood": mood,
                "syllables_per_line": syllables, "title": title, "seed": seed}
        result = _run("write_lyrics", {k: v for k, v in args.items() if v is not None}, out)
        if as_json:
            print(json.dumps(result.data, indent=2))
            return
        typer.echo(result.data["title"])
        typer.echo("")
        typer.echo(result.data["text"])

    app.add_typer(lyrics_app, name="lyrics")
