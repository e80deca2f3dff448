"""Vector stores: the `VectorStore` protocol and its FAISS implementation.

`FaissStore` keeps integer ids (add, replace, remove), picks its index by size (exact
``IDMap2+FlatIP`` while small, ``IVF+SQ8`` when it grows past ``flat_limit``; both support removal,
which HNSW does not), lets searches run concurrently while mutations take an exclusive lock, and
saves atomically: the index is written to a new generation file and the SQLite metadata switches
to it in one transaction, so a crash leaves either the old or the new state, never a mix.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence

import numpy as np

from tools.music.errors import TunesmithError


class VectorStore(Protocol):
    """What retrieval needs from a vector database. Vectors are unit length; scores are cosine."""

    dimension: int

    def add(self, ids: Sequence[int], vectors: np.ndarray, payloads: Sequence[dict] | None = None) -> None: ...

    def remove(self, ids: Sequence[int]) -> int: ...

    def search(self, queries: np.ndarray, k: int, *, allowed: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, ids: Sequence[int]) -> np.ndarray: ...

    def ids(self) -> np.ndarray: ...

    def payload(self, id_: int) -> dict | None: ...

    def save(self) -> None: ...

    def __len__(self) -> int: ...


class ReadWriteLock:
    """Many readers or one writer (faiss searches are thread-safe; mutations are not)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _as_matrix(vectors: np.ndarray, dimension: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[1] != dimension:
        raise TunesmithError(f"Vectors have shape {matrix.shape}; this index holds {dimension}-d vectors")
    if not np.isfinite(matrix).all():
        raise TunesmithError("Vectors contain NaN or infinity")
    return matrix


def ivf_lists(count: int) -> int:
    """IVF list count for ``count`` vectors: about sqrt(n) (1,000 lists at 1M), ≥ 39 training points per list."""
    return int(max(1, min(65536, math.sqrt(count), count // 39)))


class FaissStore:
    """A persisted FAISS index with ids and JSON payloads in SQLite beside it.

    Args:
        directory: where ``index-<generation>.faiss`` and ``meta.sqlite3`` live.
        dimension: vector size (384 for MiniLM).
        flat_limit: above this many vectors the index becomes IVF+SQ8 (approximate).
        nprobe: IVF lists searched per query (recall against speed).
    """

    def __init__(self, directory: Path, dimension: int = 384, *, flat_limit: int = 50_000, nprobe: int = 24) -> None:
        import faiss  # imported here so `import retrieval` stays light

        self._faiss = faiss
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.dimension = dimension
        self.flat_limit = flat_limit
        self.nprobe = nprobe
        self._lock = ReadWriteLock()
        self._db_path = self.directory / "meta.sqlite3"
        self._db_lock = threading.Lock()
        self._db = sqlite3.connect(self._db_path, timeout=30, check_same_thread=False)
        with self._db:
            self._db.executescript("""
                CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, payload TEXT);
                CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT);
            """)
        self._pending: dict[int, str | None] = {}
        self._removed: set[int] = set()
        self._trained_at = 0
        self._index = self._load()

    # -- state ----------------------------------------------------------------------------------
    def _state(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _load(self):
        generation = self._state("generation")
        if generation is not None:
            path = self.directory / f"index-{generation}.faiss"
            if not path.is_file():
                raise TunesmithError(f"The vector index file {path.name} is missing from {self.directory}",
                                     hint="rebuild the index (tunesmith index build --force)")
            index = self._faiss.read_index(str(path))
            if index.d != self.dimension:
                raise TunesmithError(f"The index at {self.directory} holds {index.d}-d vectors, not {self.dimension}-d")
            self._trained_at = int(self._state("trained_at") or 0)
            self._configure(index)
            return index
        return self._new_flat()

    def _new_flat(self):
        faiss = self._faiss
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    def _configure(self, index) -> None:
        faiss = self._faiss
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.nprobe = self.nprobe
            if ivf.direct_map.type != faiss.DirectMap.Hashtable:
                ivf.set_direct_map_type(faiss.DirectMap.Hashtable)

    @property
    def kind(self) -> str:
        """"flat" or "ivf-sq8": which index is in use now."""
        return "flat" if self._faiss.try_extract_index_ivf(self._index) is None else "ivf-sq8"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    # -- mutations ------------------------------------------------------------------------------
    def _ids_array(self) -> np.ndarray:
        faiss = self._faiss
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        ivf = faiss.extract_index_ivf(self._index)
        invlists = ivf.invlists
        parts = []
        for list_no in range(ivf.nlist):
            size = invlists.list_size(list_no)
            if size:
                parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def _all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        ids = self._ids_array()
        if self.kind == "flat":
            flat = self._faiss.downcast_index(self._index.index)
            matrix = self._faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dimension).reshape(-1, self.dimension).copy()
            return ids, matrix
        return ids, np.vstack([self._index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dimension), np.float32)

    def _build_ivf(self, vectors: np.ndarray, ids: np.ndarray):
        faiss = self._faiss
        nlist = ivf_lists(len(vectors))
        index = faiss.index_factory(self.dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        # 40 points per list and 10 k-means rounds: a 1M build trains in well under a minute on 2 cores
        sample = vectors if len(vectors) <= 40 * nlist else vectors[rng.choice(len(vectors), 40 * nlist, replace=False)]
        faiss.extract_index_ivf(index).cp.niter = 10
        index.train(np.ascontiguousarray(sample))
        self._configure(index)
        index.add_with_ids(vectors, ids)
        self._trained_at = len(vectors)
        return index

    def add(self, ids: Sequence[int], vectors: np.ndarray, payloads: Sequence[dict] | None = None) -> None:
        """Add or replace vectors by id (an existing id is replaced)."""
        matrix = _as_matrix(vectors, self.dimension)
        id_array = np.asarray(list(ids), dtype=np.int64)
        if len(id_array) != len(matrix):
            raise TunesmithError(f"{len(id_array)} ids for {len(matrix)} vectors")
        if len(np.unique(id_array)) != len(id_array):
            raise TunesmithError("The same id appears twice in one add")
        if payloads is not None and len(payloads) != len(id_array):
            raise TunesmithError(f"{len(payloads)} payloads for {len(id_array)} vectors")
        with self._lock.write():
            self._index.remove_ids(self._selector(id_array))
            self._index.add_with_ids(matrix, id_array)
            for position, id_ in enumerate(id_array.tolist()):
                self._pending[id_] = json.dumps(payloads[position]) if payloads is not None else None
                self._removed.discard(id_)
            self._maybe_grow()

    def _selector(self, id_array: np.ndarray):
        """IVF with a hashtable direct map removes only through IDSelectorArray; flat takes a batch."""
        if self.kind == "flat":
            return self._faiss.IDSelectorBatch(id_array)
        return self._faiss.IDSelectorArray(id_array)

    def _maybe_grow(self) -> None:
        total = self._index.ntotal
        if self.kind == "flat" and total > self.flat_limit:
            ids, vectors = self._all_vectors()
            self._index = self._build_ivf(vectors, ids)
        elif self.kind != "flat" and total > 4 * max(1, self._trained_at):
            ids, vectors = self._all_vectors()  # the lists grew 4x since training: retrain the centroids
            self._index = self._build_ivf(vectors, ids)

    def remove(self, ids: Sequence[int]) -> int:
        id_array = np.asarray(list(ids), dtype=np.int64)
        if not len(id_array):
            return 0
        with self._lock.write():
            removed = int(self._index.remove_ids(self._selector(id_array)))
            for id_ in id_array.tolist():
                self._pending.pop(id_, None)
                self._removed.add(id_)
        return removed

    # -- reads ----------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int, *, allowed: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query; ``allowed`` restricts the ids considered (-1 pads)."""
        faiss = self._faiss
        matrix = _as_matrix(queries, self.dimension)
        k = max(1, int(k))
        with self._lock.read():
            if self._index.ntotal == 0:
                return np.zeros((len(matrix), 0), np.float32), np.zeros((len(matrix), 0), np.int64)
            params = None
            ivf = faiss.try_extract_index_ivf(self._index)
            if allowed is not None:
                allowed_array = np.asarray(list(allowed), dtype=np.int64)
                if not len(allowed_array):
                    return np.zeros((len(matrix), 0), np.float32), np.zeros((len(matrix), 0), np.int64)
                selector = faiss.IDSelectorBatch(allowed_array)
                if ivf is not None:
                    # a selective filter empties most lists: search all lists to keep recall
                    params = faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nlist if len(allowed_array) < 50_000 else self.nprobe)
                else:
                    params = faiss.SearchParameters(sel=selector)
            k = min(k, self._index.ntotal)
            scores, found = self._index.search(matrix, k, params=params)
        return scores, found

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        with self._lock.read():
            rows = []
            for id_ in ids:
                try:
                    rows.append(self._index.reconstruct(int(id_)))
                except RuntimeError as error:
                    raise TunesmithError(f"Id {id_} is not in the index") from error
        return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dimension), np.float32)

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self._ids_array()

    def payload(self, id_: int) -> dict | None:
        if id_ in self._pending:
            text = self._pending[id_]
            return json.loads(text) if text else {}
        if id_ in self._removed:
            return None
        row = self._db.execute("SELECT payload FROM vectors WHERE id = ?", (int(id_),)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]) if row[0] else {}

    # -- persistence ----------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the index to a new generation file and switch the metadata to it atomically."""
        faiss = self._faiss
        with self._lock.write(), self._db_lock:
            previous = self._state("generation")
            generation = str(int(previous or 0) + 1)
            target = self.directory / f"index-{generation}.faiss"
            temporary = target.with_suffix(".tmp")
            faiss.write_index(self._index, str(temporary))
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, target)
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors(id, payload) VALUES (?, ?)",
                                     list(self._pending.items()))
                self._db.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in self._removed])
                for name, value in (("generation", generation), ("trained_at", str(self._trained_at)),
                                    ("count", str(self._index.ntotal)), ("kind", self.kind)):
                    self._db.execute("INSERT OR REPLACE INTO state(name, value) VALUES (?, ?)", (name, value))
            self._pending.clear()
            self._removed.clear()
            if previous is not None:
                (self.directory / f"index-{previous}.faiss").unlink(missing_ok=True)
            return target

    def info(self) -> dict[str, Any]:
        return {"backend": "faiss", "kind": self.kind, "count": len(self), "dimension": self.dimension,
                "directory": str(self.directory)}

    def close(self) -> None:
        self._db.close()
