"""Key estimation from audio (chroma) and from notes (duration-weighted pitch classes).

Why this shape: on FluidSynth renders of corpus pieces the key *profile* mattered more than the
chroma (FACTS.md: Krumhansl–Kessler 11/20, Temperley 18/20, Albrecht–Shanahan 17/20), and
Temperley's minor profile punishes pop's flat seventh where Albrecht–Shanahan does not. So both
profiles vote: the score of a key is the mean of its correlations under the two profiles.

A learned alternative, ``method="ranker"`` (key_ranker.py, weights from fit_key.py), is not the
default: it wins on the bench's TUNING set and loses on HELDOUT (bench/caption.py, 90 s cuts,
exact): notes 0.895 → 0.930 tuning but 0.839 → 0.742 held-out; audio 0.860 → 0.895 tuning but
0.806 → 0.581 held-out. Its training pieces come from the tuning collections (mostly folk tunes
and chorales), and Renaissance polyphony and romantic excerpts do not look like them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.theory import parse_key, pc_name

DEFAULT_PROFILES = ("temperley", "albrecht_shanahan")
# Most tonal music ends on its tonic in the bass (the "finalis"): keys whose tonic is the final bass
# note get this much added to their correlation. It settles the dominant/relative confusions that
# pitch-class counts alone leave open (a tune in D minor vs F major uses the same notes).
# bench/caption.py audio key exact, tuning / held-out, final bass read by final_bass_from_audio,
# scored on the truth before the bench's named-mode fix: bonus 0 → 0.825 / 0.742, 0.03 → 0.860 /
# 0.710, 0.06–0.09 → 0.877 / 0.710, 0.12 → 0.860 / 0.677. On whole pieces it gains (tuning 41 → 45
# of 48 right); on excerpts the bench cut mid-phrase it costs one piece a set. 0.08 also keeps
# Tunesmith's synthpop song in E minor (A minor leads E minor by 0.06 on chroma alone).
FINAL_BASS_BONUS = 0.08
# Music also opens on its tonic more often than on any other note (or on the dominant, in an
# upbeat): the lowest note of the first onset adds this much. Symbolic only: the opening is there in
# every excerpt, so unlike the final it cannot be cut off. Bench symbolic exact, tuning / held-out
# (truth with the named-mode fix): 0 → 0.877 / 0.742, 0.03 → 0.895 / 0.774, 0.04–0.05 → 0.895 /
# 0.806, 0.06–0.07 → 0.895 / 0.839, 0.1 → 0.877 / 0.806. On audio it did not help on top of the
# final bass (0.860 / 0.806 → 0.825 / 0.742 at 0.06; the opening bass was read right on 53/57 and
# 21/31 pieces).
OPENING_BASS_BONUS = 0.06
# A piece whose last sonority is a full triad (or seventh chord) in root position ends on a final
# cadence, and that chord's root is the tonic (or, in modal music, the final that names the mode):
# keys on that tonic get this much more, on top of FINAL_BASS_BONUS. A bare final note or an open
# fifth says less, and gets only the final bass bonus. Symbolic only. Exact, whole files, training
# (bench/training_set.py, 248) / tuning (57) / held-out (31): 0 → 222 / 54 / 29, 0.04 → 224 / 54 /
# 29, 0.08 → 227 / 55 / 29, 0.12–0.2 → 227 / 55 / 30, 0.3 → 227 / 54 / 30; chosen on training and
# tuning alone, which are flat from 0.08 to 0.2 (0.12, the middle). No piece of any set turns wrong;
# two Bach chorales ending on a Picardy or plain tonic chord (BWV 272, 300) turn right, and five
# Renaissance pieces whose truth is the final's mode.
FINAL_CHORD_BONUS = 0.12
# A key signature written in the file is evidence too (data, not an answer): the two keys it
# spells (major and relative minor) get this much added. It is a bonus, not a filter, because old
# scores write minor keys with a Dorian signature and modal tunes borrow a neighbour's signature.
SIGNATURE_BONUS = 0.2
# The final bass read from audio (see final_bass_from_audio): the last quarter second of sound,
# notes at peaks of at least a tenth of the loudest, the lowest whose harmonic sum reaches 0.4 of
# the strongest note's.
FINAL_SECONDS = 0.25
FINAL_PEAK_FLOOR = 0.1
FINAL_SALIENCE = 0.4


class _NoteLike(Protocol):
    pitch: int
    start: float
    duration: float


@dataclass(frozen=True)
class KeyEstimate:
    """A key ("A minor", canonical spelling) and a confidence in 0..1.

    ``confidence`` is the margin of the best key's score over the runner-up that is not the same
    key, mapped to 0..1; ``candidates`` lists the top keys with their scores. Unpacks as
    ``key, confidence`` so callers can write ``key, conf = estimate_key_from_audio(y, sr)``.
    """

    key: str
    confidence: float
    score: float = 0.0
    candidates: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator:
        return iter((self.key, self.confidence))

    def __str__(self) -> str:
        return self.key


@lru_cache(maxsize=1)
def load_profiles() -> dict[str, dict[str, np.ndarray]]:
    """The key profiles shipped in profiles.json, as arrays."""
    raw = json.loads((Path(__file__).with_name("profiles.json")).read_text())
    return {name: {mode: np.asarray(v, dtype=float) for mode, v in modes.items()}
            for name, modes in raw.items() if not name.startswith("_")}


def key_scores(pc_weights: np.ndarray, profiles: Iterable[str] = DEFAULT_PROFILES) -> dict[str, float]:
    """Mean Pearson correlation of a 12-bin pitch-class profile with every key's template."""
    weights = np.asarray(pc_weights, dtype=float)
    if weights.shape != (12,) or not np.all(np.isfinite(weights)) or weights.sum() <= 0 or np.ptp(weights) == 0:
        raise TunesmithError("There is no pitch content to find a key in")
    table = load_profiles()
    names = list(profiles)
    for name in names:
        if name not in table:
            raise TunesmithError(f"Unknown key profile {name!r}; known: {', '.join(sorted(table))}")
    scores: dict[str, float] = {}
    for tonic in range(12):
        for mode in ("major", "minor"):
            r = [np.corrcoef(weights, np.roll(table[name][mode], tonic))[0, 1] for name in names]
            scores[str(parse_key(f"{pc_name(tonic)} {mode}"))] = float(np.mean(r))
    return scores


