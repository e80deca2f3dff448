"""Building the agent: planner specs, and the clear errors a bad spec gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.factory import make_agent, make_planner
from test_agent_runtime import REGISTRY, ScriptedPlanner
from tools.config import load_settings
from tools.music.errors import TunesmithError


def test_python_spec_loads_a_class_or_an_instance() -> None:
    assert isinstance(make_planner("python:test_agent_runtime:ScriptedPlanner", REGISTRY), ScriptedPlanner)
    with pytest.raises(TunesmithError, match="malformed"):
        make_planner("python:nothing", REGISTRY)
    with pytest.raises(TunesmithError, match="could not be loaded"):
        make_planner("python:no_such_module_here:Planner", REGISTRY)
    with pytest.raises(TunesmithError, match="not a planner"):
        make_planner("python:test_agent_runtime:REGISTRY", REGISTRY)


def test_bad_adapter_spec_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TunesmithError, match="could not be started"):
        make_planner("telepathy:now", REGISTRY)
    settings = load_settings({"TUNESMITH_HOME": str(tmp_path), "TUNESMITH_PLANNER": "telepathy:now"})
    agent = make_agent(settings, registry=REGISTRY)
    assert agent.planner is None and "telepathy" in agent.planner_problem
    session = agent.sessions.create()
    events = list(agent.respond(session.id, "hello"))
    assert events[0].type == "error" and "telepathy" in events[0].text
    with pytest.raises(TunesmithError):
        make_agent(settings, registry=REGISTRY, strict=True)
