"""The catalogue: every `TrackRecord` in one SQLite table, with stable integer ids for the vector index.

One writer at a time (SQLite's lock); readers never block. The vector index stores the same integer
ids, so a search hit maps straight back to its record.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from retrieval.track import TrackRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT,
    caption TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tracks_hash ON tracks(content_hash);
CREATE INDEX IF NOT EXISTS tracks_source ON tracks(source);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""


class Catalogue:
    """Track records by id and uid. Thread-safe: one connection per thread, writes serialised."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._connect() as db:
            db.executescript(SCHEMA)
        self._cache: dict[int, TrackRecord] | None = None

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, records: Iterable[TrackRecord]) -> list[int]:
        """Insert or replace records by uid; returns their ids (an existing uid keeps its id)."""
        ids: list[int] = []
        with self._write_lock:
            db = self._connect()
            with db:
                for record in records:
                    row = db.execute("SELECT id FROM tracks WHERE uid = ?", (record.uid,)).fetchone()
                    if row:
                        record.id = row[0]
                        db.execute("UPDATE tracks SET source=?, content_hash=?, caption=?, record=? WHERE id=?",
                                   (record.source, record.content_hash, record.caption, record.to_json(), record.id))
                    else:
                        cursor = db.execute("INSERT INTO tracks(uid, source, content_hash, caption, record) VALUES (?,?,?,?,?)",
                                            (record.uid, record.source, record.content_hash, record.caption, "{}"))
                        record.id = int(cursor.lastrowid)
                        db.execute("UPDATE tracks SET record=? WHERE id=?", (record.to_json(), record.id))
                    ids.append(record.id)
            self._cache = None
        return ids

    def remove(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        with self._write_lock:
            db = self._connect()
            with db:
                db.executemany("DELETE FROM tracks WHERE id = ?", [(i,) for i in ids])
            self._cache = None
        return len(ids)

    def set_meta(self, name: str, value: str) -> None:
        with self._write_lock:
            db = self._connect()
            with db:
                db.execute("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", (name, value))

    # -- reads --------------------------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        row = self._connect().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM tracks").fetchone()[0])

    def all(self) -> dict[int, TrackRecord]:
        """Every record by id, cached until the next write in this process."""
        if self._cache is None:
            rows = self._connect().execute("SELECT id, record FROM tracks").fetchall()
            cache = {}
            for track_id, text in rows:
                record = TrackRecord.from_json(text)
                record.id = track_id
                cache[track_id] = record
            self._cache = cache
        return self._cache

    def get(self, track_id: int) -> TrackRecord | None:
        return self.all().get(track_id)

    def by_uid(self, uid: str) -> TrackRecord | None:
        row = self._connect().execute("SELECT id, record FROM tracks WHERE uid = ?", (uid,)).fetchone()
        if not row:
            return None
        record = TrackRecord.from_json(row[1])
        record.id = row[0]
        return record

    def known_hashes(self) -> set[str]:
        rows = self._connect().execute("SELECT content_hash FROM tracks WHERE content_hash IS NOT NULL AND content_hash != ''")
        return {r[0] for r in rows}

    def ids_by_source(self, source: str) -> list[int]:
        return [r[0] for r in self._connect().execute("SELECT id FROM tracks WHERE source = ?", (source,))]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