def key_from_profile(pc_weights: np.ndarray, profiles: Iterable[str] = DEFAULT_PROFILES, *,
                     final_bass_pc: int | None = None, opening_bass_pc: int | None = None,
                     final_chord_root_pc: int | None = None, signature: int | None = None) -> KeyEstimate:
    """The best key for a pitch-class profile, with a margin-based confidence.

    Args:
        final_bass_pc: the pitch class of the last bass note, when known (see FINAL_BASS_BONUS).
        opening_bass_pc: the pitch class of the first bass note, when known (see OPENING_BASS_BONUS).
        final_chord_root_pc: the root of a root-position final chord, when there is one (see
            FINAL_CHORD_BONUS).
        signature: the notated key signature in sharps (negative: flats), when the file has one
            (see SIGNATURE_BONUS).
    """
    scores = key_scores(pc_weights, profiles)
    for name in scores:
        key = parse_key(name)
        if final_bass_pc is not None and key.tonic == final_bass_pc % 12:
            scores[name] += FINAL_BASS_BONUS
        if opening_bass_pc is not None and key.tonic == opening_bass_pc % 12:
            scores[name] += OPENING_BASS_BONUS
        if final_chord_root_pc is not None and key.tonic == final_chord_root_pc % 12:
            scores[name] += FINAL_CHORD_BONUS
        if signature is not None and (key.sharps - signature) % 12 == 0:
            scores[name] += SIGNATURE_BONUS
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    # a margin of 0.15 correlation between first and second is already a clear decision
    confidence = float(np.clip((top - second) / 0.15, 0.0, 1.0) * np.clip(top, 0.0, 1.0))
    return KeyEstimate(key=best, confidence=round(confidence, 3), score=round(top, 4),
                       candidates=tuple((k, round(s, 4)) for k, s in ranked[:5]))


def pitch_class_histogram(notes: Iterable[_NoteLike]) -> np.ndarray:
    """Duration-weighted pitch classes (drum notes must be filtered out by the caller)."""
    hist = np.zeros(12)
    for note in notes:
        hist[int(note.pitch) % 12] += max(float(note.duration), 0.0)
    return hist


def final_bass_pitch_class(notes: list[_NoteLike]) -> int | None:
    """Pitch class of the lowest note sounding at the last onset (None when notes lack times).

    Only notes that still sound when the last one starts: counting every note that ended in the
    last beat (the earlier rule) made a melody's second-to-last note its "final bass" (a tune
    ending D-E-F#-G read E).
    """
    closing = _closing_notes(notes)
    return int(min(closing, key=lambda n: n.pitch).pitch) % 12 if closing else None


def _closing_notes(notes: list[_NoteLike]) -> list[_NoteLike]:
    """Notes still sounding when the last one starts."""
    timed = [n for n in notes if getattr(n, "start", None) is not None]
    if not timed:
        return []
    last_onset = max(float(n.start) for n in timed)
    return [n for n in timed if float(n.start) <= last_onset + 1e-6 < float(n.start) + float(n.duration) + 1e-6]


# intervals above the bass a root-position triad or seventh chord may hold (root, thirds, fifth, sevenths)
ROOT_POSITION_INTERVALS = frozenset({0, 3, 4, 7, 10, 11})


