"""A learned key ranker: a conditional logit over the 24 keys of one piece.

Why: the profile correlation of key.py leaves four kinds of misses that hand-set bonuses could
not settle together (each bonus was chosen on ~57 pieces and cost a piece elsewhere): relative
keys (E minor vs G major share every note), dominant and subdominant keys (one accidental apart),
excerpts cut after a modulation, and modal tunes. Each is decided by evidence a profile does not
see — the bass line, the opening and the close, V→I motion in the bass, the raised seventh of a
minor key — and how much each piece of evidence is worth is a question for data. So every
candidate key gets a transposition-invariant feature vector (see ``candidate_features``), and
one weight vector, fitted by maximum likelihood with an L2 penalty on training pieces from the
bench's TUNING collections (``fit_key.py``, never the bench's own pieces nor the HELDOUT
collections), scores them: the best key is the argmax, its softmax probability the confidence.

Every feature is computed relative to the candidate's tonic and split by the candidate's mode
(a major and a minor slot), so the model is the same in all twelve transpositions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("key_ranker.json")
MODES = ("major", "minor")
# the 24 candidates in a fixed order: (tonic pitch class, mode)
CANDIDATES = tuple((tonic, mode) for tonic in range(12) for mode in MODES)
# the opening and closing stretch of a piece, in quarter-note beats (two 4/4 bars): long enough to
# hold the first and last cadence of a chorale, short enough not to reach into the next phrase
EDGE_BEATS = 8.0
HIST_NAMES = ("duration", "onsets", "bass", "first", "last", "on_beat")
CORR_PROFILES = ("temperley", "albrecht_shanahan")


class _NoteLike(Protocol):
    pitch: int
    start: float
    duration: float


@dataclass(frozen=True)
class PieceEvidence:
    """What the ranker knows about one piece, independent of any key (pitch classes 0–11).

    Histograms are normalised to sum 1 (zeros when empty); the *_pc fields are None when unknown.
    """

    hists: dict[str, np.ndarray]
    opening_bass_pc: int | None
    final_bass_pc: int | None
    first_top_pc: int | None
    final_top_pc: int | None
    bass_moves: np.ndarray  # (12, 12) counts of bass pitch-class changes, from → to
    top_moves: np.ndarray  # (12, 12) counts of top-voice pitch-class changes
    cadences: np.ndarray  # (12,) share of bass changes that are authentic cadences onto each pitch class
    signature: int | None = None


def _normalised(hist: np.ndarray) -> np.ndarray:
    total = float(hist.sum())
    return hist / total if total > 0 else np.zeros(12)


def _pc_hist(pitches: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return _normalised(np.bincount(pitches % 12, weights=weights, minlength=12).astype(float))


def _moves(line: list[int]) -> np.ndarray:
    moves = np.zeros((12, 12))
    for a, b in zip(line, line[1:]):
        if a != b:
            moves[a, b] += 1
    return moves


def evidence_from_notes(notes: Iterable[_NoteLike], *, signature: int | None = None) -> PieceEvidence:
    """The piece-level evidence of pitched notes (times in beats; drums filtered by the caller)."""
    notes = list(notes)
    pitch = np.array([int(n.pitch) for n in notes], dtype=int)
    start = np.array([float(n.start) for n in notes])
    dur = np.maximum(np.array([float(n.duration) for n in notes]), 0.0)
    end = start + dur
    onsets = np.unique(np.round(start, 4))
    bass_line, top_line, bass_len, sonorities = [], [], [], []
    for i, onset in enumerate(onsets):
        sounding = (start <= onset + 1e-4) & (end > onset + 1e-4)
        starting = np.abs(start - onset) <= 1e-4
        bass_line.append(int(pitch[sounding].min()) if sounding.any() else int(pitch[starting].min()))
        top_line.append(int(pitch[starting].max()))
        sonorities.append(set((pitch[sounding | starting] % 12).tolist()))
        nxt = onsets[i + 1] if i + 1 < len(onsets) else float(end.max())
        bass_len.append(max(nxt - onset, 1e-3))
    first_end = onsets[0] + EDGE_BEATS
    last_start = float(end.max()) - EDGE_BEATS
    on_beat = np.abs(start - np.round(start)) < 1e-3
    hists = {
        "duration": _pc_hist(pitch, dur),
        "onsets": _pc_hist(pitch, np.ones(len(pitch))),
        "bass": _pc_hist(np.array(bass_line), np.array(bass_len)),
        "first": _pc_hist(pitch[start < first_end], np.minimum(end, first_end)[start < first_end] - start[start < first_end]),
        "last": _pc_hist(pitch[end > last_start], (end - np.maximum(start, last_start))[end > last_start]),
        "on_beat": _pc_hist(pitch[on_beat], dur[on_beat]),
    }
    return PieceEvidence(hists=hists, opening_bass_pc=bass_line[0] % 12, final_bass_pc=_final_bass(pitch, start, end),
                         first_top_pc=top_line[0] % 12, final_top_pc=top_line[-1] % 12,
                         bass_moves=_moves([b % 12 for b in bass_line]), top_moves=_moves([t % 12 for t in top_line]),
                         cadences=_cadences([b % 12 for b in bass_line], sonorities),
                         signature=signature)


def _cadences(bass: list[int], sonorities: list[set[int]]) -> np.ndarray:
    """Per pitch class t, the share of bass changes that go from t's fifth to t under a chord that
    holds t's leading tone (a V–I cadence: the one progression that names its key)."""
    out = np.zeros(12)
    changes = 0
    for i in range(1, len(bass)):
        if bass[i] != bass[i - 1]:
            changes += 1
            tonic = bass[i]
            if bass[i - 1] == (tonic + 7) % 12 and (tonic + 11) % 12 in sonorities[i - 1]:
                out[tonic] += 1
    return out / max(changes, 1)


