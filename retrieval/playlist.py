"""Playlists: relevant, diverse (MMR), sized to a duration or count, ordered for flow.

Selection is maximal marginal relevance over the hybrid search's candidates (relevance vs the
most similar track already chosen); the duration target is met within ±5 % by choosing, among the
next MMR picks, ones that fit the time left. Order minimises a transition cost (Camelot key
distance, tempo jump, energy jump): greedy nearest neighbour, then 2-opt.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

from tools.music.errors import TunesmithError

from retrieval.camelot import camelot_code, camelot_distance, camelot_text
from retrieval.library import Hit, Library
from retrieval.track import TrackRecord

DURATION_TOLERANCE = 0.05


@dataclass
class Playlist:
    prompt: str
    tracks: list[TrackRecord]
    reasons: list[str]
    target_seconds: float | None
    seed: int
    flow: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return float(sum(t.duration_s for t in self.tracks))

    def public(self) -> dict:
        return {"prompt": self.prompt, "seed": self.seed, "count": len(self.tracks),
                "total_seconds": round(self.total_seconds, 1), "target_seconds": self.target_seconds,
                "flow": self.flow,
                "tracks": [{**t.public(), "camelot": camelot_text(t.tonic, t.mode) if t.tonic and t.mode else None,
                            "reason": reason} for t, reason in zip(self.tracks, self.reasons)]}


def transition_cost(a: TrackRecord, b: TrackRecord) -> float:
    """How jarring it is to go from ``a`` to ``b``: key clash + tempo jump + energy jump (0 = seamless)."""
    key = camelot_distance(camelot_code(a.tonic, a.mode) if a.tonic and a.mode else None,
                           camelot_code(b.tonic, b.mode) if b.tonic and b.mode else None) / 6.0
    tempo = abs(a.tempo_bpm - b.tempo_bpm) / 60.0
    energy = abs(a.energy - b.energy)
    return key + tempo + energy


def order_cost(tracks: list[TrackRecord]) -> float:
    """Mean transition cost of a running order."""
    if len(tracks) < 2:
        return 0.0
    return float(np.mean([transition_cost(a, b) for a, b in zip(tracks, tracks[1:])]))


def order_for_flow(tracks: list[TrackRecord]) -> list[TrackRecord]:
    """A smooth running order: start from the calmest track, nearest neighbour, then 2-opt."""
    if len(tracks) < 3:
        return sorted(tracks, key=lambda t: t.energy)
    n = len(tracks)
    cost = np.array([[transition_cost(a, b) for b in tracks] for a in tracks])
    start = int(np.argmin([t.energy for t in tracks]))
    order = [start]
    left = set(range(n)) - {start}
    while left:
        here = order[-1]
        nxt = min(left, key=lambda j: (cost[here, j], j))
        order.append(nxt)
        left.remove(nxt)
    improved = True
    rounds = 0
    while improved and rounds < 50:
        improved = False
        rounds += 1
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                # reversing order[i:j+1] changes the edges (i-1, i) and (j, j+1)
                before = cost[order[i - 1], order[i]] + (cost[order[j], order[j + 1]] if j + 1 < n else 0.0)
                after = cost[order[i - 1], order[j]] + (cost[order[i], order[j + 1]] if j + 1 < n else 0.0)
                if after < before - 1e-9:
                    order[i:j + 1] = reversed(order[i:j + 1])
                    improved = True
    return [tracks[i] for i in order]


def flow_report(tracks: list[TrackRecord], *, seed: int = 0, shuffles: int = 200) -> dict:
    """The order's smoothness against random orders of the same tracks."""
    rng = random.Random(seed)
    randoms = []
    for _ in range(shuffles if len(tracks) > 2 else 0):
        shuffled = tracks[:]
        rng.shuffle(shuffled)
        randoms.append(order_cost(shuffled))
    pairs = list(zip(tracks, tracks[1:]))
    smooth = [camelot_distance(camelot_code(a.tonic, a.mode) if a.tonic and a.mode else None,
                               camelot_code(b.tonic, b.mode) if b.tonic and b.mode else None) <= 1 for a, b in pairs]
    return {
        "mean_transition_cost": round(order_cost(tracks), 4),
        "random_mean_transition_cost": round(float(np.mean(randoms)), 4) if randoms else None,
        "key_compatible_fraction": round(float(np.mean(smooth)), 3) if smooth else None,
        "mean_tempo_jump_bpm": round(float(np.mean([abs(a.tempo_bpm - b.tempo_bpm) for a, b in pairs])), 2) if pairs else None,
        "energy_curve": [round(t.energy, 2) for t in tracks],
    }


