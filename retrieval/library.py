"""The searchable library: catalogue + caption vectors + hybrid ranking.

Ranking = cosine similarity of the query to each caption (MiniLM), restricted to tracks that
satisfy the hard filters parsed from the query, plus small bonuses for soft matches (tempo, length)
and, for ``like`` searches, similarity of z-scored feature vectors. Every hit says why it ranked.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.theory import note_name_to_pc

from retrieval.camelot import camelot_code, camelot_text
from retrieval.catalogue import Catalogue
from retrieval.corpus_source import collection_info, corpus_records
from retrieval.describe import feature_vector, instrument_families
from retrieval.query import QueryFilters, merge_filters, parse_query
from retrieval.track import MODE_FAMILY, TrackRecord

DEFAULT_SIGNATURE = "music21-core-v1"
Progress = Callable[[str, int, int], None]


@dataclass
class Hit:
    record: TrackRecord
    score: float
    reason: str
    semantic: float = 0.0

    def public(self) -> dict:
        return {**self.record.public(), "score": round(self.score, 4), "reason": self.reason}


_STOP = {"with", "from", "that", "this", "some", "music", "song", "songs", "tune", "tunes", "piece", "pieces",
         "major", "minor", "time", "slow", "fast", "like", "play", "find", "give", "about", "into", "their", "them",
         "folk", "irish", "german", "scottish", "chorale", "chorales", "reel", "reels", "jigs", "hornpipe", "words",
         "lyrics", "instrumental", "melody", "mode", "dance", "bach", "palestrina",
         # words that name a collection select it through the filters; they are not title words
         "o'neill", "o'neill's", "oneill", "ryan", "ryan's", "mammoth", "aird", "aird's", "essen", "monteverdi",
         "josquin", "trecento", "beethoven", "mozart", "haydn", "schumann", "fiddle", "volkslied", "scots",
         "madrigal", "madrigals", "hymn", "hymns", "lutheran", "collection", "medieval", "italian", "scottish"}


def title_words(text: str) -> set[str]:
    """Distinctive words (4+ letters, not attribute words) for matching titles."""
    import re

    return {w for w in re.findall(r"[a-zäöüß']{4,}", text.lower()) if w not in _STOP}


def _caption_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class Library:
    """One catalogue and its vector store in ``directory``.

    Args:
        directory: index folder (``settings().index_dir`` in the app).
        embedder: text embedder; the packaged MiniLM when omitted (loaded on first use).
        store: a `VectorStore`; a `FaissStore` in ``directory/faiss`` when omitted.
    """

    def __init__(self, directory: Path, *, embedder=None, store=None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.catalogue = Catalogue(self.directory / "catalogue.sqlite3")
        if store is None:
            from retrieval.store import FaissStore

            store = FaissStore(self.directory / "faiss")
        self.store = store
        self._embedder = embedder
        self._features: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._write_lock = threading.Lock()
        self._table: dict | None = None

    @property
    def embedder(self):
        if self._embedder is None:
            from retrieval.embedder import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    # -- building -------------------------------------------------------------------------------
    def add_records(self, records: Sequence[TrackRecord], *, progress: Progress | None = None) -> int:
        """Store records and embed the captions that changed; returns how many were embedded."""
        if not records:
            return 0
        with self._write_lock:
            ids = self.catalogue.upsert(records)
            todo = []
            for track_id, record in zip(ids, records):
                payload = self.store.payload(track_id)
                if payload is None or payload.get("text_hash") != _caption_hash(record.embed_text):
                    todo.append(record)
            # many tracks share one summary: embed each distinct text once
            texts = sorted({r.embed_text for r in todo})
            vectors: dict[str, np.ndarray] = {}
            for start in range(0, len(texts), 256):
                chunk = texts[start:start + 256]
                for text, vector in zip(chunk, self.embedder.embed(chunk)):
                    vectors[text] = vector
                if progress is not None:
                    progress("embedding captions", min(start + 256, len(texts)), len(texts))
            for start in range(0, len(todo), 4096):
                chunk = todo[start:start + 4096]
                self.store.add([r.id for r in chunk], np.vstack([vectors[r.embed_text] for r in chunk]),
                               [{"uid": r.uid, "text_hash": _caption_hash(r.embed_text)} for r in chunk])
            self.store.save()
            self._features = None
            self._table = None
        return len(todo)

    def remove(self, track_ids: Iterable[int]) -> int:
        track_ids = list(track_ids)
        with self._write_lock:
            self.store.remove(track_ids)
            self.store.save()
            removed = self.catalogue.remove(track_ids)
            self._features = None
            self._table = None
        return removed

    def is_default_built(self) -> bool:
        return self.catalogue.meta("default") == DEFAULT_SIGNATURE and len(self.store) > 0

    def build_default(self, *, force: bool = False, collections: set[str] | None = None, limit: int | None = None,
                      progress: Progress | None = None) -> dict:
        """Catalogue and embed the music21 corpus. Quick and idempotent once built."""
        import time

        started = time.perf_counter()
        if not force and collections is None and limit is None and self.is_default_built():
            return {"built": False, "tracks": len(self.catalogue), "seconds": round(time.perf_counter() - started, 3)}
        records = list(corpus_records(collections=collections, limit=limit,
                                      progress=(lambda i, n: progress("reading corpus metadata", i, n)) if progress else None))
        embedded = self.add_records(records, progress=progress)
        if collections is None and limit is None:
            self.catalogue.set_meta("default", DEFAULT_SIGNATURE)
        return {"built": True, "tracks": len(records), "embedded": embedded,
                "seconds": round(time.perf_counter() - started, 2)}

    # -- features -------------------------------------------------------------------------------
    def _feature_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ids, z-scored features, mean, std) for every record, cached until the next write."""
        if self._features is None:
            records = self.catalogue.all()
            ids = np.fromiter(records.keys(), dtype=np.int64, count=len(records))
            matrix = np.vstack([feature_vector(records[int(i)]) for i in ids]) if len(ids) else np.zeros((0, 13), np.float32)
            mean = matrix.mean(axis=0) if len(matrix) else np.zeros(13, np.float32)
            std = matrix.std(axis=0) + 1e-6 if len(matrix) else np.ones(13, np.float32)
            self._features = (ids, (matrix - mean) / std, mean, std)
        return self._features

    def feature_similarity(self, like: TrackRecord, ids: np.ndarray) -> np.ndarray:
        """exp(-d²/2D) similarity of z-scored features: 1 for identical, ~0.6 one std apart in every feature."""
        table_ids, table, mean, std = self._feature_table()
        position = {int(i): p for p, i in enumerate(table_ids)}
        query = (feature_vector(like) - mean) / std
        rows = table[[position[int(i)] for i in ids]]
        distance2 = ((rows - query) ** 2).sum(axis=1)
        return np.exp(-distance2 / (2 * table.shape[1]))

    # -- filtering ------------------------------------------------------------------------------
    def _attribute_table(self) -> dict:
        """Per-record attributes as numpy arrays (and title words), so filters are vector compares."""
        if self._table is None:
            records = self.catalogue.all()
            ids = np.fromiter(records.keys(), dtype=np.int64, count=len(records))
            rows = [records[int(i)] for i in ids]

            def pc(record: TrackRecord) -> int:
                try:
                    return note_name_to_pc(record.tonic) if record.tonic else -1
                except TunesmithError:
                    return -1

            modes = np.array([{"aeolian": "minor", "ionian": "major"}.get(r.mode or "", r.mode or "") for r in rows], dtype=object)
            self._table = {
                "ids": ids, "tonic_pc": np.array([pc(r) for r in rows]), "mode": modes,
                "family": np.array([MODE_FAMILY.get(r.mode or "", "") for r in rows], dtype=object),
                "meter": np.array([r.meter or "" for r in rows], dtype=object),
                "meter_class": np.array([r.meter_class for r in rows], dtype=object),
                "collection": np.array([r.collection for r in rows], dtype=object),
                "region": np.array([r.region for r in rows], dtype=object),
                "genre": np.array([r.genre for r in rows], dtype=object),
                "lyrics": np.array([r.has_lyrics for r in rows]),
                "instruments": [set(r.instruments) | set(instrument_families(r.instruments)) for r in rows],
                "title_words": [title_words(r.title) for r in rows],
            }
        return self._table

    def strict_ids(self, filters: QueryFilters) -> np.ndarray:
        """Ids of the records that pass every hard filter (vectorised form of `violations`)."""
        table = self._attribute_table()
        mask = np.ones(len(table["ids"]), dtype=bool)
        if filters.tonic_pc is not None:
            mask &= (table["tonic_pc"] == filters.tonic_pc) & (table["mode"] == (filters.mode or "major"))
        elif filters.mode is not None:
            if filters.mode == "modal":
                mask &= ~np.isin(table["mode"], ["", "major", "minor"])
            elif filters.mode in ("major", "minor"):
                mask &= table["family"] == filters.mode
            else:
                mask &= table["mode"] == filters.mode
        if filters.meter is not None:
            mask &= table["meter"] == filters.meter
        if filters.meter_class is not None:
            mask &= table["meter_class"] == filters.meter_class
        if filters.collections or filters.regions:
            mask &= np.isin(table["collection"], list(filters.collections)) | np.isin(table["region"], list(filters.regions))
        if filters.genres:
            genre_ok = np.zeros(len(mask), dtype=bool)
            for genre in filters.genres:
                genre_ok |= np.array([g == genre or genre in g.split() or g.endswith(" " + genre) for g in table["genre"]])
            mask &= genre_ok
        if filters.instruments:
            mask &= np.array([bool(filters.instruments & have) for have in table["instruments"]])
        if filters.lyrics is not None:
            mask &= table["lyrics"] == filters.lyrics
        return table["ids"][mask]

    @staticmethod
    def violations(record: TrackRecord, filters: QueryFilters) -> list[str]:
        """Names of the hard filters ``record`` fails."""
        failed = []
        if filters.tonic_pc is not None:
            wanted_mode = filters.mode or "major"
            mode = {"aeolian": "minor", "ionian": "major"}.get(record.mode or "", record.mode)
            try:
                same_tonic = record.tonic is not None and note_name_to_pc(record.tonic) == filters.tonic_pc
            except TunesmithError:
                same_tonic = False
            if not same_tonic or mode != wanted_mode:
                failed.append("key")
        if filters.mode is not None and "key" not in failed:
            if filters.mode == "modal":
                if record.mode in (None, "major", "minor"):
                    failed.append("mode")
            elif filters.mode in ("major", "minor"):
                if MODE_FAMILY.get(record.mode or "") != filters.mode:
                    failed.append("mode")
            elif record.mode != filters.mode:
                failed.append("mode")
        if filters.meter is not None and record.meter != filters.meter:
            failed.append("meter")
        if filters.meter_class is not None and record.meter_class != filters.meter_class:
            failed.append("meter")
        if filters.collections or filters.regions:
            if record.collection not in filters.collections and record.region not in filters.regions:
                failed.append("collection")
        if filters.genres and not any(g == record.genre or g in record.genre.split() or record.genre.endswith(" " + g)
                                      for g in filters.genres):
            failed.append("genre")
        if filters.instruments:
            have = set(record.instruments) | set(instrument_families(record.instruments))
            if not (filters.instruments & have):
                failed.append("instrument")
        if filters.lyrics is not None and record.has_lyrics != filters.lyrics:
            failed.append("lyrics")
        return failed

    @staticmethod
    def soft_bonus(record: TrackRecord, filters: QueryFilters) -> float:
        bonus = 0.0
        if filters.tempo_min is not None or filters.tempo_max is not None:
            low = filters.tempo_min if filters.tempo_min is not None else 0.0
            high = filters.tempo_max if filters.tempo_max is not None else 1e9
            gap = max(0.0, low - record.tempo_bpm, record.tempo_bpm - high)
            bonus += 0.1 if gap == 0 else -min(0.2, gap / 200.0)
        if filters.max_seconds is not None and record.duration_s > filters.max_seconds:
            bonus -= 0.05
        if filters.min_seconds is not None and record.duration_s < filters.min_seconds:
            bonus -= 0.05
        return bonus

    def _reason(self, record: TrackRecord, filters: QueryFilters, semantic: float | None,
                like: TrackRecord | None, failed: list[str]) -> str:
        parts = []
        matched = []
        if filters.tonic_pc is not None and "key" not in failed:
            matched.append(f"key {record.key}")
        elif filters.mode is not None and "mode" not in failed:
            matched.append(f"{record.mode} mode ({record.key})")
        if (filters.meter or filters.meter_class) and "meter" not in failed:
            matched.append(f"meter {record.meter}")
        if (filters.collections or filters.regions) and "collection" not in failed:
            matched.append(collection_info(record.collection)["name"])
        if filters.genres and "genre" not in failed:
            matched.append(record.genre)
        if filters.instruments and "instrument" not in failed:
            matched.append("for " + ", ".join(sorted(filters.instruments)))
        if filters.lyrics is not None and "lyrics" not in failed:
            matched.append("with words" if record.has_lyrics else "instrumental")
        if matched:
            parts.append("matches " + ", ".join(matched))
        if failed:
            parts.append("relaxed: " + ", ".join(failed))
        if like is not None:
            same = []
            if like.meter and like.meter == record.meter:
                same.append(f"meter {record.meter}")
            if like.tonic and record.tonic:
                a, b = camelot_text(like.tonic, like.mode or "major"), camelot_text(record.tonic, record.mode or "major")
                if a and b:
                    same.append(f"key {record.key} ({b}, near {a})" if a != b else f"same key {record.key}")
            same.append(f"tempo {round(record.tempo_bpm)} vs {round(like.tempo_bpm)} BPM")
            parts.append("like it: " + ", ".join(same))
        if semantic is not None:
            parts.append(f"caption similarity {semantic:.2f}")
        return "; ".join(parts)

    # -- search ---------------------------------------------------------------------------------
    def search(self, query: str = "", *, like: TrackRecord | None = None, limit: int = 10,
               filters: dict | None = None, exclude: Iterable[int] = (), pool: int | None = None) -> list[Hit]:
        """Hybrid search. ``like`` is a record (from the catalogue or made from a user's file)."""
        if not (query or "").strip() and like is None and not filters:
            raise TunesmithError("Nothing to search for", hint="give words, a file to search 'like', or filters")
        if not 1 <= limit <= 1000:
            raise TunesmithError(f"limit {limit} is out of range; use 1..1000")
        records = self.catalogue.all()
        if not records:
            raise TunesmithError("The music index is empty", hint="run: tunesmith index build")
        parsed = merge_filters(parse_query(query or ""), filters)
        excluded = set(exclude)
        if like is not None and like.id is not None:
            excluded.add(like.id)
        strict_array = self.strict_ids(parsed)
        strict = [int(i) for i in strict_array if int(i) not in excluded] if excluded else strict_array.tolist()
        candidates: dict[int, float] = {}
        pool = pool or max(limit * 8, 100)
        text = (query or "").strip() or (like.caption if like is not None else "")
        query_vector = self.embedder.embed([text])[0] if text else None
        semantic: dict[int, float] = {}

        def gather(allowed: list[int] | None, penalty: float) -> None:
            if query_vector is None:
                chosen = allowed if allowed is not None else [i for i in records if i not in excluded]
                for track_id in chosen:
                    candidates.setdefault(track_id, penalty)
                return
            scores, found = self.store.search(query_vector[None, :], pool, allowed=allowed)
            for score, track_id in zip(scores[0], found[0]):
                track_id = int(track_id)
                if track_id < 0 or track_id in excluded or track_id not in records:
                    continue
                semantic[track_id] = float(score)
                candidates.setdefault(track_id, penalty)

        if strict:
            gather(strict if len(strict) < len(records) else None, 0.0)
        if len(candidates) < limit:
            gather(None, -1.0)  # too few strict matches: relax, ranking the relaxed ones after
        words = title_words(query or "")
        title_match: dict[int, float] = {}
        if words:
            table = self._attribute_table()
            for track_id, have in zip(table["ids"].tolist(), table["title_words"]):
                if track_id in excluded or not (words & have):
                    continue
                title_match[track_id] = len(words & have) / len(words)
            best = sorted(title_match, key=lambda i: -title_match[i])[:pool]
            missing = [i for i in best if i not in semantic]
            if missing and query_vector is not None:
                for track_id, score in zip(missing, self.store.vectors(missing) @ query_vector):
                    semantic[track_id] = float(score)
            for track_id in best:
                candidates.setdefault(track_id, 0.0 if not self.violations(records[track_id], parsed) else -1.0)
        ids = np.fromiter(candidates.keys(), dtype=np.int64, count=len(candidates))
        feature_scores = self.feature_similarity(like, ids) if like is not None and len(ids) else None
        hits: list[Hit] = []
        for position, track_id in enumerate(ids.tolist()):
            record = records[track_id]
            failed = self.violations(record, parsed)
            sem = semantic.get(track_id)
            # a relaxed hit never outranks one that passes every filter
            score = -2.0 * len(failed) + self.soft_bonus(record, parsed) + 0.3 * title_match.get(track_id, 0.0)
            if feature_scores is not None:
                score += (0.5 * (sem or 0.0) + 0.5 * float(feature_scores[position])) if sem is not None else float(feature_scores[position])
            else:
                score += sem or 0.0
            reason = self._reason(record, parsed, sem, like, failed)
            if title_match.get(track_id):
                reason = f"title words match; {reason}" if reason else "title words match"
            hits.append(Hit(record, score, reason, sem or 0.0))
        hits.sort(key=lambda h: (-h.score, h.record.id))
        return hits[:limit]

    def info(self) -> dict:
        return {"tracks": len(self.catalogue), "vectors": len(self.store), "default_built": self.is_default_built(),
                "store": self.store.info() if hasattr(self.store, "info") else {}, "directory": str(self.directory)}