def _final_bass(pitch: np.ndarray, start: np.ndarray, end: np.ndarray) -> int:
    """Lowest note still sounding at the last onset (key.final_bass_pitch_class's rule)."""
    last = start.max()
    closing = (start <= last + 1e-6) & (end + 1e-6 > last)
    return int(pitch[closing].min()) % 12 if closing.any() else int(pitch[start >= last - 1e-6].min()) % 12


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _degree_onehot(pc: int | None, tonic: int, degrees: tuple[int, ...]) -> list[float]:
    if pc is None:
        return [0.0] * len(degrees)
    return [float((pc - tonic) % 12 == d) for d in degrees]


def feature_names(*, with_signature: bool = False) -> list[str]:
    """Names of the per-mode features, in ``candidate_features`` order (before the mode split)."""
    names = [f"corr_{h}_{p}" for h in HIST_NAMES for p in CORR_PROFILES]
    names += [f"deg_duration_{d}" for d in range(12)] + [f"deg_bass_{d}" for d in range(12)]
    names += ["opening_bass_tonic", "opening_bass_fifth", "final_bass_tonic", "final_bass_fifth",
              "final_bass_third", "first_top_tonic", "first_top_fifth", "final_top_tonic", "final_top_fifth",
              "final_top_third", "bass_V_I", "bass_IV_I", "bass_I_V", "top_7_1", "cadence_V7_I", "leading_vs_subtonic", "bias"]
    if with_signature:
        names += ["signature"]
    return names


