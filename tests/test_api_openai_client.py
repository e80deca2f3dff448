"""The official `openai` client against a running `tunesmith serve`: a chat completion returns a song link."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from live_server import live_server

pytestmark = pytest.mark.slow


def test_openai_client_gets_a_song_link(tmp_path: Path) -> None:
    from openai import OpenAI

    with live_server(tmp_path / "home", ui=False, extra_env={"TUNESMITH_API_KEY": "sekrit"}) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="sekrit", timeout=300, max_retries=0)
        completion = client.chat.completions.create(
            model="tunesmith", messages=[{"role": "user", "content": "make a short happy pop song about coffee"}])
        content = completion.choices[0].message.content
        extension = completion.model_extra["tunesmith"]
        song = extension["artifacts"][0]
        link = song["links"]["song.mp3"]
        assert f"[song.mp3]({link})" in content
        audio = httpx.get(link, headers={"Authorization": "Bearer sekrit"}, timeout=30)
        assert audio.status_code == 200 and len(audio.content) > 10_000
        assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF
        assert httpx.get(link, timeout=30).status_code == 401
        assert song["recipe"]["args"]["duration_s"] == 15 and song["recipe"]["versions"]["music21"]
        # an edited outline re-renders as version 2, exactly as edited
        blueprint = song["data"]["blueprint"] | {"tempo_bpm": 150.0}
        auth = {"Authorization": "Bearer sekrit"}
        edited = httpx.post(f"{base}/v1/sessions/{extension['session_id']}/rerender", json={"blueprint": blueprint},
                            headers=auth, timeout=300).json()
        assert not edited["errors"], edited["errors"]
        assert edited["artifacts"][0]["version"] == 2
        assert edited["artifacts"][0]["data"]["manifest"]["tempo_bpm"] == 150.0
        # streaming through the same client, continuing the session: a version command, answered without a tool
        stream = client.chat.completions.create(
            model="tunesmith", stream=True, messages=[{"role": "user", "content": "compare v1 and v2"}],
            extra_body={"session_id": extension["session_id"]})
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert "BPM → 150 BPM" in text
        bad = client.with_options(api_key="wrong")
        with pytest.raises(Exception) as refused:
            bad.models.list()
        assert "401" in str(refused.value)
