"""`tunesmith chat`: the agent in a terminal, with rich output and paths of the files it made.

Attach files by starting a line with ``@path`` (one or more), e.g. ``@tune.mid make it a waltz``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from agent.runtime import Agent
from agent.session import Upload

HELP = ("Type a request, e.g. 'make a short happy pop song about coffee'. Attach files with @path. "
        "Commands: undo, go back to version N, compare v1 and v2, versions, /new, /quit.")


def split_attachments(line: str) -> tuple[str, list[Upload]]:
    """Leading ``@path`` words become uploads; the rest is the message."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    uploads: list[Upload] = []
    while words and words[0].startswith("@") and len(words[0]) > 1:
        path = Path(words.pop(0)[1:]).expanduser()
        uploads.append(Upload(name=path.name, path=path))
    return " ".join(words), uploads


def run_turn(agent: Agent, session_id: str, line: str, console: Console) -> None:
    text, uploads = split_attachments(line)
    missing = [u for u in uploads if not u.path.is_file()]
    if missing:
        console.print(f"[red]no such file:[/] {missing[0].path}")
        return
    with console.status("thinking…") as status:
        for event in agent.respond(session_id, text, uploads):
            if event.type == "thought":
                outline = event.data["thought"].get("outline")
                body = event.text or event.data["thought"].get("intent", "")
                if outline:
                    body += (f"\n{outline['style']} · {outline['key']} · {outline['tempo_bpm']:g} BPM · "
                             f"{' → '.join(outline['form'])}")
                console.print(Panel(body, title="musical thought", border_style="cyan"))
            elif event.type in ("progress", "tool_started"):
                fraction = event.data.get("fraction")
                status.update(f"{event.text}" + (f" ({fraction:.0%})" if fraction is not None else ""))
            elif event.type == "error":
                console.print(f"[red]{event.text}[/]")
            elif event.type == "tool_finished":
                artifact = event.data["artifact"]
                for name in artifact["files"]:
                    path = agent.store.file_of(artifact["id"], name)
                    console.print(f"  [green]{name}[/] {path}")
            elif event.type == "reply":
                console.print(Markdown(event.text))


def chat_loop(agent: Agent, console: Console | None = None, session_id: str | None = None) -> None:
    console = console or Console()
    session_id = session_id or agent.sessions.create().id
    console.print(f"[bold]Tunesmith[/] — session {session_id}\n{HELP}")
    while True:
        try:
            line = console.input("[bold magenta]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line == "/new":
            session_id = agent.sessions.create().id
            console.print(f"new session {session_id}")
            continue
        run_turn(agent, session_id, line, console)
