"""The HTTP face: a FastAPI app with the REST API, an OpenAI-compatible chat endpoint and the Gradio UI.

Every route goes through the same `Agent`. With ``TUNESMITH_API_KEY`` set (one key, or several
separated by commas) every ``/v1`` route needs ``Authorization: Bearer KEY`` and each key sees only
the sessions and artifacts it made (the store's ``owner`` column holds a hash of the key, never
the key). Artifact files are served only by (artifact id, stored file name): a request can never
name a path, so nothing outside the store is reachable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from agent.runtime import Agent, Event, artifact_json
from agent.session import Upload
from tools.config import Settings
from tools.music.errors import TunesmithError
from tools.registry import ARTIFACT_ID

MODEL_NAME = "tunesmith"
SESSION_ID_HEADER = "X-Tunesmith-Session"


# -- request bodies --------------------------------------------------------------------------------
class NewSession(BaseModel):
    title: str = Field(default="New session", max_length=200)


class MessageBody(BaseModel):
    message: str = Field(default="", max_length=20000)
    attachments: list[str] = Field(default_factory=list, description="ids of artifacts already stored")
    stream: bool = False


class RerenderBody(BaseModel):
    blueprint: dict[str, Any]
    seed: int | None = None


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    session_id: str | None = Field(default=None, description="extension: continue a Tunesmith session")
    user: str | None = None


# -- helpers ---------------------------------------------------------------------------------------
def owner_of(key: str) -> str:
    """The owner tag of an API key: a hash, so the database never holds the key."""
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _error_response(error: TunesmithError) -> JSONResponse:
    message = error.message
    status = 404 if "was not found" in message else 413 if "the limit is" in message else 400
    return JSONResponse(status_code=status, content={"error": {"message": message, "hint": error.hint,
                                                               "type": "tunesmith_error"}})


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(part.get("text", "")) for part in content if part.get("type") == "text")


def _links(base: str, artifact: dict[str, Any]) -> dict[str, str]:
    return {name: f"{base}v1/artifacts/{artifact['id']}/{name}" for name in artifact["files"]}


def _public(base: str, artifact: dict[str, Any]) -> dict[str, Any]:
    return artifact | {"links": _links(base, artifact)}


def _events_to_artifacts(events: list[Event], base: str) -> list[dict[str, Any]]:
    return [_public(base, e.data["artifact"]) for e in events if e.type == "tool_finished"]


def _reply_with_links(reply: str, artifacts: list[dict[str, Any]]) -> str:
    """The reply text plus one markdown link per main file, so any chat client shows downloads."""
    from agent.replies import main_files

    lines = [reply]
    for artifact in artifacts:
        names = main_files(list(artifact["links"]))
        shown = [n for n in names if not n.endswith((".json",))][:8]
        if shown:
            lines.append("\n".join(f"- [{name}]({artifact['links'][name]})" for name in shown))
    return "\n\n".join(lines)


def _save_upload(upload: UploadFile, folder: Path, limit: int) -> Upload:
    """Stream an upload to disk, stopping as soon as it passes the size limit."""
    name = upload.filename or "upload"
    target = folder / uuid.uuid4().hex
    written = 0
    with target.open("wb") as handle:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise TunesmithError(f"{name!r} is over {limit / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB",
                                     hint="set TUNESMITH_MAX_UPLOAD_MB to raise it")
            handle.write(chunk)
    return Upload(name=name, path=target)


# -- the app ---------------------------------------------------------------------------------------
def create_app(agent: Agent, settings: Settings, *, with_ui: bool = True) -> FastAPI:
    """The FastAPI app: REST + OpenAI-compatible API, with the Gradio UI mounted at ``/``."""
    app = FastAPI(title="Tunesmith", version="0.1.0",
                  description="A chat-style music agent: songs with sung vocals, lyrics, captions, retrieval.")
    keys = [k.strip() for k in (settings.api_key or "").split(",") if k.strip()]
    store = agent.store

    @app.exception_handler(TunesmithError)
    async def tunesmith_error(_: Request, error: TunesmithError) -> JSONResponse:
        return _error_response(error)

    async def caller(authorization: str | None = Header(default=None)) -> str | None:
        """The owner tag of the caller; None when the API is open (async: no thread hop per request)."""
        if not keys:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        for key in keys:
            if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode()):
                return owner_of(key)
        raise HTTPException(status_code=401, detail="a valid API key is required (Authorization: Bearer KEY)",
                            headers={"WWW-Authenticate": "Bearer"})

    def uploads_dir() -> Path:
        folder = settings.cache_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=folder))

    @app.get("/healthz", tags=["meta"])
    async def healthz() -> dict[str, Any]:
        """Liveness: the store answers and the tools are loaded."""
        store.list_sessions(limit=1)
        return {"status": "ok", "tools": agent.registry.names(), "planner": agent.planner is not None,
                "auth": bool(keys)}

    @app.get("/v1/tools", tags=["tools"])
    async def list_tools(owner: str | None = Depends(caller)) -> dict[str, Any]:
        """Every tool as an OpenAI function schema."""
        return {"object": "list", "data": agent.registry.openai_schemas()}

    @app.post("/v1/tools/{name}", tags=["tools"])
    def call_tool(name: str, request_args: dict[str, Any], request: Request, session_id: str | None = None,
                  owner: str | None = Depends(caller)) -> dict[str, Any]:
        """Run one tool directly with its JSON arguments; returns the stored artifact with links."""
        record = agent.call_tool(name, request_args, session_id=session_id, owner=owner)
        return _public(str(request.base_url), artifact_json(record))

    @app.post("/v1/sessions", tags=["sessions"], status_code=201)
    def create_session(body: NewSession | None = None, owner: str | None = Depends(caller)) -> dict[str, Any]:
        record = agent.sessions.create((body or NewSession()).title, owner=owner)
        return record.__dict__

    @app.get("/v1/sessions", tags=["sessions"])
    def list_sessions(owner: str | None = Depends(caller)) -> dict[str, Any]:
        return {"object": "list", "data": [s.__dict__ for s in store.list_sessions(owner=owner)]}

    @app.get("/v1/sessions/{session_id}", tags=["sessions"])
    def get_session(session_id: str, request: Request, owner: str | None = Depends(caller)) -> dict[str, Any]:
        """The session with its messages, artifacts (with links) and song versions."""
        record = agent.sessions.get(session_id, owner=owner)
        base = str(request.base_url)
        versions = [v.id for v in agent.sessions.versions(session_id)]
        return record.__dict__ | {
            "messages": [m.__dict__ for m in store.messages(session_id)],
            "artifacts": [_public(base, artifact_json(a, versions.index(a.id) + 1 if a.id in versions else None))
                          for a in store.artifacts_of(session_id)],
            "versions": versions}

    def run_turn(session_id: str, events: Iterator[Event], stream: bool, base: str):
        if stream:
            def sse() -> Iterator[str]:
                for event in events:
                    payload = event.model_dump()
                    if event.type == "tool_finished":
                        payload["data"]["artifact"] = _public(base, event.data["artifact"])
                    yield f"event: {event.type}\ndata: {json.dumps(payload, default=str)}\n\n"
            return StreamingResponse(sse(), media_type="text/event-stream")
        collected = list(events)
        reply = next((e.text for e in reversed(collected) if e.type == "reply"), "")
        return {"session_id": session_id, "reply": reply, "artifacts": _events_to_artifacts(collected, base),
                "errors": [e.text for e in collected if e.type == "error"],
                "events": [e.model_dump() for e in collected if e.type != "tool_finished"]}

    @app.post("/v1/sessions/{session_id}/messages", tags=["sessions"])
    async def post_message(session_id: str, request: Request, owner: str | None = Depends(caller)):
        """Send a user turn: JSON ``{message, attachments, stream}`` or multipart (``message``, ``files``,
        ``stream``); returns the reply and artifacts, or with ``stream`` an SSE stream of events."""
        from starlette.concurrency import run_in_threadpool

        agent.sessions.get(session_id, owner=owner)
        uploads: list[Upload | str] = []
        folder: Path | None = None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=16, max_fields=32, max_part_size=1024 * 1024)
            body = MessageBody(message=str(form.get("message") or ""), stream=str(form.get("stream")) in ("1", "true"),
                               attachments=[str(a) for a in form.getlist("attachments")])
            files = [f for f in form.getlist("files") if hasattr(f, "filename")]
            if files:
                folder = uploads_dir()
                for upload in files:
                    try:
                        uploads.append(await run_in_threadpool(_save_upload, upload, folder, settings.max_upload_bytes))
                    except TunesmithError:
                        shutil.rmtree(folder, ignore_errors=True)
                        raise
        else:
            try:
                body = MessageBody.model_validate(await request.json())
            except Exception as error:
                raise TunesmithError(f"The message body is not valid: {error}") from error
        uploads.extend(body.attachments)
        events = agent.respond(session_id, body.message, uploads, owner=owner)

        def cleaned() -> Iterator[Event]:
            try:
                yield from events
            finally:
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)

        if body.stream:
            return run_turn(session_id, cleaned(), True, str(request.base_url))
        return await run_in_threadpool(run_turn, session_id, cleaned(), False, str(request.base_url))

    @app.post("/v1/sessions/{session_id}/rerender", tags=["sessions"])
    def rerender(session_id: str, body: RerenderBody, request: Request, owner: str | None = Depends(caller)):
        """Render an edited song outline (blueprint) as a new version of the current song."""
        return run_turn(session_id, agent.rerender(session_id, body.blueprint, owner=owner, seed=body.seed),
                        False, str(request.base_url))

    @app.get("/v1/artifacts/{artifact_id}", tags=["artifacts"])
    def get_artifact(artifact_id: str, request: Request, owner: str | None = Depends(caller)) -> dict[str, Any]:
        if not ARTIFACT_ID.match(artifact_id):
            raise TunesmithError(f"Artifact {artifact_id!r} was not found")
        return _public(str(request.base_url), artifact_json(store.get_artifact(artifact_id, owner=_scope(owner))))

    def _scope(owner: str | None) -> str | None:
        return owner if keys else None

    @app.get("/v1/artifacts/{artifact_id}/{file_name}", tags=["artifacts"])
    def get_artifact_file(artifact_id: str, file_name: str, owner: str | None = Depends(caller)) -> FileResponse:
        """One stored file, by the name it was stored under (never a path)."""
        if not ARTIFACT_ID.match(artifact_id):
            raise TunesmithError(f"Artifact {artifact_id!r} was not found")
        record = store.get_artifact(artifact_id, owner=_scope(owner))
        if file_name not in record.files:
            raise TunesmithError(f"File {file_name!r} was not found in {artifact_id}")
        path = store.file_of(artifact_id, file_name)
        return FileResponse(path, filename=file_name)

    @app.post("/v1/chat/completions", tags=["openai"])
    def chat_completions(body: ChatRequest, request: Request, owner: str | None = Depends(caller),
                         x_tunesmith_session: str | None = Header(default=None)):
        """OpenAI-compatible chat. The last user message is the turn; earlier messages seed a new
        session. Artifacts come as links in the content and in the ``tunesmith`` extension field;
        pass ``session_id`` (body) or the X-Tunesmith-Session header to continue a session."""
        session_id = body.session_id or x_tunesmith_session
        if session_id:
            agent.sessions.get(session_id, owner=owner)
        else:
            session_id = agent.sessions.create(owner=owner).id
            for earlier in body.messages[:-1]:
                if earlier.role in ("user", "assistant"):
                    store.add_message(session_id, earlier.role, _text_of(earlier.content))
        last = body.messages[-1]
        if last.role != "user":
            raise TunesmithError("The last message must come from the user")
        events = agent.respond(session_id, _text_of(last.content), owner=owner)
        base = str(request.base_url)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if body.stream:
            return StreamingResponse(_stream_chat(events, completion_id, created, session_id, base),
                                     media_type="text/event-stream")
        collected = list(events)
        artifacts = _events_to_artifacts(collected, base)
        reply = next((e.text for e in reversed(collected) if e.type == "reply"), "")
        content = _reply_with_links(reply, artifacts)
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_NAME,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "tunesmith": {"session_id": session_id, "artifacts": artifacts,
                              "errors": [e.text for e in collected if e.type == "error"]}}

    @app.get("/v1/models", tags=["openai"])
    async def models(owner: str | None = Depends(caller)) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "tunesmith"}]}

    if with_ui:
        import gradio as gr

        from ui.gradio_app import CSS, build_blocks

        blocks = build_blocks(agent, settings)
        app = gr.mount_gradio_app(app, blocks, path="/", css=CSS, footer_links=[],
                                  max_file_size=settings.max_upload_bytes,
                                  allowed_paths=[str(settings.cache_dir / "ui")])
    return app


def _stream_chat(events: Iterator[Event], completion_id: str, created: int, session_id: str,
                 base: str) -> Iterator[str]:
    """OpenAI ``chat.completion.chunk`` SSE: the thought first, then the reply with links."""

    def chunk(delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None) -> str:
        payload: dict[str, Any] = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                   "model": MODEL_NAME,
                                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if extra:
            payload["tunesmith"] = extra
        return f"data: {json.dumps(payload, default=str)}\n\n"

    yield chunk({"role": "assistant", "content": ""}, extra={"session_id": session_id})
    artifacts: list[dict[str, Any]] = []
    for event in events:
        if event.type == "thought" and event.text:
            yield chunk({"content": f"_{event.text}_\n\n"}, extra={"event": event.model_dump()})
        elif event.type == "tool_finished":
            artifacts.append(_public(base, event.data["artifact"]))
            yield chunk({}, extra={"event": {"type": "tool_finished", "artifact": artifacts[-1]}})
        elif event.type == "reply":
            yield chunk({"content": _reply_with_links(event.text, artifacts)})
        elif event.type in ("progress", "tool_started", "error"):
            yield chunk({}, extra={"event": event.model_dump()})
    yield chunk({}, "stop", extra={"session_id": session_id, "artifacts": artifacts})
    yield "data: [DONE]\n\n"


def build_server_app(settings: Settings | None = None, *, with_ui: bool = True) -> FastAPI:
    """The composition root used by `tunesmith serve` and by uvicorn's factory mode."""
    from agent.factory import make_agent
    from tools.config import prepare_environment, settings as current_settings

    settings = prepare_environment(settings or current_settings())
    agent = make_agent(settings)
    agent.use_render_worker()
    _warm_planner(agent)
    return create_app(agent, settings, with_ui=with_ui)


def _warm_planner(agent: Agent) -> None:
    """Plan one greeting at start-up so the first user does not pay for lazy model set-up (~1 s)."""
    if agent.planner is None:
        return
    from agent.plan import Message

    try:
        agent.planner.plan([Message(role="user", content="hello")])
    except Exception:  # a planner that cannot greet still gets its chance on real requests
        pass
