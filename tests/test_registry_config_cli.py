from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from tools.config import load_settings
from tools.registry import TOOL_NAMES, Registry, Tool, ToolContext, ToolResult, load_registry


class EchoArgs(BaseModel):
    word: str = Field(description="a word")
    times: int = Field(default=1, ge=1, le=5)


def echo(args: EchoArgs, ctx: ToolContext) -> ToolResult:
    return ToolResult(kind="analysis", summary=" ".join([args.word] * args.times), data={"n": args.times})


def test_exports_openai_and_langchain(tmp_path: Path) -> None:
    registry = Registry([Tool("find_rhymes", "Echo a word.", EchoArgs, echo)])
    schema = registry.openai_schemas()[0]
    assert schema["function"]["name"] == "find_rhymes"
    assert schema["function"]["parameters"]["required"] == ["word"]
    lc = registry.langchain_tools(lambda: ToolContext(workdir=tmp_path))[0]
    assert lc.name == "find_rhymes"
    assert lc.invoke({"word": "hi", "times": 2})["summary"] == "hi hi"


def test_bad_arguments_name_the_field(tmp_path: Path) -> None:
    import pytest

    from tools.music.errors import TunesmithError

    tool = Tool("find_rhymes", "Echo.", EchoArgs, echo)
    with pytest.raises(TunesmithError, match="times"):
        tool.invoke({"word": "x", "times": 9}, ToolContext(workdir=tmp_path))


def test_loaded_registry_uses_fixed_names() -> None:
    registry = load_registry()
    assert set(registry.names()) <= set(TOOL_NAMES)


def test_settings_from_env_and_toml(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "tunesmith.toml").write_text('port = 9000\nmax_upload_mb = 5\nplanner = "openai:http://x"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"TUNESMITH_PORT": "9100", "TUNESMITH_HOME": str(tmp_path)})
    assert settings.port == 9100 and settings.max_upload_bytes == 5 * 1024 * 1024
    assert settings.planner == "openai:http://x" and settings.home == tmp_path


def test_cli_version_doctor_tools() -> None:
    exe = [sys.executable, "-m", "ui.cli"]
    assert subprocess.run([*exe, "version"], capture_output=True, text=True, check=True).stdout.startswith("tunesmith ")
    parts = json.loads(subprocess.run([*exe, "doctor", "--json"], capture_output=True, text=True, check=True).stdout)
    names = {p["name"] for p in parts}
    assert {"SoundFont (General MIDI)", "espeak-ng", "MiniLM text encoder", "basic-pitch ONNX model", "faiss"} <= names
    # on a machine set up by scripts/setup.sh every part is present
    assert all(p["present"] for p in parts), [p for p in parts if not p["present"]]
    schemas = json.loads(subprocess.run([*exe, "tools", "--json"], capture_output=True, text=True, check=True).stdout)
    assert isinstance(schemas, list)


def test_a_broken_tool_module_costs_only_its_own_tools(tmp_path, monkeypatch, caplog) -> None:
    package = tmp_path / "broken_tools_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("import a_dependency_that_is_not_installed\nTOOLS = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level("ERROR", logger="tools.registry"):
        registry = load_registry(("tools.lyrics", "broken_tools_pkg"))
    assert {"write_lyrics", "find_rhymes", "analyze_lyrics"} <= set(registry.names())
    assert "a_dependency_that_is_not_installed" in registry.unavailable["broken_tools_pkg"]
    assert "broken_tools_pkg" in caplog.text
    assert load_registry() is load_registry()  # the default registry is still built once per process
