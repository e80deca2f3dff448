"""`tunesmith chat`'s turn printer: thought, errors, file paths and the reply, with @path attachments."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from agent.runtime import Agent
from agent.store import Store
from test_agent_runtime import REGISTRY, ScriptedPlanner, _song
from tools.config import load_settings
from ui.terminal import run_turn, split_attachments


def make_agent(tmp_path: Path) -> Agent:
    settings = load_settings({"TUNESMITH_HOME": str(tmp_path / "home")})
    settings.home.mkdir(parents=True)
    return Agent(Store(settings.home), REGISTRY, ScriptedPlanner(), settings)


def test_split_attachments() -> None:
    text, uploads = split_attachments('@a.mid "@my song.wav" make it a waltz')
    assert text == "make it a waltz" and [u.name for u in uploads] == ["a.mid", "my song.wav"]
    assert split_attachments("email me@home")[1] == []


def test_turn_prints_paths_and_reply(tmp_path: Path) -> None:
    agent = make_agent(tmp_path)
    console = Console(record=True, width=200)
    session = agent.sessions.create().id
    run_turn(agent, session, "rhyme sky", console)
    midi = _song(90.0).to_midi(tmp_path / "tune.mid")
    run_turn(agent, session, f"@{midi} attached", console)
    run_turn(agent, session, "@/no/such/file.mid attached", console)
    run_turn(agent, session, "undo", console)
    out = console.export_text()
    assert "3 rhymes for sky" in out and "rhymes.txt" in out and str(agent.settings.home) in out
    assert "song.mid" in out and "no such file: /no/such/file.mid" in out
    assert "Undone: back to version 1" in out
