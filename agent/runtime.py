"""The agent loop: plan, show the musical thought, run the calls in dependency order, reply.

`Agent.respond` is a generator of `Event`s so every face (Gradio, SSE, terminal) can show the
thought before the music exists, progress while it renders, and each artifact as soon as it is
stored. One failing call never loses the session or an earlier artifact: it becomes an ``error``
event and a sentence in the reply, and calls that depended on it are skipped.

A call's arguments may point at an earlier call's result: ``"$c1"`` is c1's artifact id,
``"$c1.data.lyrics"`` a value of its data, ``"$c1.files.song.mid"`` a stored file, ``"$current"``
the session's current song.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

from pydantic import BaseModel, Field

from agent.plan import MusicalThought, Plan, Planner, ToolCall
from agent.recipes import recipe_for
from agent.replies import Failure, Outcome, compose_reply
from agent.session import Sessions, Upload
from agent.store import ArtifactRecord, Store
from tools.config import Settings
from tools.music.errors import TunesmithError
from tools.music.song import Song
from tools.registry import ARTIFACT_ID, Registry, ToolContext, ToolResult

log = logging.getLogger("tunesmith.agent")

EventType = Literal["session", "upload", "thought", "tool_started", "progress", "tool_finished", "reply",
                    "error", "done"]
# Tools that drive the synthesiser share one render slot: FluidSynth and WORLD keep process state.
RENDERING_TOOLS = frozenset({"text_to_song", "edit_song", "style_transfer", "video_soundtrack"})
PATH_FIELDS = frozenset({"source", "like", "video", "audio", "path", "file", "midi", "reference"})
MAX_CALLS = 8


class Event(BaseModel):
    """One step of a turn, as data (what interfaces render and what tests assert)."""

    type: EventType
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class _OwnedArtifacts:
    """The store as tools see it: only artifacts the caller may read."""

    def __init__(self, store: Store, owner: str | None) -> None:
        self.store, self.owner = store, owner

    def song_of(self, artifact_id: str) -> Song | None:
        self.store.get_artifact(artifact_id, owner=self.owner)
        return self.store.song_of(artifact_id)

    def file_of(self, artifact_id: str, role: str | None = None) -> Path:
        self.store.get_artifact(artifact_id, owner=self.owner)
        return self.store.file_of(artifact_id, role)

    def kind_of(self, artifact_id: str) -> str:
        return self.store.get_artifact(artifact_id, owner=self.owner).kind


def artifact_json(record: ArtifactRecord, version: int | None = None) -> dict[str, Any]:
    """The public view of an artifact (ids, files, data, recipe) for events and the API."""
    return {"id": record.id, "kind": record.kind, "tool": record.tool, "summary": record.summary,
            "files": dict(record.files), "parent_id": record.parent_id, "session_id": record.session_id,
            "version": version, "created": record.created, "has_song": record.has_song, "data": record.data,
            "recipe": record.recipe}


def outline_of(blueprint: Any) -> dict[str, Any]:
    """The readable part of a song blueprint: form, key, tempo, chords, instrumentation."""
    return {"title": blueprint.title, "style": blueprint.style, "key": blueprint.key,
            "tempo_bpm": blueprint.tempo_bpm, "meter": blueprint.meter, "vocals": blueprint.vocals,
            "duration_s": round(float(blueprint.duration_s), 1),
            "form": [s.name for s in blueprint.sections],
            "sections": [{"name": s.name, "bars": s.bars, "chords": s.chords} for s in blueprint.sections],
            "instrumentation": dict(blueprint.instrumentation)}


def dependency_order(calls: list[ToolCall]) -> list[ToolCall]:
    """Calls sorted so each runs after the calls it depends on (stable for independent calls).

    Raises:
        TunesmithError: duplicate ids, a dependency on an unknown call, or a cycle.
    """
    by_id: dict[str, ToolCall] = {}
    for call in calls:
        if call.id in by_id:
            raise TunesmithError(f"The plan names call {call.id!r} twice")
        by_id[call.id] = call
    for call in calls:
        for dep in _dependencies(call):
            if dep not in by_id:
                raise TunesmithError(f"Call {call.id!r} depends on {dep!r}, which is not in the plan")
    ordered: list[ToolCall] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(call: ToolCall) -> None:
        if state.get(call.id) == 2:
            return
        if state.get(call.id) == 1:
            raise TunesmithError(f"The plan's calls depend on each other in a circle (at {call.id!r})")
        state[call.id] = 1
        for dep in _dependencies(call):
            visit(by_id[dep])
        state[call.id] = 2
        ordered.append(call)

    for call in calls:
        visit(call)
    return ordered


def _dependencies(call: ToolCall) -> list[str]:
    deps = list(call.depends_on)
    for value in _strings(call.args):
        if value.startswith("$") and value != "$current":
            ref = value[1:].split(".", 1)[0]
            if ref and ref not in deps:
                deps.append(ref)
    return deps


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


class Agent:
    """One agent per process; every interface calls `respond`, `rerender` or `call_tool`."""

    def __init__(self, store: Store, registry: Registry, planner: Planner | None, settings: Settings) -> None:
        self.store = store
        self.registry = registry
        self.planner = planner
        self.settings = settings
        self.sessions = Sessions(store, settings)
        self._render_slot = threading.Lock()
        self.planner_problem = ""
        self.worker = None  # an agent.worker.RenderWorker: rendering tools then run in their own process

    def use_render_worker(self) -> None:
        """Run rendering tools in a separate process (servers: keeps other requests fast)."""
        from agent.worker import RenderWorker

        self.worker = RenderWorker()

    # -- turns ---------------------------------------------------------------------------------
    def respond(self, session_id: str, message: str, attachments: Iterable[Upload | str] = (), *,
                owner: str | None = None) -> Iterator[Event]:
        """Answer one user turn, streaming events; the session is persisted as it goes.

        Raises:
            TunesmithError: only for an unknown session (everything else becomes an ``error`` event).
        """
        self.sessions.get(session_id, owner=owner)
        message = (message or "").strip()
        attached: list[str] = []
        for item in attachments:
            try:
                attached.append(self._attach(session_id, item, owner))
            except TunesmithError as error:
                self.store.add_message(session_id, "user", message, attachments=attached)
                yield from self._fail_turn(session_id, f"The attachment was refused: {error}")
                return
            yield Event(type="upload", text=f"attached {attached[-1]}", data={"artifact_id": attached[-1]})
        if not message and not attached:
            yield from self._fail_turn(session_id, "The message is empty", store_user=False)
            return
        self.store.add_message(session_id, "user", message, attachments=attached)
        self._title_from(session_id, message)
        try:
            answer = self.sessions.handle_command(session_id, message) if not attached else None
        except TunesmithError as error:
            yield from self._fail_turn(session_id, str(error))
            return
        if answer is not None:
            current = self.store.get_session(session_id).current_song
            self.store.add_message(session_id, "assistant", answer, artifacts=[current] if current else [],
                                   extra={"command": True})
            yield Event(type="reply", text=answer, data={"current_song": current})
            yield Event(type="done", data={"session_id": session_id})
            return
        if self.planner is None:
            yield from self._fail_turn(session_id, self.planner_problem or "No planner is configured",
                                       hint="set TUNESMITH_PLANNER, or use the tools directly")
            return
        try:
            plan = self.planner.plan(self.sessions.history(session_id))
        except TunesmithError as error:
            yield from self._fail_turn(session_id, f"I could not plan that: {error}")
            return
        except Exception as error:  # a planner bug must not end the session
            log.exception("planner failed")
            yield from self._fail_turn(session_id, f"The planner failed ({type(error).__name__}: {error})")
            return
        yield from self.execute(session_id, plan, owner=owner)

    def rerender(self, session_id: str, blueprint: dict[str, Any], *, owner: str | None = None,
                 seed: int | None = None) -> Iterator[Event]:
        """Render an edited outline (blueprint JSON) as a new version of the current song."""
        self.sessions.get(session_id, owner=owner)
        self.store.add_message(session_id, "user", "(re-render the edited outline)", extra={"blueprint": blueprint})
        plan = Plan(thought=MusicalThought(intent="text_to_song", summary="Re-rendering your edited outline.",
                                           attributes={"revises": "$current"}),
                    calls=[ToolCall(id="c1", tool="text_to_song",
                                    args={"blueprint": blueprint, "seed": int(seed if seed is not None
                                                                              else blueprint.get("seed", 0) or 0)})])
        yield from self.execute(session_id, plan, owner=owner)

    def execute(self, session_id: str, plan: Plan, *, owner: str | None = None) -> Iterator[Event]:
        """Run a plan's calls in dependency order, store what they make, and reply."""
        try:
            if len(plan.calls) > MAX_CALLS:
                raise TunesmithError(f"The plan has {len(plan.calls)} calls; at most {MAX_CALLS} run in one turn")
            for call in plan.calls:
                self.registry.get(call.tool)
            ordered = dependency_order(plan.calls)
        except TunesmithError as error:
            yield from self._fail_turn(session_id, str(error))
            return
        plan = self._with_outline(plan)
        thought = plan.thought.model_dump()
        yield Event(type="thought", text=plan.thought.summary,
                    data={"thought": thought, "calls": [c.model_dump() for c in plan.calls]})
        outcomes: list[Outcome] = []
        failures: list[Failure] = []
        done: dict[str, ArtifactRecord] = {}
        failed: set[str] = set()
        for call in ordered:
            broken = [dep for dep in _dependencies(call) if dep in failed]
            if broken:
                failed.add(call.id)
                failures.append(Failure(call.id, call.tool, f"skipped because {', '.join(broken)} failed"))
                yield Event(type="error", text=failures[-1].message, data={"call_id": call.id, "tool": call.tool})
                continue
            runner = self._run_call(session_id, call, done, plan.thought, owner)
            try:
                while True:
                    yield next(runner)
            except StopIteration as stop:
                record, problem = stop.value
            if record is None:
                failed.add(call.id)
                failures.append(Failure(call.id, call.tool, problem))
                continue
            done[call.id] = record
            version = self.sessions.version_number(session_id, record.id) if record.has_song else None
            outcomes.append(Outcome(call.id, call.tool, record.id, record.kind, record.summary,
                                    list(record.files), version))
        reply = compose_reply(plan, outcomes, failures)
        current = self.store.get_session(session_id).current_song
        self.store.add_message(session_id, "assistant", reply, tool=outcomes[-1].tool if outcomes else None,
                               artifacts=[o.artifact_id for o in outcomes if o.artifact_id],
                               extra={"thought": thought, "errors": [f.__dict__ for f in failures]})
        yield Event(type="reply", text=reply, data={"artifacts": [o.artifact_id for o in outcomes],
                                                    "current_song": current,
                                                    "errors": [f.__dict__ for f in failures]})
        yield Event(type="done", data={"session_id": session_id})

    # -- direct tool calls (HTTP API, MCP) -------------------------------------------------------
    def call_tool(self, name: str, args: dict[str, Any], *, session_id: str | None = None,
                  owner: str | None = None) -> ArtifactRecord:
        """Run one tool with JSON arguments and store its artifact.

        Raises:
            TunesmithError: unknown tool, bad arguments, or the tool's own refusal.
        """
        if session_id is not None:
            self.sessions.get(session_id, owner=owner)
        call = ToolCall(id="c1", tool=name, args=args)
        self.registry.get(name)
        runner = self._run_call(session_id, call, {}, MusicalThought(intent=name), owner)
        try:
            while True:
                next(runner)
        except StopIteration as stop:
            record, problem = stop.value
        if record is None:
            raise TunesmithError(problem)
        return record

    # -- internals -----------------------------------------------------------------------------
    def _attach(self, session_id: str, item: Upload | str, owner: str | None) -> str:
        if isinstance(item, str):
            if not ARTIFACT_ID.match(item):
                raise TunesmithError(f"{item!r} is not an artifact id", hint="upload the file instead")
            return self.store.get_artifact(item, owner=owner).id
        return self.sessions.add_upload(session_id, item, owner=owner).id

    def _title_from(self, session_id: str, message: str) -> None:
        record = self.store.get_session(session_id)
        if record.title == "New session" and message:
            title = " ".join(message.split())
            self.store.rename_session(session_id, title[:60] + ("…" if len(title) > 60 else ""))

    def _fail_turn(self, session_id: str, message: str, *, hint: str | None = None,
                   store_user: bool = True) -> Iterator[Event]:
        text = f"{message} ({hint})" if hint else message
        if store_user:
            self.store.add_message(session_id, "assistant", text, extra={"error": True})
        yield Event(type="error", text=text)
        yield Event(type="reply", text=text, data={"artifacts": [], "errors": [{"message": text}]})
        yield Event(type="done", data={"session_id": session_id})

    def _with_outline(self, plan: Plan) -> Plan:
        """Add the song blueprint to the thought and pin it on the call, so what is shown is rendered."""
        try:
            from tools.song import make_blueprint
        except ImportError:
            return plan
        calls = []
        outline = plan.thought.outline
        for call in plan.calls:
            if call.tool == "text_to_song" and not any(v.startswith("$") for v in _strings(call.args)):
                try:
                    blueprint = make_blueprint(call.args)
                except Exception:
                    calls.append(call)  # the call itself will report the problem
                    continue
                args = dict(call.args, blueprint=blueprint.model_dump(mode="json"))
                call = call.model_copy(update={"args": args})
                if outline is None:
                    outline = outline_of(blueprint) | {"blueprint": args["blueprint"]}
            calls.append(call)
        thought = plan.thought.model_copy(update={"outline": outline})
        return plan.model_copy(update={"thought": thought, "calls": calls})

    def _resolve(self, value: Any, done: dict[str, ArtifactRecord], session_id: str | None) -> Any:
        if isinstance(value, dict):
            return {k: self._resolve(v, done, session_id) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, done, session_id) for v in value]
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        if value == "$current":
            current = self.store.get_session(session_id).current_song if session_id else None
            if current is None:
                raise TunesmithError("There is no current song to work on", hint="make or attach a song first")
            return current
        ref, _, path = value[1:].partition(".")
        if ref not in done:
            return value
        record = done[ref]
        if not path or path == "artifact_id":
            return record.id
        if path == "summary":
            return record.summary
        if path.startswith("files."):
            return str(self.store.file_of(record.id, path[len("files."):]))
        if path.startswith("data."):
            node: Any = record.data
            for part in path[len("data."):].split("."):
                if not isinstance(node, dict) or part not in node:
                    raise TunesmithError(f"{value!r}: the result of {ref} has no {part!r}")
                node = node[part]
            return node
        raise TunesmithError(f"{value!r} is not a reference this runtime understands")

    def _by_id(self, args: Any, session_id: str | None) -> Any:
        """Store paths of this session's files (what planners see as attachments) become artifact ids,
        so tools get the parsed song and new versions know their parent."""
        if session_id is None:
            return args
        paths = {}
        for record in self.store.artifacts_of(session_id):
            for name in record.files:
                paths[str(self.store.file_of(record.id, name))] = record.id

        def swap(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            if isinstance(value, list):
                return [swap(v) for v in value]
            return paths.get(value, value) if isinstance(value, str) else value

        return swap(args)

    def _guard_paths(self, value: Any, key: str = "") -> None:
        """File arguments must be artifact ids or files inside Tunesmith's own store."""
        if isinstance(value, dict):
            for k, v in value.items():
                self._guard_paths(v, k)
        elif isinstance(value, list):
            for v in value:
                self._guard_paths(v, key)
        elif isinstance(value, str) and "\n" not in value and len(value) < 4096:
            looks_like_path = value.startswith(("/", "~", "./", "../")) or (key in PATH_FIELDS and value)
            if looks_like_path and not ARTIFACT_ID.match(value):
                home = self.settings.home.resolve()
                target = Path(value).expanduser().resolve()
                if target != home and home not in target.parents:
                    raise TunesmithError(f"The file {Path(value).name!r} is not one Tunesmith holds",
                                         hint="attach the file or name an artifact id")

    def _parent_of(self, result: ToolResult, args: dict[str, Any], thought: MusicalThought,
                   session_id: str | None, owner: str | None) -> str | None:
        if result.parent_id:
            return result.parent_id
        if result.song is None:
            return None
        for value in _strings(args):
            if ARTIFACT_ID.match(value):
                try:
                    if self.store.get_artifact(value, owner=owner).has_song:
                        return value
                except TunesmithError:
                    continue
        revises = thought.attributes.get("revises")
        if revises == "$current" and session_id:
            return self.store.get_session(session_id).current_song
        if isinstance(revises, str) and ARTIFACT_ID.match(revises):
            return revises
        return None

    def _run_call(self, session_id: str | None, call: ToolCall, done: dict[str, ArtifactRecord],
                  thought: MusicalThought, owner: str | None):
        """Validate, run (in a worker thread, streaming progress), store; returns (record or None, problem)."""
        tool = self.registry.get(call.tool)
        try:
            args = self._by_id(self._resolve(call.args, done, session_id), session_id)
            validated = tool.validate(args)
            json_args = validated.model_dump(mode="json")
            self._guard_paths(json_args)
        except TunesmithError as error:
            yield Event(type="error", text=str(error), data={"call_id": call.id, "tool": call.tool})
            return None, str(error)
        yield Event(type="tool_started", text=f"running {call.tool}",
                    data={"call_id": call.id, "tool": call.tool, "args": _short(json_args)})
        work_root = self.settings.cache_dir / "work"
        work_root.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"{call.tool}-", dir=work_root))
        try:
            result = yield from self._run_in_thread(tool, validated, workdir, call, owner)
            if isinstance(result, BaseException):
                problem = (str(result) if isinstance(result, TunesmithError)
                           else f"an unexpected {type(result).__name__}: {result}")
                yield Event(type="error", text=f"{call.tool}: {problem}", data={"call_id": call.id, "tool": call.tool})
                return None, problem
            parent = self._parent_of(result, json_args, thought, session_id, owner)
            record = self.store.add_artifact(
                kind=result.kind, summary=result.summary, files=result.files, data=result.data,
                recipe=recipe_for(call.tool, json_args, result.seed), tool=call.tool, song=result.song,
                parent_id=parent, session_id=session_id, owner=owner)
            version = None
            if session_id and result.song is not None:
                self.store.set_current_song(session_id, record.id)
                version = self.sessions.version_number(session_id, record.id)
            yield Event(type="tool_finished", text=record.summary,
                        data={"call_id": call.id, "tool": call.tool, "artifact": artifact_json(record, version)})
            return record, ""
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run_in_worker(self, validated: BaseModel, workdir: Path, call: ToolCall, owner: str | None,
                       events: queue.Queue, progress: Any) -> Iterator[Event]:
        """The same streaming contract as in-thread runs, with the tool in the render worker."""
        future = self.worker.submit(call.tool, validated.model_dump(mode="json"), workdir, self.settings, owner,
                                    progress)

        def finished(done: Any) -> None:
            error = done.exception()
            events.put(("result", _worker_error(error) if error is not None else done.result()))

        future.add_done_callback(finished)
        while True:
            item = events.get()
            if item[0] == "result":
                if isinstance(item[1], TunesmithError) and "renderer stopped" in item[1].message:
                    self.worker.restart_if_broken()
                return item[1]
            yield Event(type="progress", text=item[2],
                        data={"call_id": call.id, "tool": call.tool, "fraction": round(item[1], 3)})

    def _run_in_thread(self, tool: Any, validated: BaseModel, workdir: Path, call: ToolCall,
                       owner: str | None) -> Iterator[Event]:
        """Run the tool off the caller's thread so progress can stream; returns the result or the error."""
        events: queue.Queue = queue.Queue()

        def progress(fraction: float, message: str) -> None:
            events.put(("progress", float(fraction), str(message)))

        ctx = ToolContext(workdir=workdir, settings=self.settings, artifacts=_OwnedArtifacts(self.store, owner),
                          progress=progress)
        slot = self._render_slot if call.tool in RENDERING_TOOLS else None
        if slot is not None and self.worker is not None:
            return (yield from self._run_in_worker(validated, workdir, call, owner, events, progress))

        def work() -> None:
            try:
                if slot is not None:
                    slot.acquire()
                try:
                    events.put(("result", tool.run(validated, ctx)))
                finally:
                    if slot is not None:
                        slot.release()
            except BaseException as error:  # reported to the user as an event, never raised through
                if not isinstance(error, TunesmithError):
                    log.exception("tool %s failed", call.tool)
                events.put(("result", error))

        if slot is not None and slot.locked():
            yield Event(type="progress", text="waiting for the renderer (another song is rendering)",
                        data={"call_id": call.id, "tool": call.tool, "fraction": 0.0})
        threading.Thread(target=work, name=f"tool-{call.tool}", daemon=True).start()
        while True:
            item = events.get()
            if item[0] == "result":
                return item[1]
            yield Event(type="progress", text=item[2],
                        data={"call_id": call.id, "tool": call.tool, "fraction": round(item[1], 3)})


def _worker_error(error: BaseException) -> BaseException:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(error, BrokenProcessPool):
        return TunesmithError("The renderer stopped unexpectedly while making this",
                              hint="try again; a fresh renderer starts for the next request")
    return error


def _short(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments for display: the pinned blueprint is shown in the thought, not repeated here."""
    return {k: ("(outline)" if k == "blueprint" and v else v) for k, v in args.items()}
