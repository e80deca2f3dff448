"""`tunesmith restyle`, `tunesmith edit` and `tunesmith versions`: style transfer, section edits
and the version tree of a song, from the terminal. Results are stored as artifacts (new versions
linked to their parent) so `versions` and later edits can name them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tools.music.errors import TunesmithError


def _store():
    from agent.store import Store
    from tools.config import settings

    return Store(settings().home)


def _tool(name: str):
    """Our own tool object (not the whole registry: one half-installed capability must not stop this)."""
    from tools.restyle import TOOLS

    return next(t for t in TOOLS if t.name == name)


def _keep(store, result, tool: str, args: dict) -> str:
    record = store.add_artifact(kind=result.kind, summary=result.summary, files=result.files, data=result.data,
                                recipe={"tool": tool, "args": args}, tool=tool, song=result.song,
                                parent_id=result.parent_id)
    return record.id


def _report(result, artifact_id: str, as_json: bool, out: Path) -> None:
    if as_json:
        print(json.dumps({"artifact_id": artifact_id, "parent_id": result.parent_id, "summary": result.summary,
                          "out": str(out), "manifest": result.data.get("manifest")}, indent=2, default=str))
    else:
        typer.echo(result.summary)
        typer.echo(f"  version: {artifact_id}" + (f" (parent {result.parent_id})" if result.parent_id else ""))
        for name, path in result.files.items():
            typer.echo(f"  {name}: {path}")


def register(app: typer.Typer) -> None:
    @app.command("restyle")
    def restyle(
        source: str = typer.Argument(..., help="song artifact id, MIDI, MusicXML, ABC or audio file"),
        style: str = typer.Option(..., "--style", help="target style: a preset or free words"),
        tempo: float | None = typer.Option(None, "--tempo", help="beats per minute"),
        key: str | None = typer.Option(None, "--key", help="e.g. 'D minor'"),
        mode: str | None = typer.Option(None, "--mode", help="major | minor (keeps the tonic)"),
        instrument: list[str] = typer.Option([], "--instrument", help="an instrument to feature (repeatable)"),
        vocals: str = typer.Option("keep", "--vocals", help="keep | female | male | none"),
        swing: float | None = typer.Option(None, "--swing", help="0 straight … 0.33 triplet feel"),
        seed: int = typer.Option(0, "--seed"),
        out: Path = typer.Option(..., "--out", help="folder for the new version's files"),
        as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    ) -> None:
        """Re-arrange a song in another style, keeping its melody and lyrics."""
        from tools.registry import ToolContext

        store = _store()
        args = {"source": source, "target_style": style, "tempo_bpm": tempo, "key": key, "mode": mode,
                "instrumentation": instrument, "vocals": vocals, "swing": swing, "seed": seed}
        args = {k: v for k, v in args.items() if v is not None}
        result = _tool("style_transfer").invoke(args, ToolContext(workdir=out, artifacts=store))
        _report(result, _keep(store, result, "style_transfer", args), as_json, out)

    @app.command("edit")
    def edit(
        source: str = typer.Argument(..., help="song artifact id (or a song.json / MIDI file)"),
        section: str | None = typer.Option(None, "--section", help="'chorus 2', 'verse 1 line 3', 'intro'"),
        instruction: str = typer.Option("", "--instruction", help="free words: 'bigger', 'add strings'"),
        energy: str | None = typer.Option(None, "--energy", help="+ or -"),
        add: list[str] = typer.Option([], "--add", help="instrument to add (repeatable)"),
        remove: list[str] = typer.Option([], "--remove", help="instrument to remove (repeatable)"),
        bars: int | None = typer.Option(None, "--bars", help="+N extend / -N shorten"),
        lyrics: str | None = typer.Option(None, "--lyrics", help="new words (lines split by newlines) or 'rewrite'"),
        key: str | None = typer.Option(None, "--key"),
        tempo: float | None = typer.Option(None, "--tempo"),
        out: Path | None = typer.Option(None, "--out", help="folder for the new version (default: a new folder "
                                                               "under the data dir)"),
        as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    ) -> None:
        """Change one named part of a song; everything else stays as it was."""
        from tools.config import settings
        from tools.registry import ToolContext

        store = _store()
        if out is None:
            import uuid

            out = settings().cache_dir / "edits" / uuid.uuid4().hex[:12]
        args = {"source": source, "section": section, "instruction": instruction, "energy": energy, "add": add,
                "remove": remove, "bars": bars, "lyrics": lyrics, "key": key, "tempo_bpm": tempo}
        args = {k: v for k, v in args.items() if v is not None}
        result = _tool("edit_song").invoke(args, ToolContext(workdir=out, artifacts=store))
        _report(result, _keep(store, result, "edit_song", args), as_json, out)

    @app.command("versions")
    def versions(
        artifact: str = typer.Argument(..., help="any version's artifact id"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The version tree of a song: every version, its parent, and what it was."""
        store = _store()
        tree = store.version_tree(artifact)
        rows = []
        for node, parent, depth in tree:
            record = store.get_artifact(node)
            rows.append({"id": node, "parent": parent, "depth": depth, "tool": record.tool, "summary": record.summary})
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        for row in rows:
            marker = " *" if row["id"] == artifact else ""
            typer.echo(f"{'  ' * row['depth']}{row['id']}{marker}  [{row['tool'] or '?'}] {row['summary'][:80]}")


__all__ = ["register", "TunesmithError"]