def _title_key(record: TrackRecord) -> str:
    return re.sub(r"[^a-z0-9]", "", record.title.lower())


def _similarity_matrix(library: Library, hits: list[Hit]) -> np.ndarray:
    ids = [h.record.id for h in hits]
    vectors = library.store.vectors(ids)
    caption_similarity = vectors @ vectors.T
    table_ids, table, _, _ = library._feature_table()
    position = {int(i): p for p, i in enumerate(table_ids)}
    features = table[[position[i] for i in ids]]
    distance2 = ((features[:, None, :] - features[None, :, :]) ** 2).sum(-1)
    feature_similarity = np.exp(-distance2 / (2 * features.shape[1]))
    return 0.5 * caption_similarity + 0.5 * feature_similarity


def make_playlist(library: Library, prompt: str, *, duration_min: float | None = None, count: int | None = None,
                  seed: int = 0, diversity: float = 0.3, filters: dict | None = None, pool: int = 400) -> Playlist:
    """Choose and order tracks for ``prompt``; exactly one of ``duration_min`` and ``count`` (count defaults to 10)."""
    if duration_min is not None and count is not None:
        raise TunesmithError("Give either a duration or a count, not both")
    if duration_min is not None and not 0.5 <= duration_min <= 600:
        raise TunesmithError(f"duration {duration_min} min is out of range; use 0.5..600 minutes")
    if count is not None and not 1 <= count <= 500:
        raise TunesmithError(f"count {count} is out of range; use 1..500")
    if duration_min is None and count is None:
        count = 10
    target = duration_min * 60.0 if duration_min is not None else None
    hits = library.search(prompt, limit=min(1000, pool), filters=filters, pool=pool)
    # one version per tune: collections hold variants under the same title
    unique: list[Hit] = []
    seen: set[str] = set()
    for hit in hits:
        key = _title_key(hit.record) or hit.record.uid
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    if not unique:
        raise TunesmithError(f"No tracks match {prompt!r}")
    rng = np.random.default_rng(seed)
    relevance = np.array([h.score for h in unique])
    relevance = (relevance - relevance.min()) / (np.ptp(relevance) + 1e-9) + rng.uniform(0, 0.02, len(unique))
    similarity = _similarity_matrix(library, unique)
    chosen: list[int] = []
    total = 0.0
    low, high = (target * (1 - DURATION_TOLERANCE), target * (1 + DURATION_TOLERANCE)) if target else (0, 0)
    available = set(range(len(unique)))
    while available:
        if count is not None and len(chosen) >= count:
            break
        if target is not None and total >= low:
            break
        max_sim = similarity[:, chosen].max(axis=1) if chosen else np.zeros(len(unique))
        mmr = (1 - diversity) * relevance - diversity * max_sim
        ranked = sorted(available, key=lambda i: -mmr[i])
        pick = ranked[0]
        if target is not None:
            fitting = [i for i in ranked if total + unique[i].record.duration_s <= high]
            if not fitting:
                break
            # prefer the best MMR pick among those that do not overshoot; a track that lands inside
            # the window finishes the list
            finishing = [i for i in fitting[:40] if total + unique[i].record.duration_s >= low]
            pick = finishing[0] if finishing and mmr[finishing[0]] >= mmr[fitting[0]] - 0.15 else fitting[0]
        chosen.append(pick)
        available.discard(pick)
        total += unique[pick].record.duration_s
    if target is not None and not low <= total <= high:
        raise TunesmithError(f"Only {total / 60:.1f} minutes of music match {prompt!r}; asked for {duration_min:g}",
                             hint="ask for less time or a broader description")
    if count is not None and len(chosen) < count:
        raise TunesmithError(f"Only {len(chosen)} distinct tracks match {prompt!r}; asked for {count}",
                             hint="ask for fewer or a broader description")
    tracks = [unique[i].record for i in chosen]
    reasons = {unique[i].record.id: unique[i].reason for i in chosen}
    ordered = order_for_flow(tracks)
    playlist = Playlist(prompt=prompt, tracks=ordered, reasons=[reasons[t.id] for t in ordered],
                        target_seconds=target, seed=seed)
    playlist.flow = flow_report(ordered, seed=seed)
    return playlist
