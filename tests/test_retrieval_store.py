"""Vector stores: ids add/replace/remove, persistence, atomic saves, growth to IVF, concurrency, Qdrant."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from retrieval.store import FaissStore
from tools.music.errors import TunesmithError


def clustered(n: int, d: int = 32, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres (uniform random vectors have no neighbourhoods)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    x = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(base: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ base.T
    return ids[np.argsort(-scores, axis=1)[:, :k]]


def test_add_search_replace_remove(tmp_path):
    vectors = clustered(300)
    store = FaissStore(tmp_path, 32)
    store.add(np.arange(300) + 1000, vectors, [{"n": i} for i in range(300)])
    scores, found = store.search(vectors[:5], 3)
    assert found[:, 0].tolist() == [1000, 1001, 1002, 1003, 1004]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    # replacing an id moves it; it is not duplicated
    store.add([1000], vectors[299:300])
    assert len(store) == 300
    assert set(store.search(vectors[299:300], 2)[1][0].tolist()) == {1000, 1299}
    assert store.remove([1001, 1002, 99999]) == 2
    assert len(store) == 298
    assert 1001 not in store.search(vectors[1:2], 10)[1][0].tolist()
    assert store.payload(1003) == {"n": 3} and store.payload(1001) is None


def test_filtered_search_only_returns_allowed_ids(tmp_path):
    vectors = clustered(200)
    store = FaissStore(tmp_path, 32)
    store.add(range(200), vectors)
    _, found = store.search(vectors[:1], 5, allowed=[7, 8, 9])
    assert set(found[0][found[0] >= 0].tolist()) <= {7, 8, 9}


def test_persists_and_saves_atomically(tmp_path):
    vectors = clustered(100)
    store = FaissStore(tmp_path, 32)
    store.add(range(100), vectors, [{"i": i} for i in range(100)])
    store.save()
    store.add(range(100, 150), clustered(50, seed=1))
    # a crash after writing the next index file but before the metadata switch: simulate by
    # leaving a stray temporary and a newer file the metadata does not name
    (tmp_path / "index-99.faiss.tmp").write_bytes(b"partial")
    reopened = FaissStore(tmp_path, 32)
    assert len(reopened) == 100  # the unsaved 50 are not there, the saved 100 are
    assert reopened.payload(5) == {"i": 5}
    assert reopened.search(vectors[5:6], 1)[1][0, 0] == 5
    store.save()
    assert len(FaissStore(tmp_path, 32)) == 150
    assert len(list(tmp_path.glob("index-*.faiss"))) == 1  # the old generation is gone


def test_grows_into_ivf_with_high_recall_and_still_removes(tmp_path):
    vectors = clustered(6000, seed=3)
    ids = np.arange(6000, dtype=np.int64)
    store = FaissStore(tmp_path, 32, flat_limit=2000, nprobe=16)
    store.add(ids[:1500], vectors[:1500])
    assert store.kind == "flat"
    store.add(ids[1500:], vectors[1500:])
    assert store.kind == "ivf-sq8"
    queries = clustered(50, seed=9)
    found = store.search(queries, 10)[1]
    truth = exact_top(vectors, ids, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.tolist(), truth.tolist())])
    assert recall >= 0.9, recall
    store.remove([int(truth[0, 0])])
    assert int(truth[0, 0]) not in store.search(queries[:1], 10)[1][0].tolist()
    store.save()
    assert FaissStore(tmp_path, 32).kind == "ivf-sq8"


def test_concurrent_searches_with_a_writer(tmp_path):
    vectors = clustered(2000)
    store = FaissStore(tmp_path, 32)
    store.add(range(1000), vectors[:1000])
    errors: list[Exception] = []

    def reader() -> None:
        try:
            for i in range(100):
                scores, found = store.search(vectors[i:i + 1], 5)
                assert found.shape == (1, 5)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for start in range(1000, 2000, 100):
        store.add(range(start, start + 100), vectors[start:start + 100])
    for thread in threads:
        thread.join()
    assert not errors
    assert len(store) == 2000


def test_bad_vectors_are_refused(tmp_path):
    store = FaissStore(tmp_path, 32)
    with pytest.raises(TunesmithError):
        store.add([1], np.zeros((1, 16), np.float32))
    with pytest.raises(TunesmithError):
        store.add([1], np.full((1, 32), np.nan, np.float32))
    with pytest.raises(TunesmithError):
        store.add([1, 1], clustered(2))
    with pytest.raises(TunesmithError):
        FaissStore(tmp_path, 32).add([1, 2], clustered(1))


def test_qdrant_local_mode(tmp_path):
    pytest.importorskip("qdrant_client")
    from retrieval.store_qdrant import QdrantStore

    vectors = clustered(120)
    store = QdrantStore(tmp_path / "q", 32)
    store.add(range(120), vectors, [{"i": i} for i in range(120)])
    scores, found = store.search(vectors[:3], 4)
    assert found[:, 0].tolist() == [0, 1, 2]
    _, allowed = store.search(vectors[:1], 5, allowed=[10, 11])
    assert set(allowed[0].tolist()) <= {10, 11}
    assert store.remove([0, 1]) == 2
    assert 0 not in store.search(vectors[:1], 5)[1][0].tolist()
    assert np.allclose(store.vectors([5])[0], vectors[5], atol=1e-5)
    store.close()
    reopened = QdrantStore(tmp_path / "q", 32)
    assert len(reopened) == 118 and reopened.payload(7) == {"i": 7}
    reopened.close()
