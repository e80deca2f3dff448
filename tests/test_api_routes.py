"""Every HTTP route through FastAPI's TestClient: auth on and off, uploads, path tricks, concurrency."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.runtime import Agent
from agent.store import Store
from test_agent_runtime import REGISTRY, ScriptedPlanner, _song
from tools.config import load_settings
from ui.server import create_app, owner_of


def make_client(tmp_path: Path, **env: str) -> tuple[TestClient, Agent]:
    values = {"TUNESMITH_HOME": str(tmp_path / "home"), "TUNESMITH_MAX_UPLOAD_MB": "0.05"} | env
    settings = load_settings(values)
    settings.home.mkdir(parents=True, exist_ok=True)
    agent = Agent(Store(settings.home), REGISTRY, ScriptedPlanner(), settings)
    return TestClient(create_app(agent, settings, with_ui=False)), agent


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return make_client(tmp_path)[0]


def test_health_tools_models_and_docs(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["planner"] and not health["auth"]
    names = [t["function"]["name"] for t in client.get("/v1/tools").json()["data"]]
    assert sorted(names) == ["caption_music", "edit_song", "find_rhymes", "style_transfer"]
    assert client.get("/v1/models").json()["data"][0]["id"] == "tunesmith"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/chat/completions" in paths and "/v1/sessions/{session_id}/messages" in paths


def test_session_lifecycle_and_artifact_files(client: TestClient) -> None:
    session = client.post("/v1/sessions", json={"title": "coffee"}).json()
    assert client.get("/v1/sessions").json()["data"][0]["id"] == session["id"]
    turn = client.post(f"/v1/sessions/{session['id']}/messages", json={"message": "rhyme bean"}).json()
    assert "3 rhymes for bean" in turn["reply"] and not turn["errors"]
    artifact = turn["artifacts"][0]
    link = artifact["links"]["rhymes.txt"]
    assert link.endswith(f"/v1/artifacts/{artifact['id']}/rhymes.txt")
    body = client.get(link.replace("http://testserver", ""))
    assert body.status_code == 200 and body.text.split("\n")[0] == "beans"
    assert client.get(f"/v1/artifacts/{artifact['id']}").json()["recipe"]["tool"] == "find_rhymes"
    detail = client.get(f"/v1/sessions/{session['id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["artifacts"][0]["id"] == artifact["id"]


def test_direct_tool_call_and_bad_arguments(client: TestClient) -> None:
    made = client.post("/v1/tools/find_rhymes", json={"word": "tea", "count": 2}).json()
    assert made["data"]["rhymes"] == ["teas", "teay"] and "rhymes.txt" in made["links"]
    bad = client.post("/v1/tools/find_rhymes", json={"word": "tea", "count": 50})
    assert bad.status_code == 400 and "count" in bad.json()["error"]["message"]
    unknown = client.post("/v1/tools/make_coffee", json={})
    assert unknown.status_code == 400 and "Unknown tool" in unknown.json()["error"]["message"]
    escape = client.post("/v1/tools/edit_song", json={"source": "/etc/passwd"})
    assert escape.status_code == 400 and "not one Tunesmith holds" in escape.json()["error"]["message"]
    relative = client.post("/v1/tools/edit_song", json={"source": "../../../etc/passwd"})
    assert relative.status_code == 400


def test_path_tricks_on_artifact_files(client: TestClient) -> None:
    made = client.post("/v1/tools/find_rhymes", json={"word": "x"}).json()
    for trick in ("..%2F..%2Ftunesmith.sqlite3", "%2Fetc%2Fpasswd", "rhymes.txt%00", ".."):
        response = client.get(f"/v1/artifacts/{made['id']}/{trick}")
        assert response.status_code in (404, 400), trick
    assert client.get("/v1/artifacts/art_..%2F..%2Fx/rhymes.txt").status_code == 404
    assert client.get("/v1/artifacts/not-an-id").status_code == 404


def test_multipart_upload_good_wrong_type_too_big_and_traversal_name(tmp_path: Path, client: TestClient) -> None:
    session = client.post("/v1/sessions").json()["id"]
    midi = _song(90.0).to_midi(tmp_path / "tune.mid").read_bytes()
    ok = client.post(f"/v1/sessions/{session}/messages", data={"message": "attached"},
                     files={"files": ("../../../etc/evil.mid", midi, "audio/midi")}).json()
    assert not ok["errors"], ok["errors"]
    uploads = [a for a in client.get(f"/v1/sessions/{session}").json()["artifacts"] if a["data"].get("upload")]
    assert list(uploads[0]["files"]) == ["evil.mid"]
    wrong = client.post(f"/v1/sessions/{session}/messages", data={"message": "attached"},
                        files={"files": ("song.mp3", b"\x00\x01binary junk" * 10, "audio/mpeg")}).json()
    assert "not a file Tunesmith can use" in wrong["errors"][0]
    big = client.post(f"/v1/sessions/{session}/messages", data={"message": "attached"},
                      files={"files": ("big.txt", b"la " * 40000, "text/plain")})
    assert big.status_code == 413 and "limit" in big.json()["error"]["message"]
    versions_before = client.get(f"/v1/sessions/{session}").json()["versions"]
    assert len(versions_before) == 2  # the MIDI upload (v1) and the edit (v2) survived the bad uploads


def test_streaming_messages_as_sse(client: TestClient) -> None:
    session = client.post("/v1/sessions").json()["id"]
    with client.stream("POST", f"/v1/sessions/{session}/messages", json={"message": "rhyme sun", "stream": True}) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert [e["type"] for e in events] == ["thought", "tool_started", "progress", "tool_finished", "reply", "done"]
    assert "links" in events[3]["data"]["artifact"]


def test_chat_completions_plain_stream_and_session_continuation(client: TestClient) -> None:
    body = client.post("/v1/chat/completions", json={"model": "tunesmith", "messages": [
        {"role": "user", "content": "song latte"}]}).json()
    content = body["choices"][0]["message"]["content"]
    ext = body["tunesmith"]
    assert "a song about latte" in content and f"/v1/artifacts/{ext['artifacts'][0]['id']}/song.mid" in content
    follow = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "faster"}],
                                                       "session_id": ext["session_id"]}).json()
    assert follow["tunesmith"]["artifacts"][0]["version"] == 2
    with client.stream("POST", "/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "rhyme moon"}]}]}) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert "3 rhymes for moon" in text and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 422


def test_auth_on_scopes_sessions_and_artifacts_by_key(tmp_path: Path) -> None:
    client, agent = make_client(tmp_path, TUNESMITH_API_KEY="alpha,beta")
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/tools").status_code == 401
    assert client.get("/v1/tools", headers={"Authorization": "Bearer wrong"}).status_code == 401
    alpha, beta = ({"Authorization": f"Bearer {k}"} for k in ("alpha", "beta"))
    session = client.post("/v1/sessions", headers=alpha).json()
    assert session["owner"] == owner_of("alpha") and "alpha" not in json.dumps(session)
    turn = client.post(f"/v1/sessions/{session['id']}/messages", json={"message": "rhyme key"}, headers=alpha).json()
    artifact = turn["artifacts"][0]["id"]
    assert client.get(f"/v1/sessions/{session['id']}", headers=beta).status_code == 404
    assert client.get(f"/v1/artifacts/{artifact}", headers=beta).status_code == 404
    assert client.get(f"/v1/artifacts/{artifact}/rhymes.txt", headers=beta).status_code == 404
    assert client.get(f"/v1/artifacts/{artifact}/rhymes.txt", headers=alpha).status_code == 200
    assert client.get("/v1/sessions", headers=beta).json()["data"] == []
    # another key cannot feed someone else's artifact to a tool
    stolen = client.post("/v1/tools/edit_song", json={"source": artifact}, headers=beta)
    assert stolen.status_code == 404


def test_concurrent_sessions_over_http(client: TestClient) -> None:
    ids = [client.post("/v1/sessions").json()["id"] for _ in range(8)]
    problems: list[str] = []

    def talk(index: int, session_id: str) -> None:
        for _ in range(3):
            r = client.post(f"/v1/sessions/{session_id}/messages", json={"message": f"rhyme w{index}"})
            if r.status_code != 200 or r.json()["artifacts"][0]["data"]["rhymes"][0] != f"w{index}s":
                problems.append(r.text)

    threads = [threading.Thread(target=talk, args=(i, s)) for i, s in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems
    for session_id in ids:
        assert len(client.get(f"/v1/sessions/{session_id}").json()["messages"]) == 6
    assert client.get("/v1/sessions/ses_ffffffffffffffff").status_code == 404


def test_audio_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    import numpy as np
    import soundfile

    client, _ = make_client(tmp_path, TUNESMITH_MAX_AUDIO_SECONDS="1", TUNESMITH_MAX_UPLOAD_MB="5")
    session = client.post("/v1/sessions").json()["id"]
    wav = tmp_path / "long.wav"
    soundfile.write(str(wav), np.zeros(44100 * 3, dtype="float32"), 44100)
    response = client.post(f"/v1/sessions/{session}/messages", data={"message": "attached"},
                           files={"files": ("long.wav", wav.read_bytes(), "audio/wav")})
    assert response.status_code == 200
    assert "lasts 3 s; the limit is 1 s" in response.json()["errors"][0]
