"""Measure generated lyrics the way the issue asks: rhyme pairs, syllable targets, overlap between topics.

Shared by the tests (a small sample) and ``bench/lyrics.py`` (20 topics x 3 schemes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from tools.lyrics.analysis import analyze
from tools.lyrics.writer import LyricsDraft, write_lyrics

TOPICS = (
    "a night drive home after a breakup", "summer at the ocean", "robots falling in love",
    "a soldier writing letters from the war", "winter in a small mountain town", "my grandmother's kitchen",
    "leaving home for the big city", "a rocket launch to the stars", "a cowboy on the open prairie",
    "dancing all night at a festival", "the last day of school", "a storm at sea",
    "coffee on a rainy morning", "a farmer waiting for the harvest", "a ghost in an old castle",
    "falling asleep under the stars", "working late at the office", "a wedding in the spring",
    "a wolf howling at the moon", "a road trip across the desert",
)
SCHEMES = ("ABAB", "AABB", "ABCB")


@dataclass
class Stats:
    pairs: int = 0
    pairs_rhyming: int = 0
    lines: int = 0
    lines_on_target: int = 0
    max_shared_lines: int = 0
    refrain_lines: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rhyme_rate(self) -> float:
        return self.pairs_rhyming / max(1, self.pairs)

    @property
    def syllable_rate(self) -> float:
        return self.lines_on_target / max(1, self.lines)


def check_draft(draft: LyricsDraft, stats: Stats) -> None:
    """Add one draft's rhyme pairs and syllable counts, as `analyze_lyrics` sees them, to ``stats``."""
    result = analyze(draft.text())
    for stanza, section in zip(result.stanzas, draft.sections):
        letters = draft.rhyme_scheme if len(section.lines) == len(draft.rhyme_scheme) else "A" * len(section.lines)
        target = draft.syllable_targets.get(section.kind, 8)
        for k, i in enumerate(stanza.lines):
            stats.lines += 1
            if abs(result.lines[i].syllables - target) <= 1:
                stats.lines_on_target += 1
            else:
                stats.failures.append(f"syllables {result.lines[i].syllables} vs {target}: {result.lines[i].text}")
        for a, b in combinations(range(len(stanza.lines)), 2):
            if letters[a] == letters[b]:
                stats.pairs += 1
                la, lb = result.lines[stanza.lines[a]], result.lines[stanza.lines[b]]
                if la.rhyme == lb.rhyme:
                    stats.pairs_rhyming += 1
                else:
                    stats.failures.append(f"no rhyme: {la.end_word} / {lb.end_word}")


def evaluate(topics=TOPICS, schemes=SCHEMES, seed: int = 0) -> tuple[Stats, dict]:
    """Write every topic in every scheme; returns the stats and the drafts by (topic, scheme)."""
    stats = Stats()
    drafts = {}
    for scheme in schemes:
        for topic in topics:
            draft = write_lyrics(topic, rhyme_scheme=scheme, seed=seed)
            drafts[(topic, scheme)] = draft
            check_draft(draft, stats)
    for scheme in schemes:
        for t1, t2 in combinations(topics, 2):
            d1, d2 = drafts[(t1, scheme)], drafts[(t2, scheme)]
            lines1 = {l.lower() for s in d1.sections for l in s.lines}
            lines2 = {l.lower() for s in d2.sections for l in s.lines}
            stats.max_shared_lines = max(stats.max_shared_lines, len(lines1 & lines2))
        stats.refrain_lines = max(len(s.lines) for d in drafts.values() for s in d.sections if s.kind == "chorus")
    return stats, drafts
