"""The tool registry: one `Tool` shape, exported to OpenAI tool schemas and LangChain tools.

A tool is a name, a description written for the planner model, a pydantic ``Args`` model and a
``run(args, ctx)`` function. Tool modules expose ``TOOLS``; the registry imports the modules that
exist, so a capability appears exactly when its module lands.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.config import Settings, settings
from tools.guards import FileKind, check_file
from tools.music.errors import TunesmithError
from tools.music.song import Song

TOOL_NAMES = (
    "text_to_song", "write_lyrics", "find_rhymes", "analyze_lyrics", "style_transfer", "edit_song",
    "caption_music", "search_music", "make_playlist", "video_soundtrack",
)
TOOL_MODULES = ("tools.song", "tools.lyrics", "tools.caption", "tools.restyle", "tools.search",
                "tools.playlist", "tools.soundtrack")
_LOG = logging.getLogger(__name__)
ARTIFACT_ID = re.compile(r"^art_[0-9a-f]{8,32}$")


class ArtifactLookup(Protocol):
    """What a tool may ask of the artifact store (implemented in `agent`)."""

    def song_of(self, artifact_id: str) -> Song | None: ...

    def file_of(self, artifact_id: str, role: str | None = None) -> Path: ...

    def kind_of(self, artifact_id: str) -> str: ...


@dataclass
class ResolvedSource:
    """An input named by path or artifact id, with what is known about it."""

    path: Path | None
    kind: FileKind
    fmt: str
    song: Song | None = None
    artifact_id: str | None = None


def _ignore_progress(fraction: float, message: str) -> None:
    return None


@dataclass
class ToolContext:
    """Everything a tool may touch besides its arguments."""

    workdir: Path
    settings: Settings = field(default_factory=settings)
    artifacts: ArtifactLookup | None = None
    progress: Callable[[float, str], None] = _ignore_progress

    def resolve_source(self, source: str, *, allowed: tuple[FileKind, ...] | None = None) -> ResolvedSource:
        """Turn an artifact id or a file path into a checked input.

        Raises:
            TunesmithError: unknown artifact, missing file, wrong kind or over the limits.
        """
        source = (source or "").strip()
        if not source:
            raise TunesmithError("No source was given", hint="attach a file or name an earlier song")
        if ARTIFACT_ID.match(source):
            if self.artifacts is None:
                raise TunesmithError(f"Artifact {source} cannot be opened here", hint="pass a file path instead")
            song = self.artifacts.song_of(source)
            kind_name = self.artifacts.kind_of(source)
            path = None if song is not None else self.artifacts.file_of(source)
            kind = FileKind.MIDI if song is not None else check_file(path, allowed=allowed)[0]
            return ResolvedSource(path=path, kind=kind, fmt=kind_name, song=song, artifact_id=source)
        path = Path(source).expanduser()
        kind, fmt = check_file(path, allowed=allowed)
        return ResolvedSource(path=path, kind=kind, fmt=fmt)


class ToolResult(BaseModel):
    """What a tool made: a summary for the chat, structured data, files, and the song if any."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: str = Field(description="song | audio | midi | score | lyrics | rhymes | analysis | playlist | caption | video | search")
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, Path] = Field(default_factory=dict)
    song: Song | None = None
    parent_id: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    run: Callable[[Any, ToolContext], ToolResult]

    def validate(self, raw: dict[str, Any] | BaseModel) -> BaseModel:
        """Arguments checked against the schema; errors name the offending field."""
        if isinstance(raw, self.args_model):
            return raw
        try:
            return self.args_model.model_validate(raw if isinstance(raw, dict) else raw.model_dump())
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in error.errors())
            raise TunesmithError(f"Bad arguments for {self.name}: {problems}") from error

    def invoke(self, raw: dict[str, Any] | BaseModel, ctx: ToolContext) -> ToolResult:
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        return self.run(self.validate(raw), ctx)

    def json_schema(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def openai_schema(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.json_schema()}}

    def langchain_tool(self, make_context: Callable[[], ToolContext]):
        """A LangChain ``StructuredTool`` that runs this tool and returns its summary and data."""
        from langchain_core.tools import StructuredTool

        def call(**kwargs: Any) -> dict[str, Any]:
            result = self.invoke(kwargs, make_context())
            return {"summary": result.summary, "data": result.data,
                    "files": {k: str(v) for k, v in result.files.items()}}

        return StructuredTool.from_function(func=call, name=self.name, description=self.description,
                                            args_schema=self.args_model)


class Registry:
    def __init__(self, tools: list[Tool], unavailable: dict[str, str] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self.unavailable: dict[str, str] = dict(unavailable or {})  # module -> why it did not load
        for tool in tools:
            if tool.name not in TOOL_NAMES:
                raise ValueError(f"tool name {tool.name!r} is not one of the fixed names")
            self._tools[tool.name] = tool

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return [name for name in TOOL_NAMES if name in self._tools]

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise TunesmithError(f"Unknown tool {name!r}", hint="known: " + ", ".join(self.names())) from None

    def openai_schemas(self) -> list[dict[str, Any]]:
        return [self._tools[n].openai_schema() for n in self.names()]

    def langchain_tools(self, make_context: Callable[[], ToolContext]) -> list:
        return [self._tools[n].langchain_tool(make_context) for n in self.names()]


_REGISTRY: Registry | None = None


def load_registry(modules: tuple[str, ...] = TOOL_MODULES) -> Registry:
    """Import every tool module that exists and collect its ``TOOLS`` (once per process).

    A module that fails to import (a missing optional dependency, a broken install) costs only
    its own tools: the agent keeps serving the others, the failure is logged, and
    ``Registry.unavailable`` says why, so `tunesmith tools` and `doctor` can show it.
    """
    global _REGISTRY
    if _REGISTRY is not None and modules == TOOL_MODULES:
        return _REGISTRY
    found: list[Tool] = []
    unavailable: dict[str, str] = {}
    for module_name in modules:
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
            found.extend(importlib.import_module(module_name).TOOLS)
        except Exception as error:  # noqa: BLE001 — any import-time failure disables that module only
            unavailable[module_name] = f"{type(error).__name__}: {error}"
            _LOG.error("tool module %s did not load, its tools are unavailable: %s", module_name, error)
    registry = Registry(found, unavailable)
    if modules == TOOL_MODULES:
        _REGISTRY = registry
    return registry