def candidate_features(ev: PieceEvidence, *, with_signature: bool = False) -> np.ndarray:
    """(24, 2 × F) features of the 24 CANDIDATES: the F per-mode features in the candidate's mode slot."""
    from tools.music.analysis.key import load_profiles

    profiles = load_profiles()
    per_mode = len(feature_names(with_signature=with_signature))
    out = np.zeros((len(CANDIDATES), 2 * per_mode))
    bass_changes = max(1.0, ev.bass_moves.sum())
    top_changes = max(1.0, ev.top_moves.sum())
    for row, (tonic, mode) in enumerate(CANDIDATES):
        third = 4 if mode == "major" else 3
        f = [_corr(ev.hists[h], np.roll(profiles[p][mode], tonic)) for h in HIST_NAMES for p in CORR_PROFILES]
        f += list(np.roll(ev.hists["duration"], -tonic)) + list(np.roll(ev.hists["bass"], -tonic))
        f += _degree_onehot(ev.opening_bass_pc, tonic, (0, 7))
        f += _degree_onehot(ev.final_bass_pc, tonic, (0, 7, third))
        f += _degree_onehot(ev.first_top_pc, tonic, (0, 7))
        f += _degree_onehot(ev.final_top_pc, tonic, (0, 7, third))
        dom, sub, lead = (tonic + 7) % 12, (tonic + 5) % 12, (tonic + 11) % 12
        f += [ev.bass_moves[dom, tonic] / bass_changes, ev.bass_moves[sub, tonic] / bass_changes,
              ev.bass_moves[tonic, dom] / bass_changes, ev.top_moves[lead, tonic] / top_changes, ev.cadences[tonic]]
        hist = ev.hists["duration"]
        raised, flat = hist[(tonic + 11) % 12], hist[(tonic + 10) % 12]
        f += [(raised - flat) / (raised + flat) if raised + flat > 0 else 0.0, 1.0]
        if with_signature:
            f += [float(ev.signature is not None and (_sharps(tonic, mode) - ev.signature) % 12 == 0)]
        slot = MODES.index(mode)
        out[row, slot * per_mode:(slot + 1) * per_mode] = f
    return out


def _sharps(tonic: int, mode: str) -> int:
    from tools.music.theory import Key

    return Key(tonic, mode).sharps


