"""The runtime with fake tools registered here (never in product code) and a scripted planner."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from agent.plan import Message, MusicalThought, Plan, ToolCall
from agent.runtime import Agent, dependency_order
from agent.session import Upload
from agent.store import Store
from tools.config import load_settings
from tools.music.errors import TunesmithError
from tools.music.song import Note, Section, Song, Track
from tools.registry import Registry, Tool, ToolContext, ToolResult


class RhymeArgs(BaseModel):
    word: str = Field(min_length=1)
    count: int = Field(default=3, ge=1, le=10)


class EditArgs(BaseModel):
    source: str
    tempo_bpm: float | None = None
    fail: bool = False


def fake_rhymes(args: RhymeArgs, ctx: ToolContext) -> ToolResult:
    ctx.progress(0.5, "looking up rhymes")
    words = [args.word + suffix for suffix in ("s", "y", "ed", "er", "ing")][: args.count]
    (ctx.workdir / "rhymes.txt").write_text("\n".join(words))
    return ToolResult(kind="rhymes", summary=f"{len(words)} rhymes for {args.word}", data={"rhymes": words},
                      files={"rhymes.txt": ctx.workdir / "rhymes.txt"})


def _song(tempo: float) -> Song:
    melody = Track(name="Vocals", program=52, role="melody",
                   notes=[Note(pitch=60 + i, start=float(i), duration=1.0, syllable="la") for i in range(8)])
    return Song(title="Test", key="C major", tempo_bpm=tempo,
                sections=[Section(name="verse 1", kind="verse", start_bar=0, bars=2, chords=["C", "G"])],
                melody=melody)


def fake_edit(args: EditArgs, ctx: ToolContext) -> ToolResult:
    if args.fail:
        raise TunesmithError("the edit was refused on purpose")
    source = ctx.resolve_source(args.source)
    base = source.song or _song(100.0)
    song = base.model_copy(update={"tempo_bpm": args.tempo_bpm or base.tempo_bpm * 1.2})
    path = song.to_midi(ctx.workdir / "song.mid")
    return ToolResult(kind="song", summary=f"{song.tempo_bpm:g} BPM", files={"song.mid": path}, song=song,
                      parent_id=source.artifact_id)


def fake_song(args: RhymeArgs, ctx: ToolContext) -> ToolResult:
    ctx.progress(0.1, "composing")
    song = _song(100.0 + args.count)
    return ToolResult(kind="song", summary=f"a song about {args.word}", files={"song.mid": song.to_midi(ctx.workdir / "song.mid")},
                      song=song, data={"topic": args.word})


def crash(args: RhymeArgs, ctx: ToolContext) -> ToolResult:
    raise RuntimeError("boom")


REGISTRY = Registry([
    Tool("find_rhymes", "rhymes", RhymeArgs, fake_rhymes),
    Tool("edit_song", "edit", EditArgs, fake_edit),
    Tool("style_transfer", "make a song (fake)", RhymeArgs, fake_song),
    Tool("caption_music", "crashes", RhymeArgs, crash),
])


class ScriptedPlanner:
    """Plans from a fixed table of messages (the real planner lives in adapters/)."""

    def __init__(self) -> None:
        self.seen: list[list[Message]] = []

    def plan(self, messages: list[Message]) -> Plan:
        self.seen.append(messages)
        text = messages[-1].content
        last_artifact = next((a for m in reversed(messages) for a in reversed(m.artifacts)), None)
        if text.startswith("song"):
            return Plan(thought=MusicalThought(intent="style_transfer", summary="a song"),
                        calls=[ToolCall(id="c1", tool="style_transfer", args={"word": text.split()[-1]})])
        if text == "faster":
            return Plan(thought=MusicalThought(intent="edit_song"),
                        calls=[ToolCall(id="c1", tool="edit_song", args={"source": last_artifact})])
        if text == "chain":
            return Plan(thought=MusicalThought(intent="style_transfer"),
                        calls=[ToolCall(id="c2", tool="edit_song", args={"source": "$c1"}),
                               ToolCall(id="c1", tool="style_transfer", args={"word": "tea"})])
        if text == "broken chain":
            return Plan(thought=MusicalThought(intent="edit_song"),
                        calls=[ToolCall(id="c1", tool="edit_song", args={"source": "$current", "fail": True}),
                               ToolCall(id="c2", tool="find_rhymes", args={"word": "$c1.summary"})])
        if text == "crash":
            return Plan(thought=MusicalThought(intent="caption_music"),
                        calls=[ToolCall(id="c1", tool="caption_music", args={"word": "x"})])
        if text == "bad args":
            return Plan(thought=MusicalThought(intent="find_rhymes"),
                        calls=[ToolCall(id="c1", tool="find_rhymes", args={"word": "", "count": 99})])
        if text == "escape":
            return Plan(thought=MusicalThought(intent="edit_song"),
                        calls=[ToolCall(id="c1", tool="edit_song", args={"source": "/etc/passwd"})])
        if text == "attached":
            return Plan(thought=MusicalThought(intent="edit_song"),
                        calls=[ToolCall(id="c1", tool="edit_song", args={"source": messages[-1].attachments[0]})])
        if text.startswith("rhyme"):
            return Plan(thought=MusicalThought(intent="find_rhymes"),
                        calls=[ToolCall(id="c1", tool="find_rhymes", args={"word": text.split()[-1]})])
        return Plan(thought=MusicalThought(intent="respond"), reply="Hello! Ask me for a song.")


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    settings = load_settings({"TUNESMITH_HOME": str(tmp_path / "home")})
    settings.home.mkdir(parents=True)
    return Agent(Store(settings.home), REGISTRY, ScriptedPlanner(), settings)


def turn(agent: Agent, session_id: str, text: str, **kwargs) -> list:
    return list(agent.respond(session_id, text, **kwargs))


def types(events) -> list[str]:
    return [e.type for e in events]


def test_events_stream_in_order_and_artifact_has_recipe(agent: Agent) -> None:
    session = agent.sessions.create()
    events = turn(agent, session.id, "rhyme coffee")
    assert types(events) == ["thought", "tool_started", "progress", "tool_finished", "reply", "done"]
    artifact = events[3].data["artifact"]
    assert artifact["files"]["rhymes.txt"] > 0
    assert artifact["recipe"]["tool"] == "find_rhymes" and artifact["recipe"]["args"] == {"word": "coffee", "count": 3}
    assert "music21" in artifact["recipe"]["versions"]
    assert "3 rhymes for coffee" in events[4].text
    assert agent.store.file_of(artifact["id"], "rhymes.txt").read_text().startswith("coffees")
    assert agent.store.get_session(session.id).title == "rhyme coffee"


def test_versions_undo_go_back_compare(agent: Agent) -> None:
    session = agent.sessions.create()
    first = turn(agent, session.id, "song coffee")[-3].data["artifact"]["id"]
    second_events = turn(agent, session.id, "faster")
    second = second_events[-3].data["artifact"]
    assert second["parent_id"] == first and second["version"] == 2
    assert "Version 2" in second_events[-2].text
    third = turn(agent, session.id, "faster")[-3].data["artifact"]
    assert third["version"] == 3
    undo = turn(agent, session.id, "undo")
    assert types(undo) == ["reply", "done"] and "version 2" in undo[0].text
    assert agent.store.get_session(session.id).current_song == second["id"]
    back = turn(agent, session.id, "go back to version 1")
    assert "version 1" in back[0].text and agent.store.get_session(session.id).current_song == first
    compare = turn(agent, session.id, "compare v1 and v3")[0].text
    assert "103 BPM → 148.32 BPM" in compare and "key: C major (same)" in compare
    assert "v3" in turn(agent, session.id, "versions")[0].text
    bad = turn(agent, session.id, "go back to version 9")
    assert bad[0].type == "error" and "no version 9" in bad[0].text
    # nothing was lost: every artifact still opens
    for record in agent.store.artifacts_of(session.id):
        assert agent.store.song_of(record.id) is not None


def test_dependency_chain_runs_in_order(agent: Agent) -> None:
    session = agent.sessions.create()
    events = turn(agent, session.id, "chain")
    finished = [e.data for e in events if e.type == "tool_finished"]
    assert [f["call_id"] for f in finished] == ["c1", "c2"]
    assert finished[1]["artifact"]["parent_id"] == finished[0]["artifact"]["id"]


def test_failure_skips_dependents_and_keeps_session(agent: Agent) -> None:
    session = agent.sessions.create()
    made = turn(agent, session.id, "song tea")[-3].data["artifact"]["id"]
    events = turn(agent, session.id, "broken chain")
    errors = [e.text for e in events if e.type == "error"]
    assert "refused on purpose" in errors[0] and "skipped because c1 failed" in errors[1]
    assert "did not work" in events[-2].text
    assert agent.store.get_session(session.id).current_song == made
    crash = turn(agent, session.id, "crash")
    assert any("unexpected RuntimeError: boom" in e.text for e in crash if e.type == "error")
    assert types(turn(agent, session.id, "rhyme again"))[-3] == "tool_finished"


def test_bad_arguments_name_the_field(agent: Agent) -> None:
    session = agent.sessions.create()
    error = next(e for e in turn(agent, session.id, "bad args") if e.type == "error")
    assert "word" in error.text and "count" in error.text


def test_paths_outside_the_store_are_refused(agent: Agent) -> None:
    session = agent.sessions.create()
    error = next(e for e in turn(agent, session.id, "escape") if e.type == "error")
    assert "not one Tunesmith holds" in error.text


def test_upload_becomes_artifact_and_reaches_the_tool(agent: Agent, tmp_path: Path) -> None:
    session = agent.sessions.create()
    midi = _song(90.0).to_midi(tmp_path / "in.mid")
    events = turn(agent, session.id, "attached", attachments=[Upload("../../evil name.mid", midi)])
    assert events[0].type == "upload"
    upload = agent.store.get_artifact(events[0].data["artifact_id"])
    assert upload.kind == "midi" and list(upload.files) == ["evil name.mid"]
    finished = next(e for e in events if e.type == "tool_finished").data["artifact"]
    assert finished["parent_id"] == upload.id  # the upload is version 1 of the project
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"\x00\x01" * 100)
    refused = turn(agent, session.id, "attached", attachments=[Upload("junk.mid", junk)])
    assert refused[0].type == "error" and "not a file Tunesmith can use" in refused[0].text
    agent.settings.max_score_notes = 3  # a score's notes are its size, as seconds are audio's
    huge = turn(agent, session.id, "attached", attachments=[Upload("huge.mid", midi)])
    assert huge[0].type == "error" and "the limit is 3" in huge[0].text
    assert agent.store.get_artifact(upload.id).files  # the earlier upload is still there


def test_no_tool_reply_and_unknown_session(agent: Agent) -> None:
    session = agent.sessions.create()
    events = turn(agent, session.id, "hi there")
    assert types(events) == ["thought", "reply", "done"] and events[1].text.startswith("Hello")
    with pytest.raises(TunesmithError):
        turn(agent, "ses_0000000000000000", "hi")


def test_dependency_order_rejects_cycles() -> None:
    calls = [ToolCall(id="a", tool="find_rhymes", depends_on=["b"]), ToolCall(id="b", tool="find_rhymes", args={"w": "$a"})]
    with pytest.raises(TunesmithError, match="circle"):
        dependency_order(calls)
    with pytest.raises(TunesmithError, match="not in the plan"):
        dependency_order([ToolCall(id="a", tool="find_rhymes", depends_on=["zz"])])


def test_concurrent_sessions_do_not_mix(agent: Agent) -> None:
    sessions = [agent.sessions.create() for _ in range(6)]
    failures: list[BaseException] = []

    def chat(session_id: str, word: str) -> None:
        try:
            for _ in range(3):
                events = turn(agent, session_id, f"rhyme {word}")
                assert events[-3].data["artifact"]["data"]["rhymes"][0] == word + "s"
        except BaseException as error:  # collected and asserted in the main thread
            failures.append(error)

    threads = [threading.Thread(target=chat, args=(s.id, f"w{i}")) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    for i, session in enumerate(sessions):
        assert len(agent.store.messages(session.id)) == 6
        assert all(a.data["rhymes"][0] == f"w{i}s" for a in agent.store.artifacts_of(session.id))


def test_render_worker_carries_errors_across_the_process(tmp_path: Path) -> None:
    from agent.worker import RenderWorker

    settings = load_settings({"TUNESMITH_HOME": str(tmp_path / "home"), "TUNESMITH_MAX_SONG_SECONDS": "10"})
    settings.home.mkdir(parents=True)
    worker = RenderWorker()
    try:
        future = worker.submit("text_to_song", {"prompt": "x", "duration_s": 15}, tmp_path, settings, None,
                               lambda f, m: None)
        error = future.exception(timeout=120)
        assert isinstance(error, TunesmithError) and "limit" in str(error)
    finally:
        worker.close()