def final_chord_root(notes: list[_NoteLike]) -> int | None:
    """The bass pitch class when the last sonority is a root-position chord on it (a third and a
    fifth above the bass, nothing but sevenths besides), else None."""
    closing = _closing_notes(notes)
    if not closing:
        return None
    bass = int(min(n.pitch for n in closing)) % 12
    above = {(int(n.pitch) - bass) % 12 for n in closing}
    if 7 in above and (3 in above or 4 in above) and above <= ROOT_POSITION_INTERVALS:
        return bass
    return None


def opening_bass_pitch_class(notes: list[_NoteLike]) -> int | None:
    """Pitch class of the lowest note that starts at the first onset (None when notes lack times)."""
    timed = [n for n in notes if getattr(n, "start", None) is not None]
    if not timed:
        return None
    first = min(float(n.start) for n in timed)
    return int(min((n for n in timed if float(n.start) <= first + 1e-6), key=lambda n: n.pitch).pitch) % 12


def ranked_estimate(probabilities: np.ndarray) -> KeyEstimate:
    """A KeyEstimate from the key ranker's softmax over key_ranker.CANDIDATES (confidence: the top probability)."""
    from tools.music.analysis.key_ranker import CANDIDATES

    order = np.argsort(-probabilities)
    name = lambda i: str(parse_key(f"{pc_name(CANDIDATES[i][0])} {CANDIDATES[i][1]}"))  # noqa: E731
    top = float(probabilities[order[0]])
    return KeyEstimate(key=name(order[0]), confidence=round(top, 3), score=round(top, 4),
                       candidates=tuple((name(i), round(float(probabilities[i]), 4)) for i in order[:5]))


def estimate_key_from_notes(notes: Iterable[_NoteLike], *, method: str = "profile",
                            profiles: Iterable[str] = DEFAULT_PROFILES, use_opening: bool = True,
                            use_final: bool = True, signature: int | None = None) -> KeyEstimate:
    """Key of a set of pitched notes (anything with ``pitch``, ``start`` and ``duration``).

    ``method="profile"`` (the default) is the profile correlation with hand-set bonuses, where
    ``profiles``, ``use_opening`` (see OPENING_BASS_BONUS) and ``use_final`` apply.
    ``method="ranker"`` scores the 24 keys with the learned ranker of key_ranker.py instead (not
    the default: see the module docstring); with ``signature`` it uses the ranker fitted with the
    key signature as one more feature. ``use_final`` (FINAL_BASS_BONUS on the last bass note,
    FINAL_CHORD_BONUS on a root-position last chord) is on because a file is a whole piece that
    ends on its cadence. bench/caption.py, exact, tuning / held-out, and bench/training_set.py's
    248 pieces: whole files 0.930 / 0.806 / 0.867 without either, 0.947 / 0.903 / 0.879 with the
    final bass (then 0.947 / 0.935 / 0.895 once the opening bonus and the modal truth came), 0.965 /
    0.968 / 0.915 with the final chord too. Cut mid-phrase the final bass misleads (the audio's 90 s
    excerpts: 0.895 / 0.839 / 0.831 → 0.877 / 0.774 / 0.827), so pass ``use_final=False`` for an excerpt.

    Raises:
        TunesmithError: no notes, or an unknown method.
    """
    notes = list(notes)
    hist = pitch_class_histogram(notes)
    if hist.sum() <= 0:
        raise TunesmithError("There are no pitched notes to find a key in")
    if method == "ranker":
        from tools.music.analysis.key_ranker import candidate_features, evidence_from_notes, load_ranker

        ranker = load_ranker("notes" if signature is None else "notes_signature")
        evidence = evidence_from_notes([n for n in notes if float(n.duration) > 0], signature=signature)
        return ranked_estimate(ranker.probabilities(candidate_features(evidence, with_signature=ranker.with_signature)))
    if method != "profile":
        raise TunesmithError(f"Unknown key method {method!r}; use 'ranker' or 'profile'")
    final = final_bass_pitch_class(notes) if use_final else None
    chord_root = final_chord_root(notes) if use_final else None
    opening = opening_bass_pitch_class(notes) if use_opening else None
    return key_from_profile(hist, profiles, final_bass_pc=final, opening_bass_pc=opening,
                            final_chord_root_pc=chord_root, signature=signature)


def chroma_profile(y: np.ndarray, sr: int) -> np.ndarray:
    """Summed CQT chroma of checked mono audio at ``sr`` (frames weighted by their energy)."""
    import librosa

    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=2048, tuning=0.0, norm=None)
    return chroma.sum(axis=1)


