"""The planner's output: a musical thought first, then the tool calls that carry it out.

MusiCoT-style: the thought outlines the music (form, key, tempo, chords, instrumentation) before
anything is rendered, so users see and can edit the plan, and the tools get consistent arguments.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field


class MusicalThought(BaseModel):
    """What the planner understood and intends, in words and in musical attributes."""

    intent: str = Field(description="the routed intent: a tool name, or 'respond' for no tool")
    summary: str = Field(default="", description="one sentence a user reads: what will happen and why")
    attributes: dict[str, Any] = Field(default_factory=dict,
                                       description="musical attributes heard in the request: genre, mood, key, tempo …")
    outline: dict[str, Any] | None = Field(default=None,
                                           description="for music-making calls: form, key, tempo, chords, instrumentation")
    confidence: float = Field(default=1.0, ge=0, le=1)


class ToolCall(BaseModel):
    id: str = Field(description="unique within the plan, e.g. 'c1'")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list,
                                  description="ids of calls whose results this call uses")


class Plan(BaseModel):
    thought: MusicalThought
    calls: list[ToolCall] = Field(default_factory=list)
    reply: str | None = Field(default=None, description="the answer when no tool is needed, or a question back")


class Message(BaseModel):
    """One conversation turn as planners see it (the format of shared/evals/planner_dev.jsonl)."""

    role: str
    content: str = ""
    attachments: list[str] = Field(default_factory=list)
    tool: str | None = None
    artifacts: list[str] = Field(default_factory=list)


class Planner(Protocol):
    """Anything that turns a conversation into a Plan (adapters/ implements the backends)."""

    def plan(self, messages: list[Message]) -> Plan: ...
