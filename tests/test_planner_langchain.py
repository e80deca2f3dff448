"""LangChain backend against a fake chat model that returns tool calls."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from adapters.langchain_backend import LangChainPlanner
from agent.plan import Message

CONTRACT = json.loads((Path(__file__).resolve().parent.parent / "adapters" / "data" / "tool_contract.json").read_text())


class ToolFake(GenericFakeChatModel):
    """The fake chat model, able to 'bind' tools (it records them) and answer with tool calls."""

    bound: list = []

    def bind_tools(self, tools, **kwargs):
        self.bound.extend(tools)
        return self


def _fake(*answers: AIMessage) -> ToolFake:
    return ToolFake(messages=iter(answers))


def test_tool_calls_become_a_validated_chained_plan():
    answer = AIMessage(content="", tool_calls=[
        {"name": "write_lyrics", "args": {"topic": "the sea", "bogus": 1}, "id": "x1"},
        {"name": "text_to_song", "args": {"genre": "folk"}, "id": "x2"},
        {"name": "launch_rocket", "args": {}, "id": "x3"},
        {"name": "find_rhymes", "args": {}, "id": "x4"},  # misses its required word
    ])
    model = _fake(answer)
    plan = LangChainPlanner(model, CONTRACT).plan([Message(role="user", content="lyrics about the sea, then sing them")])
    assert [c.tool for c in plan.calls] == ["write_lyrics", "text_to_song"]
    assert plan.calls[0].args == {"topic": "the sea"}
    assert plan.calls[1].depends_on == ["c1"]
    assert plan.thought.attributes["dropped_calls"] == ["launch_rocket", "find_rhymes"]
    assert {t["function"]["name"] for t in model.bound} >= {"text_to_song", "video_soundtrack"}


def test_plain_text_answer_is_a_reply_and_empty_turn_never_calls():
    plan = LangChainPlanner(_fake(AIMessage(content="Hi! What shall we make?")), CONTRACT).plan(
        [Message(role="user", content="hello")])
    assert plan.calls == [] and plan.reply == "Hi! What shall we make?"
    empty = LangChainPlanner(_fake(), CONTRACT).plan([Message(role="user", content="  ")])
    assert empty.calls == [] and "empty" in empty.reply


def test_model_failure_is_an_explained_plan_not_a_crash():
    plan = LangChainPlanner(_fake(), CONTRACT).plan([Message(role="user", content="make a song")])
    assert plan.calls == [] and "could not answer" in plan.reply


def test_attachments_and_artifacts_reach_the_model():
    planner = LangChainPlanner(_fake(AIMessage(content="ok")), CONTRACT)
    converted = planner._lc_messages([
        Message(role="user", content="make a song"),
        Message(role="assistant", content="done", tool="text_to_song", artifacts=["song-7"]),
        Message(role="user", content="describe this", attachments=["take.wav"]),
    ])
    assert "song-7" in converted[2].content and "take.wav" in converted[3].content
