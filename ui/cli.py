"""The `tunesmith` command. Capabilities add their commands from ``ui/commands/<name>.py``.

Each command module exposes ``register(app)``; this file only wires them together, so work on one
capability never edits another's commands.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

import typer
from rich.console import Console
from rich.table import Table

from tools.config import prepare_environment, settings
from tools.music.errors import TunesmithError

app = typer.Typer(help="Tunesmith: a chat-style music agent that writes, sings, describes and finds music.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()


@app.command()
def version() -> None:
    """Print the Tunesmith version."""
    from importlib.metadata import version as package_version

    console.print(f"tunesmith {package_version('tunesmith')}")


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Report which parts are present and how to install what is missing."""
    from tools.music.resources import check_parts

    parts = check_parts(settings().soundfont)
    if as_json:
        print(json.dumps([part.__dict__ for part in parts], indent=2))
        return
    table = Table(title="Tunesmith parts")
    for column in ("part", "status", "where / install"):
        table.add_column(column)
    for part in parts:
        table.add_row(part.name, "[green]present[/]" if part.present else "[red]missing[/]",
                      part.detail if part.present else part.install)
    console.print(table)
    console.print(f"data dir: {settings().home}")


@app.command("tools")
def list_tools(as_json: bool = typer.Option(False, "--json", help="print the OpenAI tool schemas")) -> None:
    """List the registered tools."""
    from tools.registry import load_registry

    registry = load_registry()
    if as_json:
        print(json.dumps(registry.openai_schemas(), indent=2))
        return
    table = Table(title=f"{len(registry)} tools")
    table.add_column("tool")
    table.add_column("what it does")
    for tool in registry:
        table.add_row(tool.name, tool.description.split(". ")[0])
    for module, reason in registry.unavailable.items():
        table.add_row(f"[red]{module}[/]", f"[red]unavailable: {reason}[/]")
    console.print(table)


def _register_commands() -> None:
    import ui.commands as commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"ui.commands.{module.name}").register(app)


def main() -> None:
    prepare_environment()
    _register_commands()
    try:
        app()
    except TunesmithError as error:
        console.print(f"[red]error:[/] {error}")
        sys.exit(2)


if __name__ == "__main__":
    main()
