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
        # streaming through the same client, continuing the session: a second version
        stream = client.chat.completions.create(
            model="tunesmith", stream=True, messages=[{"role": "user", "content": "make it faster"}],
            extra_body={"session_id": extension["session_id"]})
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert "Version 2" in text and "/song.mp3)" in text
        bad = client.with_options(api_key="wrong")
        with pytest.raises(Exception) as refused:
            bad.models.list()
        assert "401" in str(refused.value)
