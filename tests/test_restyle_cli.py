"""The restyle / edit / versions commands, end to end through the typer app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tools.music.song import Song


def _song(tmp_path) -> str:
    from tools.song import compose_song, make_blueprint

    lyrics = "[verse]\nwe walk along the shore\n[chorus]\nhold on to me\n"
    song = compose_song(make_blueprint({"lyrics": lyrics, "genre": "folk", "seed": 3, "tempo_bpm": 110}), seed=3)
    path = tmp_path / "song.json"
    path.write_text(song.to_json())
    return str(path)


def test_restyle_edit_versions(tmp_path):
    import ui.cli as cli

    if not any(c.name == "restyle" for c in cli.app.registered_commands):
        cli._register_commands()
    app = cli.app
    runner = CliRunner()
    result = runner.invoke(app, ["restyle", _song(tmp_path), "--style", "reggae", "--tempo", "90",
                                 "--out", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 0, result.output
    restyled = json.loads(result.output)
    assert restyled["manifest"]["style"] == "reggae" and restyled["manifest"]["tempo_bpm"] == 90
    first = restyled["artifact_id"]
    result = runner.invoke(app, ["edit", first, "--section", "chorus", "--instruction", "bigger",
                                 "--out", str(tmp_path / "e"), "--json"])
    assert result.exit_code == 0, result.output
    edited = json.loads(result.output)
    assert edited["parent_id"] == first
    assert edited["manifest"]["render"]["rendered_sections"] == ["chorus"]
    assert Song.from_json((tmp_path / "e" / "song.json").read_text()).find_section("chorus").energy > 0.85
    result = runner.invoke(app, ["versions", edited["artifact_id"], "--json"])
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [first, edited["artifact_id"]] and rows[1]["parent"] == first
    result = runner.invoke(app, ["edit", first, "--section", "bridge 4", "--instruction", "bigger"])
    assert result.exit_code != 0 and "no section" in str(result.exception).lower()
