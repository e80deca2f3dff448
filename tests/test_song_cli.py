"""`tunesmith song`: arguments reach the tool; bad input gets a clear message, not a traceback.

(A full CLI run with --json is in test_song_pipeline's fresh-process test.)
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tools.music.errors import TunesmithError


@pytest.fixture(scope="module")
def app():
    import ui.cli as cli

    cli._register_commands()
    return cli.app


def _error(app, *args: str) -> str:
    result = CliRunner().invoke(app, ["song", *args])
    assert isinstance(result.exception, TunesmithError), result.output
    return str(result.exception)


def test_bad_key_missing_or_bad_lyrics_and_bad_blueprint_are_reported(app, tmp_path):
    assert "H minor" in _error(app, "--key", "H minor", "--out", str(tmp_path / "a"))
    assert "does not exist" in _error(app, "--lyrics", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "b"))
    bad = tmp_path / "bad.txt"
    bad.write_text("[kazoo]\nla la")
    assert "kazoo" in _error(app, "--lyrics", str(bad), "--out", str(tmp_path / "c"))
    blueprint = tmp_path / "blueprint.json"
    blueprint.write_text("{not json")
    assert "not readable JSON" in _error(app, "--blueprint", str(blueprint), "--out", str(tmp_path / "d"))
    assert "duration_s" in _error(app, "--duration", "5000", "--out", str(tmp_path / "e"))
