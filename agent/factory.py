"""Wires settings → store, registry, planner → `Agent` (the composition root calls this once).

The planner comes from `adapters.factory.make_planner(spec, tool_schemas=...)`. One spec form is
handled here because it needs no adapter: ``python:package.module:name`` imports a planner object
(or a zero-argument factory) from code the deployer controls — a custom planner, or a scripted one
in tests.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from agent.plan import Planner
from agent.runtime import Agent
from agent.store import Store
from tools.config import Settings, settings as current_settings
from tools.music.errors import TunesmithError
from tools.registry import Registry, load_registry


def make_planner(spec: str, registry: Registry) -> Planner:
    """The planner named by ``spec`` (``embedded``, ``causal:PATH``, ``openai:URL`` or ``python:MOD:NAME``).

    Raises:
        TunesmithError: the spec is malformed or its backend is not installed.
    """
    if spec.startswith("python:"):
        module_name, _, attr = spec[len("python:"):].partition(":")
        if not module_name or not attr:
            raise TunesmithError(f"Planner spec {spec!r} is malformed", hint="use python:package.module:name")
        try:
            target: Any = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise TunesmithError(f"Planner {spec!r} could not be loaded: {error}") from error
        planner = target() if isinstance(target, type) or (callable(target) and not hasattr(target, "plan")) else target
        if not hasattr(planner, "plan"):
            raise TunesmithError(f"{spec!r} is not a planner (it has no plan method)")
        return planner
    if importlib.util.find_spec("adapters.factory") is None:
        raise TunesmithError("The planner package is not installed (adapters.factory is missing)",
                             hint="set TUNESMITH_PLANNER=python:module:name to use your own planner")
    from adapters.factory import make_planner as make_adapter_planner

    try:
        return make_adapter_planner(spec, tool_schemas=registry.openai_schemas())
    except TunesmithError:
        raise
    except (ValueError, OSError, ImportError) as error:  # bad spec, missing weights, missing extra
        raise TunesmithError(f"The planner {spec!r} could not be started: {error}",
                             hint="check TUNESMITH_PLANNER (embedded, causal:PATH, openai:URL)") from error


def make_agent(settings: Settings | None = None, *, planner: Planner | None = None,
               store: Store | None = None, registry: Registry | None = None, strict: bool = False) -> Agent:
    """An agent over the settings' store and the installed tools.

    Without a usable planner the agent still answers version commands and direct tool calls;
    ``strict=True`` raises instead, for interfaces that cannot work without one.
    """
    settings = settings or current_settings()
    registry = registry or load_registry()
    store = store or Store(settings.home)
    problem = ""
    if planner is None:
        try:
            planner = make_planner(settings.planner, registry)
        except TunesmithError as error:
            if strict:
                raise
            planner, problem = None, str(error)
    agent = Agent(store, registry, planner, settings)
    agent.planner_problem = problem
    return agent
