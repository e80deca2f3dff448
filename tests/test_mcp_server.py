"""The MCP face: in-process client over fake tools, and the real `tunesmith mcp` over stdio."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from agent.runtime import Agent
from agent.store import Store
from test_agent_runtime import REGISTRY, ScriptedPlanner, _song
from tools.config import load_settings
from ui.mcp_server import build_mcp_server


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    settings = load_settings({"TUNESMITH_HOME": str(tmp_path / "home")})
    settings.home.mkdir(parents=True)
    return Agent(Store(settings.home), REGISTRY, ScriptedPlanner(), settings)


def test_tools_listed_called_and_errors_reported(agent: Agent, tmp_path: Path) -> None:
    from mcp import Client

    midi = _song(80.0).to_midi(tmp_path / "local.mid")

    async def session() -> tuple:
        async with Client(build_mcp_server(agent)) as client:
            tools = await client.list_tools()
            rhymes = await client.call_tool("find_rhymes", {"word": "star", "count": 2})
            edited = await client.call_tool("edit_song", {"source": str(midi)})
            bad = await client.call_tool("find_rhymes", {"word": ""})
            return tools, rhymes, edited, bad

    tools, rhymes, edited, bad = anyio.run(session)
    by_name = {t.name: t for t in tools.tools}
    assert set(by_name) == {"find_rhymes", "edit_song", "style_transfer", "caption_music"}
    assert by_name["find_rhymes"].input_schema["properties"]["count"]["maximum"] == 10
    assert not rhymes.is_error and "2 rhymes for star" in rhymes.content[0].text
    assert rhymes.structured_content["data"]["rhymes"] == ["stars", "stary"]
    assert Path(rhymes.structured_content["paths"]["rhymes.txt"]).read_text().startswith("stars")
    # a local path became a checked upload, and the edit is a version of it
    assert not edited.is_error, edited.content[0].text
    parent = edited.structured_content["parent_id"]
    assert agent.store.get_artifact(parent).data["upload"] is True
    assert bad.is_error and "word" in bad.content[0].text


def test_tunesmith_mcp_over_stdio(tmp_path: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {"TUNESMITH_HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "TUNESMITH_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env,
                                   cwd=str(Path(__file__).resolve().parents[1]))

    async def session() -> list[str]:
        async with Client(params, read_timeout_seconds=120) as client:
            return [t.name for t in (await client.list_tools()).tools]

    names = anyio.run(session)
    assert "text_to_song" in names
