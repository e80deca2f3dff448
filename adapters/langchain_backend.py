"""Planner backed by any LangChain chat model with tool calling (an OpenAI-compatible server such
as vLLM or Ollama through ``openai:URL``, or any model a caller passes in).

The caller hands in the tools' OpenAI schemas (adapters may not import ``tools``); the model picks
calls; every call is checked against its schema (unknown tools dropped, unknown arguments removed,
required ones present) before it goes into the Plan.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.context import read_context
from agent.plan import Message, MusicalThought, Plan, ToolCall

SYSTEM_PROMPT = (
    "You are Tunesmith's planner. Read the conversation and call the tools that fulfil the last user "
    "turn; chain calls when asked (write lyrics, then sing them). Use attachment paths and artifact ids "
    "exactly as given for source, like, seed and video. key is '<tonic> major|minor' (Bb, F#); "
    "duration_s is seconds; duration_min minutes; vocals female|male|none. If no tool is needed, or the "
    "request cannot be done, answer in plain text without calling a tool."
)


def _function(schema: dict) -> dict:
    return schema.get("function", schema)


def _render(message: Message) -> str:
    parts = [message.content or ""]
    if message.attachments:
        parts.append("[attached: " + ", ".join(message.attachments) + "]")
    if message.tool or message.artifacts:
        parts.append(f"[tool: {message.tool or '-'}; artifacts: {', '.join(message.artifacts) or '-'}]")
    return "\n".join(p for p in parts if p)


def _validated(name: str, args: Any, schemas: dict[str, dict]) -> dict | None:
    """The arguments a schema allows, or None when the call cannot be valid."""
    if name not in schemas:
        return None
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except ValueError:
            return None
    if not isinstance(args, dict):
        return None
    parameters = _function(schemas[name]).get("parameters") or {}
    properties = parameters.get("properties")
    if properties:
        args = {k: v for k, v in args.items() if k in properties}
    if any(required not in args for required in parameters.get("required", [])):
        return None
    return args


class LangChainPlanner:
    """Routes with a LangChain chat model's tool calls."""

    def __init__(self, chat_model, tool_schemas: list[dict] | None = None,
                 system_prompt: str = SYSTEM_PROMPT) -> None:
        self.schemas = {_function(s)["name"]: s for s in (tool_schemas or [])}
        self.system_prompt = system_prompt
        try:
            self.model = chat_model.bind_tools(list(self.schemas.values())) if self.schemas else chat_model
        except NotImplementedError:
            self.model = chat_model

    def _lc_messages(self, messages: list[Message]) -> list:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        converted: list = [SystemMessage(content=self.system_prompt)]
        for message in messages:
            kind = AIMessage if message.role == "assistant" else HumanMessage
            converted.append(kind(content=_render(message)))
        return converted

    def plan(self, messages: list[Message]) -> Plan:
        messages = [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]
        context = read_context(messages)
        if not context.text.strip() and not context.attachments:
            return Plan(thought=MusicalThought(intent="respond", summary="Empty message."), calls=[],
                        reply="Your message was empty. What would you like to make?")
        try:
            answer = self.model.invoke(self._lc_messages(messages))
        except Exception as error:  # a server down or a model error must not crash the turn
            return Plan(thought=MusicalThought(intent="respond", summary="The planner model failed.",
                                               attributes={"error": str(error)[:200]}, confidence=0.0),
                        calls=[], reply=f"The planner model could not answer ({type(error).__name__}). "
                                        "Check the openai: planner URL, or use TUNESMITH_PLANNER=embedded.")
        calls: list[ToolCall] = []
        dropped: list[str] = []
        for raw in getattr(answer, "tool_calls", None) or []:
            args = _validated(raw.get("name", ""), raw.get("args", {}), self.schemas)
            if args is None:
                dropped.append(str(raw.get("name")))
                continue
            call_id = f"c{len(calls) + 1}"
            calls.append(ToolCall(id=call_id, tool=raw["name"], args=args,
                                  depends_on=[calls[-1].id] if calls else []))
        text = answer.content if isinstance(answer.content, str) else json.dumps(answer.content)
        intent = calls[0].tool if calls else "respond"
        attributes = {k: v for call in calls for k, v in call.args.items()
                      if k in ("genre", "mood", "key", "tempo_bpm", "duration_s", "vocals", "topic")}
        if dropped:
            attributes["dropped_calls"] = dropped
        thought = MusicalThought(intent=intent, summary=(text or f"Call {', '.join(c.tool for c in calls)}.")[:300],
                                 attributes=attributes)
        return Plan(thought=thought, calls=calls, reply=None if calls else (text or "How can I help?"))


def openai_planner(url: str, tool_schemas: list[dict] | None = None) -> LangChainPlanner:
    """``openai:URL[#model]``: an OpenAI-compatible server (vLLM, Ollama…) through langchain-openai."""
    import os

    try:
        from langchain_openai import ChatOpenAI
    except ImportError as error:  # optional integration
        raise ImportError("the openai: planner needs langchain-openai: pip install langchain-openai") from error
    base_url, _, model = url.partition("#")
    chat = ChatOpenAI(base_url=base_url, model=model or os.environ.get("TUNESMITH_OPENAI_MODEL", "default"),
                      api_key=os.environ.get("OPENAI_API_KEY", "not-needed"), temperature=0, timeout=60)
    return LangChainPlanner(chat, tool_schemas)