def final_bass_from_audio(y: np.ndarray, sr: int, *, seconds: float = FINAL_SECONDS) -> int | None:
    """Pitch class of the lowest real note in the last ``seconds`` of sounding audio.

    Why this shape: the earlier rule took the lowest strong CQT bin in C1–B3 over the last 2 s.
    Checked against the notes of the bench's renders it was right on 22/57 tuning and 13/31
    held-out pieces: a melody with no bass has only leakage below B3 (it read C, the lowest bin, on
    most folk tunes), and 2 s reach back into the chord before the last. Here a note is a peak of
    the whole C1–B7 spectrum (three bins a semitone, so the leak a semitone below a note is no
    peak) that carries FINAL_SALIENCE of the strongest note's harmonic sum (so an overtone of the
    bass, whose own harmonics are weak, is no note): 55/57 and 21/31. The CQT runs over 4 s that
    end at the last sounding frame because its lowest filters are 1.6 s long.
    """
    import librosa

    rms = librosa.feature.rms(y=y, hop_length=512)[0]
    if rms.size == 0 or rms.max() <= 0:
        return None
    loud = np.nonzero(rms > 0.05 * rms.max())[0]
    end = int((loud[-1] + 1) * 512)
    segment = y[max(0, end - 4 * sr):end]
    if len(segment) < sr // 4:
        return None
    # a short clip is padded in front with silence, so the lowest octaves' filters always fit
    segment = np.concatenate((np.zeros(4 * sr - len(segment), dtype=segment.dtype), segment))
    bins_per_semitone = 3
    cqt = np.abs(librosa.cqt(segment, sr=sr, hop_length=512, fmin=librosa.note_to_hz("C1"),
                             n_bins=84 * bins_per_semitone, bins_per_octave=12 * bins_per_semitone, tuning=0.0))
    spectrum = cqt[:, -max(1, int(round(seconds * sr / 512))):].sum(axis=1)
    if spectrum.max() <= 0:
        return None
    # peaks anywhere in a semitone's three bins count for it: a recording tuned up to half a
    # semitone off A440 still peaks inside its own note's bins
    padded = np.concatenate(([0.0], spectrum, [0.0]))
    peak = (padded[1:-1] > padded[:-2]) & (padded[1:-1] >= padded[2:]) & (spectrum >= FINAL_PEAK_FLOOR * spectrum.max())
    level = np.zeros(84)
    for b in np.nonzero(peak)[0]:
        semitone = int(round(b / bins_per_semitone))
        if semitone < 84:
            level[semitone] = max(level[semitone], spectrum[b])
    notes = np.nonzero(level)[0]
    if not notes.size:
        return None
    # harmonic sum: partials 1–4 (0, 12, 19, 24 semitones up) weighted 0.8^(h-1), each read as the
    # strongest of its semitone's bins whether or not it peaks there
    band = np.zeros(84 + 25)
    band[:84] = np.maximum.reduce([padded[0:-2:3], padded[1:-1:3], padded[2::3]])[:84]
    salience = {int(k): sum(0.8 ** h * band[k + step] for h, step in enumerate((0, 12, 19, 24))) for k in notes}
    top = max(salience.values())
    lowest = min(k for k, v in salience.items() if v >= FINAL_SALIENCE * top)
    return (lowest + 24) % 12  # bin 0 is C1 (MIDI 24)


def estimate_key_from_audio(y: np.ndarray, sr: int, *, method: str = "profile",
                            profiles: Iterable[str] = DEFAULT_PROFILES, use_final: bool = True) -> KeyEstimate:
    """Key of an audio signal (mono or frames × channels, any rate) from its CQT chroma.

    ``method="profile"`` (the default) is the profile correlation plus FINAL_BASS_BONUS
    (``profiles`` and ``use_final`` apply there only); ``method="ranker"`` scores the 24 keys with
    the learned audio ranker of key_ranker.py (chroma overall, in the bass register, over the first
    and last seconds, the final and opening bass), not the default: see the module docstring.

    Raises:
        TunesmithError: silent, too short or malformed audio, or an unknown method.
    """
    from tools.music.analysis.signal import ANALYSIS_RATE, to_mono

    mono = to_mono(y, sr)
    if method == "ranker":
        from tools.music.analysis.key_ranker import audio_candidate_features, evidence_from_audio, load_ranker

        evidence = evidence_from_audio(mono, ANALYSIS_RATE)
        if not np.any(evidence.hists["chroma"]):
            raise TunesmithError("There is no pitch content to find a key in")
        return ranked_estimate(load_ranker("audio").probabilities(audio_candidate_features(evidence)))
    if method != "profile":
        raise TunesmithError(f"Unknown key method {method!r}; use 'ranker' or 'profile'")
    final = final_bass_from_audio(mono, ANALYSIS_RATE) if use_final else None
    return key_from_profile(chroma_profile(mono, ANALYSIS_RATE), profiles, final_bass_pc=final)