@dataclass(frozen=True)
class Ranker:
    """One fitted weight vector and the feature layout it was fitted on."""

    name: str
    weights: np.ndarray
    with_signature: bool

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Softmax over the 24 candidates."""
        scores = features @ self.weights
        scores = scores - scores.max()
        p = np.exp(scores)
        return p / p.sum()


@lru_cache(maxsize=None)
def load_ranker(name: str) -> Ranker:
    """A ranker from key_ranker.json ("notes", "notes_signature", "audio")."""
    from tools.music.errors import TunesmithError

    table = json.loads(WEIGHTS_FILE.read_text())
    if name not in table.get("rankers", {}):
        raise TunesmithError(f"Unknown key ranker {name!r}; known: {', '.join(sorted(table.get('rankers', {})))}")
    entry = table["rankers"][name]
    return Ranker(name=name, weights=np.asarray(entry["weights"], dtype=float),
                  with_signature=bool(entry.get("with_signature", False)))


# ---- audio ---------------------------------------------------------------------------------------
AUDIO_HOP = 2048
# the opening and closing stretch of a recording, in seconds of sound (about two bars at 60–150 BPM)
AUDIO_EDGE_SECONDS = 8.0
AUDIO_HIST_NAMES = ("chroma", "bass", "first", "last")
OPENING_SECONDS = 0.5  # the first chord's sound after its attack (the final bass reads 0.25 s of a release)
BASS_OCTAVES = 3  # C1–B3: the register of a bass line (and of a tune's lowest notes when it has none)


@dataclass(frozen=True)
class AudioEvidence:
    """What the audio ranker knows about one recording, independent of any key."""

    hists: dict[str, np.ndarray]
    final_bass_pc: int | None
    opening_bass_pc: int | None = None


def evidence_from_audio(mono: np.ndarray, sr: int) -> AudioEvidence:
    """Chroma overall, in the bass register, over the first and the last seconds of sound, and the final bass.

    One CQT (C1–B7, three bins a semitone, folded as key.chroma_profile's chroma_cqt does) gives
    the full chroma and the bass-register chroma (its lowest BASS_OCTAVES); silence before and after the sound is
    skipped so "first" and "last" hold music.
    """
    import librosa

    from tools.music.analysis.key import final_bass_from_audio

    bins = 36  # three bins a semitone, as chroma_cqt's default: with one, each filter leaks into its neighbours
    cqt = np.abs(librosa.cqt(mono, sr=sr, hop_length=AUDIO_HOP, fmin=librosa.note_to_hz("C1"), n_bins=7 * bins,
                             bins_per_octave=bins, tuning=0.0))
    energy = cqt.sum(axis=0)
    loud = np.nonzero(energy > 0.05 * max(float(energy.max()), 1e-12))[0]
    lo, hi = (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, cqt.shape[1])
    chroma = librosa.feature.chroma_cqt(C=cqt, bins_per_octave=bins, n_octaves=7, norm=None)
    bass = librosa.feature.chroma_cqt(C=cqt[:BASS_OCTAVES * bins], bins_per_octave=bins, n_octaves=BASS_OCTAVES,
                                      norm=None)
    edge = max(1, int(round(AUDIO_EDGE_SECONDS * sr / AUDIO_HOP)))
    hists = {"chroma": _normalised(chroma[:, lo:hi].sum(axis=1)), "bass": _normalised(bass[:, lo:hi].sum(axis=1)),
             "first": _normalised(chroma[:, lo:min(hi, lo + edge)].sum(axis=1)),
             "last": _normalised(chroma[:, max(lo, hi - edge):hi].sum(axis=1))}
    # the opening bass is the final bass of the reversed signal: its first OPENING_SECONDS of sound
    opening = final_bass_from_audio(np.ascontiguousarray(mono[::-1]), sr, seconds=OPENING_SECONDS)
    return AudioEvidence(hists=hists, final_bass_pc=final_bass_from_audio(mono, sr), opening_bass_pc=opening)


def audio_feature_names() -> list[str]:
    """Names of the per-mode audio features, in ``audio_candidate_features`` order."""
    names = [f"corr_{h}_{p}" for h in AUDIO_HIST_NAMES for p in CORR_PROFILES]
    names += [f"deg_chroma_{d}" for d in range(12)] + [f"deg_bass_{d}" for d in range(12)]
    return names + ["final_bass_tonic", "final_bass_fifth", "final_bass_third", "opening_bass_tonic",
                    "opening_bass_fifth", "leading_vs_subtonic", "bias"]


def audio_candidate_features(ev: AudioEvidence) -> np.ndarray:
    """(24, 2 × F) features of the 24 CANDIDATES from audio evidence (mode-split as candidate_features)."""
    from tools.music.analysis.key import load_profiles

    profiles = load_profiles()
    per_mode = len(audio_feature_names())
    out = np.zeros((len(CANDIDATES), 2 * per_mode))
    for row, (tonic, mode) in enumerate(CANDIDATES):
        third = 4 if mode == "major" else 3
        f = [_corr(ev.hists[h], np.roll(profiles[p][mode], tonic)) for h in AUDIO_HIST_NAMES for p in CORR_PROFILES]
        f += list(np.roll(ev.hists["chroma"], -tonic)) + list(np.roll(ev.hists["bass"], -tonic))
        f += _degree_onehot(ev.final_bass_pc, tonic, (0, 7, third))
        f += _degree_onehot(ev.opening_bass_pc, tonic, (0, 7))
        hist = ev.hists["chroma"]
        raised, flat = hist[(tonic + 11) % 12], hist[(tonic + 10) % 12]
        f += [(raised - flat) / (raised + flat) if raised + flat > 0 else 0.0, 1.0]
        slot = MODES.index(mode)
        out[row, slot * per_mode:(slot + 1) * per_mode] = f
    return out
