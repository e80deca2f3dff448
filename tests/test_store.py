"""The store survives a writer killed mid-write: the database opens and earlier work is intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.store import Store
from tools.music import Song
from tools.music.errors import TunesmithError

WRITER = r"""
import sys, time
from pathlib import Path
from agent.store import Store
home = Path(sys.argv[1])
store = Store(home)
session = store.create_session("victim")
payload = home / "payload.bin"
payload.write_bytes(b"x" * 4_000_000)
print("ready", flush=True)
i = 0
while True:
    i += 1
    payload.write_bytes(i.to_bytes(8, "little") * 500_000)
    store.add_artifact(kind="audio", summary=f"take {i}", files={"take.wav": payload}, session_id=session.id)
    store.add_message(session.id, "assistant", f"take {i}")
"""


def test_sigkill_mid_write_keeps_earlier_sessions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(home)
    session = store.create_session("keep me")
    source = tmp_path / "song.mid"
    source.write_bytes(b"MThd-fake-but-bytes")
    song = Song(title="Kept")
    kept = store.add_artifact(kind="song", summary="first", files={"song.mid": source}, song=song,
                              session_id=session.id, recipe={"tool": "text_to_song", "seed": 1})
    store.add_message(session.id, "user", "hello")
    store.close()

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home)], stdout=subprocess.PIPE,
                              cwd=Path(__file__).resolve().parents[1])
    assert writer.stdout.readline().strip() == b"ready"
    time.sleep(1.5)  # let it get deep into a stream of writes
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)

    reopened = Store(home)
    assert reopened.get_session(session.id).title == "keep me"
    assert [m.content for m in reopened.messages(session.id)] == ["hello"]
    record = reopened.get_artifact(kept.id)
    assert record.recipe == {"tool": "text_to_song", "seed": 1}
    assert reopened.file_of(kept.id, "song.mid").read_bytes() == b"MThd-fake-but-bytes"
    assert reopened.song_of(kept.id).title == "Kept"
    victim = [s for s in reopened.list_sessions() if s.title == "victim"][0]
    # every committed artifact of the killed writer points at a complete file
    for artifact in reopened.artifacts_of(victim.id):
        data = reopened.file_of(artifact.id, "take.wav").read_bytes()
        assert len(data) == 4_000_000
    reopened.add_message(session.id, "user", "still writable")
    assert len(reopened.messages(session.id)) == 2


def test_version_tree_and_owners(tmp_path: Path) -> None:
    store = Store(tmp_path)
    s = store.create_session(owner="alice")
    v1 = store.add_artifact(kind="song", summary="v1", song=Song(title="a"), session_id=s.id, owner="alice")
    v2 = store.add_artifact(kind="song", summary="v2", song=Song(title="b"), parent_id=v1.id, session_id=s.id)
    v3 = store.add_artifact(kind="song", summary="v3", song=Song(title="c"), parent_id=v1.id, session_id=s.id)
    v4 = store.add_artifact(kind="song", summary="v4", song=Song(title="d"), parent_id=v2.id, session_id=s.id)
    assert store.lineage(v4.id) == [v1.id, v2.id, v4.id]
    tree = store.version_tree(v3.id)
    assert [node for node, _, _ in tree] == [v1.id, v2.id, v4.id, v3.id]
    assert [depth for _, _, depth in tree] == [0, 1, 2, 1]
    with pytest.raises(TunesmithError):
        store.get_session(s.id, owner="mallory")
    with pytest.raises(TunesmithError):
        store.get_artifact(v1.id, owner="mallory")


def test_files_are_content_addressed(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    a = tmp_path / "a.wav"
    a.write_bytes(b"same")
    r1 = store.add_artifact(kind="audio", summary="1", files={"x.wav": a})
    r2 = store.add_artifact(kind="audio", summary="2", files={"../../evil.wav": a})
    assert store.file_of(r1.id, "x.wav") == store.file_of(r2.id, "evil.wav")
    assert list(r2.files) == ["evil.wav"]
