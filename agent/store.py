"""Sessions, messages and artifacts: SQLite (WAL) for records, content-addressed files on disk.

Files are written to a temp name, fsynced and renamed, then the database row that points at them
is committed; a crash at any moment leaves either the old state or the new one, never a row
pointing at half a file. Blobs are named by their SHA-256, so the same file is stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tools.guards import safe_name
from tools.music.errors import TunesmithError
from tools.music.song import Song

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, owner TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    current_song TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL, content TEXT NOT NULL, attachments TEXT NOT NULL DEFAULT '[]',
    tool TEXT, artifacts TEXT NOT NULL DEFAULT '[]', extra TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY, session_id TEXT, owner TEXT, kind TEXT NOT NULL, tool TEXT, summary TEXT NOT NULL,
    data TEXT NOT NULL, recipe TEXT NOT NULL, parent_id TEXT, song TEXT, created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_by_session ON artifacts(session_id, created);
CREATE INDEX IF NOT EXISTS artifacts_by_parent ON artifacts(parent_id);
CREATE TABLE IF NOT EXISTS artifact_files (
    artifact_id TEXT NOT NULL REFERENCES artifacts(id), name TEXT NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, PRIMARY KEY (artifact_id, name)
);
"""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _now() -> float:
    return time.time()


@dataclass
class ArtifactRecord:
    id: str
    kind: str
    tool: str | None
    summary: str
    data: dict[str, Any]
    recipe: dict[str, Any]
    parent_id: str | None
    session_id: str | None
    owner: str | None
    created: float
    files: dict[str, int] = field(default_factory=dict)  # name -> size
    has_song: bool = False


@dataclass
class MessageRecord:
    id: int
    role: str
    content: str
    attachments: list[str]
    tool: str | None
    artifacts: list[str]
    extra: dict[str, Any]
    created: float


@dataclass
class SessionRecord:
    id: str
    title: str
    owner: str | None
    created: float
    updated: float
    current_song: str | None


