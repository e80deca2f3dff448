"""`QdrantStore`: the `VectorStore` protocol on Qdrant, for catalogues that outgrow one machine.

``location`` is a folder (Qdrant's embedded local mode, what the tests use), ``":memory:"``, or an
``http(s)://`` URL of a Qdrant server or cluster. Needs the ``qdrant`` extra.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tools.music.errors import TunesmithError

from retrieval.store import _as_matrix


class QdrantStore:
    """Cosine search over points with integer ids and JSON payloads."""

    def __init__(self, location: str | Path, dimension: int = 384, *, collection: str = "tracks") -> None:
        try:
            from qdrant_client import QdrantClient, models
        except ImportError as error:
            raise TunesmithError("The Qdrant backend needs qdrant-client", hint="pip install 'tunesmith[qdrant]'") from error
        self._models = models
        location = str(location)
        if location == ":memory:":
            self._client = QdrantClient(location=":memory:")
        elif location.startswith(("http://", "https://")):
            self._client = QdrantClient(url=location)
        else:
            Path(location).mkdir(parents=True, exist_ok=True)
            self._client = QdrantClient(path=location)
        self.dimension = dimension
        self.collection = collection
        self._lock = threading.Lock()  # the embedded client is not safe for concurrent writers
        if not self._client.collection_exists(collection):
            self._client.create_collection(
                collection, vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE))

    def __len__(self) -> int:
        return int(self._client.count(self.collection, exact=True).count)

    def add(self, ids: Sequence[int], vectors: np.ndarray, payloads: Sequence[dict] | None = None) -> None:
        matrix = _as_matrix(vectors, self.dimension)
        ids = [int(i) for i in ids]
        if len(ids) != len(matrix):
            raise TunesmithError(f"{len(ids)} ids for {len(matrix)} vectors")
        points = [self._models.PointStruct(id=id_, vector=matrix[row].tolist(),
                                           payload=(payloads[row] if payloads is not None else {}))
                  for row, id_ in enumerate(ids)]
        with self._lock:
            for start in range(0, len(points), 512):
                self._client.upsert(self.collection, points=points[start:start + 512], wait=True)

    def remove(self, ids: Sequence[int]) -> int:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        with self._lock:
            present = len(self._client.retrieve(self.collection, ids=ids, with_payload=False))
            self._client.delete(self.collection, points_selector=self._models.PointIdsList(points=ids), wait=True)
        return present

    def search(self, queries: np.ndarray, k: int, *, allowed: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        matrix = _as_matrix(queries, self.dimension)
        query_filter = None
        if allowed is not None:
            query_filter = self._models.Filter(must=[self._models.HasIdCondition(has_id=[int(i) for i in allowed])])
        k = max(1, int(k))
        scores = np.full((len(matrix), k), -np.inf, dtype=np.float32)
        found = np.full((len(matrix), k), -1, dtype=np.int64)
        for row, vector in enumerate(matrix):
            hits = self._client.query_points(self.collection, query=vector.tolist(), query_filter=query_filter,
                                             limit=k, with_payload=False).points
            for column, hit in enumerate(hits):
                scores[row, column] = hit.score
                found[row, column] = int(hit.id)
        width = int((found >= 0).sum(axis=1).max()) if len(found) else 0
        return scores[:, :width], found[:, :width]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        points = {int(p.id): p.vector for p in self._client.retrieve(self.collection, ids=[int(i) for i in ids], with_vectors=True)}
        missing = [i for i in ids if int(i) not in points]
        if missing:
            raise TunesmithError(f"Id {missing[0]} is not in the index")
        return np.asarray([points[int(i)] for i in ids], dtype=np.float32)

    def ids(self) -> np.ndarray:
        out: list[int] = []
        offset = None
        while True:
            points, offset = self._client.scroll(self.collection, limit=1024, offset=offset, with_payload=False)
            out.extend(int(p.id) for p in points)
            if offset is None:
                break
        return np.asarray(out, dtype=np.int64)

    def payload(self, id_: int) -> dict | None:
        points = self._client.retrieve(self.collection, ids=[int(id_)], with_payload=True)
        return dict(points[0].payload or {}) if points else None

    def save(self) -> None:
        """Qdrant persists every write itself (its local mode writes through to disk)."""
        return None

    def info(self) -> dict[str, Any]:
        return {"backend": "qdrant", "count": len(self), "dimension": self.dimension, "collection": self.collection}

    def close(self) -> None:
        self._client.close()
