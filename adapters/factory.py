"""Choose a planner backend from its spec string (``TUNESMITH_PLANNER``).

- ``embedded`` (or ``embedded:DIR`` for other trained weights): the shipped LoRA-tuned MiniLM.
- ``causal:PATH``: a local causal LM, or an adapter directory trained by ``tunesmith train-planner --base``.
- ``openai:URL[#model]``: any OpenAI-compatible server through LangChain tool calling.

``tool_schemas`` are the tools' OpenAI schemas (the registry's export); adapters never import tools.
"""

from __future__ import annotations

from pathlib import Path

from agent.plan import Planner


class PlannerSpecError(ValueError):
    """The planner spec names no known backend; the message lists the accepted forms."""


def make_planner(spec: str = "embedded", tool_schemas: list[dict] | None = None) -> Planner:
    """Build the planner a spec names.

    Args:
        spec: ``embedded`` | ``embedded:DIR`` | ``causal:PATH`` | ``openai:URL[#model]``.
        tool_schemas: OpenAI-format tool schemas; the causal and LangChain backends plan over them
            (the causal one falls back to the canonical contract in ``data/tool_contract.json``).

    Raises:
        PlannerSpecError: for an unknown backend or a missing path/URL.
        FileNotFoundError: when the weights or model directory does not exist.
    """
    spec = (spec or "embedded").strip()
    backend, _, target = spec.partition(":")
    backend = backend.lower()
    if backend == "embedded":
        from adapters.embedded.planner import EmbeddedPlanner

        return EmbeddedPlanner(Path(target) if target else None)
    if backend == "causal":
        if not target:
            raise PlannerSpecError("causal planner needs a path: causal:/path/to/model-or-adapter")
        from adapters.causal.planner import CausalPlanner

        return CausalPlanner(target, tool_schemas)
    if backend == "openai":
        if not target:
            raise PlannerSpecError("openai planner needs a URL: openai:http://localhost:8000/v1[#model]")
        from adapters.langchain_backend import openai_planner

        return openai_planner(target, tool_schemas)
    raise PlannerSpecError(f"unknown planner {spec!r}; use embedded, causal:PATH or openai:URL")