class Store:
    """The one persistent state of Tunesmith; safe to share between threads of one process."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.blob_dir = home / "artifacts" / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(home / "tunesmith.sqlite3"), check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._remove_stale_temp_files()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- transactions -------------------------------------------------------------------------
    def _transaction(self):
        store = self

        class _Tx:
            def __enter__(self_inner):
                store._lock.acquire()
                store._db.execute("BEGIN IMMEDIATE")
                return store._db

            def __exit__(self_inner, exc_type, exc, tb):
                try:
                    store._db.execute("ROLLBACK" if exc_type else "COMMIT")
                finally:
                    store._lock.release()

        return _Tx()

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- blobs --------------------------------------------------------------------------------
    def _remove_stale_temp_files(self) -> None:
        for temp in self.blob_dir.glob("**/*.tmp-*"):
            if temp.stat().st_mtime < _now() - 3600:
                temp.unlink(missing_ok=True)

    def blob_path(self, sha256: str, name: str) -> Path:
        suffix = Path(name).suffix.lower()
        return self.blob_dir / sha256[:2] / f"{sha256}{suffix}"

    def put_file(self, source: Path, name: str) -> tuple[str, int]:
        """Copy a file into the blob store atomically; returns its hash and size."""
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        sha = digest.hexdigest()
        target = self.blob_path(sha, name)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f"{target.name}.tmp-{secrets.token_hex(4)}")
            with source.open("rb") as src, temp.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(temp, target)
        return sha, source.stat().st_size

    # -- sessions -----------------------------------------------------------------------------
    def create_session(self, title: str = "New session", owner: str | None = None) -> SessionRecord:
        record = SessionRecord(new_id("ses"), title[:200], owner, _now(), _now(), None)
        with self._transaction() as db:
            db.execute("INSERT INTO sessions VALUES (?,?,?,?,?,?)",
                       (record.id, record.title, owner, record.created, record.updated, None))
        return record

    def get_session(self, session_id: str, owner: str | None = None) -> SessionRecord:
        rows = self._query("SELECT * FROM sessions WHERE id=?", (session_id,))
        if not rows or (owner is not None and rows[0]["owner"] != owner):
            raise TunesmithError(f"Session {session_id!r} was not found")
        return SessionRecord(**dict(rows[0]))

    def list_sessions(self, owner: str | None = None, limit: int = 100) -> list[SessionRecord]:
        if owner is None:
            rows = self._query("SELECT * FROM sessions ORDER BY updated DESC LIMIT ?", (limit,))
        else:
            rows = self._query("SELECT * FROM sessions WHERE owner=? ORDER BY updated DESC LIMIT ?", (owner, limit))
        return [SessionRecord(**dict(r)) for r in rows]

    def rename_session(self, session_id: str, title: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE sessions SET title=?, updated=? WHERE id=?", (title[:200], _now(), session_id))

    def set_current_song(self, session_id: str, artifact_id: str | None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE sessions SET current_song=?, updated=? WHERE id=?", (artifact_id, _now(), session_id))

    # -- messages -----------------------------------------------------------------------------
    def add_message(self, session_id: str, role: str, content: str, *, attachments: list[str] | None = None,
                    tool: str | None = None, artifacts: list[str] | None = None,
                    extra: dict[str, Any] | None = None) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO messages (session_id, role, content, attachments, tool, artifacts, extra, created)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (session_id, role, content, json.dumps(attachments or []), tool, json.dumps(artifacts or []),
                 json.dumps(extra or {}, default=str), _now()))
            db.execute("UPDATE sessions SET updated=? WHERE id=?", (_now(), session_id))
            return int(cursor.lastrowid)

    def messages(self, session_id: str) -> list[MessageRecord]:
        rows = self._query("SELECT * FROM messages WHERE session_id=? ORDER BY id", (session_id,))
        return [MessageRecord(id=r["id"], role=r["role"], content=r["content"],
                              attachments=json.loads(r["attachments"]), tool=r["tool"],
                              artifacts=json.loads(r["artifacts"]), extra=json.loads(r["extra"]),
                              created=r["created"]) for r in rows]

    # -- artifacts ----------------------------------------------------------------------------
    def add_artifact(self, *, kind: str, summary: str, files: dict[str, Path] | None = None,
                     data: dict[str, Any] | None = None, recipe: dict[str, Any] | None = None,
                     tool: str | None = None, song: Song | None = None, parent_id: str | None = None,
                     session_id: str | None = None, owner: str | None = None) -> ArtifactRecord:
        """Store files (atomically, by content) and then the record that names them."""
        artifact_id = new_id("art")
        stored: list[tuple[str, str, int]] = []
        for name, path in (files or {}).items():
            clean = safe_name(name)
            sha, size = self.put_file(Path(path), clean)
            stored.append((clean, sha, size))
        created = _now()
        with self._transaction() as db:
            db.execute("INSERT INTO artifacts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (artifact_id, session_id, owner, kind, tool, summary, json.dumps(data or {}, default=str),
                        json.dumps(recipe or {}, default=str), parent_id,
                        song.model_dump_json() if song is not None else None, created))
            db.executemany("INSERT INTO artifact_files VALUES (?,?,?,?)",
                           [(artifact_id, name, sha, size) for name, sha, size in stored])
        return self.get_artifact(artifact_id)

    def get_artifact(self, artifact_id: str, owner: str | None = None) -> ArtifactRecord:
        rows = self._query("SELECT * FROM artifacts WHERE id=?", (artifact_id,))
        if not rows or (owner is not None and rows[0]["owner"] != owner):
            raise TunesmithError(f"Artifact {artifact_id!r} was not found")
        row = rows[0]
        files = {r["name"]: r["size"] for r in self._query(
            "SELECT name, size FROM artifact_files WHERE artifact_id=? ORDER BY rowid", (artifact_id,))}
        return ArtifactRecord(id=row["id"], kind=row["kind"], tool=row["tool"], summary=row["summary"],
                              data=json.loads(row["data"]), recipe=json.loads(row["recipe"]),
                              parent_id=row["parent_id"], session_id=row["session_id"], owner=row["owner"],
                              created=row["created"], files=files, has_song=row["song"] is not None)

    def artifacts_of(self, session_id: str) -> list[ArtifactRecord]:
        rows = self._query("SELECT id FROM artifacts WHERE session_id=? ORDER BY created", (session_id,))
        return [self.get_artifact(r["id"]) for r in rows]

    def song_of(self, artifact_id: str) -> Song | None:
        rows = self._query("SELECT song FROM artifacts WHERE id=?", (artifact_id,))
        if not rows:
            raise TunesmithError(f"Artifact {artifact_id!r} was not found")
        return Song.model_validate_json(rows[0]["song"]) if rows[0]["song"] else None

    def kind_of(self, artifact_id: str) -> str:
        return self.get_artifact(artifact_id).kind

    def file_of(self, artifact_id: str, role: str | None = None) -> Path:
        """Path of one file of an artifact (the first when ``role`` is None)."""
        if role is None:
            rows = self._query("SELECT name, sha256 FROM artifact_files WHERE artifact_id=? ORDER BY rowid LIMIT 1",
                               (artifact_id,))
        else:
            rows = self._query("SELECT name, sha256 FROM artifact_files WHERE artifact_id=? AND name=?",
                               (artifact_id, role))
        if not rows:
            raise TunesmithError(f"Artifact {artifact_id!r} has no file {role or ''}".rstrip())
        path = self.blob_path(rows[0]["sha256"], rows[0]["name"])
        if not path.is_file():
            raise TunesmithError(f"The file {rows[0]['name']!r} of {artifact_id} is missing from the store")
        return path

    # -- version tree -------------------------------------------------------------------------
    def lineage(self, artifact_id: str) -> list[str]:
        """Ids from the root version down to ``artifact_id``."""
        chain: list[str] = []
        current: str | None = artifact_id
        while current is not None and current not in chain:
            chain.append(current)
            rows = self._query("SELECT parent_id FROM artifacts WHERE id=?", (current,))
            current = rows[0]["parent_id"] if rows else None
        return list(reversed(chain))

    def version_tree(self, artifact_id: str) -> list[tuple[str, str | None, int]]:
        """Every version in the project of ``artifact_id``: (id, parent, depth), parents first."""
        root = self.lineage(artifact_id)[0]
        ordered: list[tuple[str, str | None, int]] = []

        def walk(node: str, parent: str | None, depth: int) -> None:
            ordered.append((node, parent, depth))
            for child in self._query("SELECT id FROM artifacts WHERE parent_id=? ORDER BY created", (node,)):
                walk(child["id"], node, depth + 1)

        walk(root, None, 0)
        return ordered

    def iter_files(self, artifact_id: str) -> Iterator[tuple[str, Path]]:
        for name in self.get_artifact(artifact_id).files:
            yield name, self.file_of(artifact_id, name)
