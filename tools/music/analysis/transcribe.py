"""Audio → note events with basic-pitch's ONNX model on onnxruntime (no TensorFlow).

basic-pitch's `predict` wants a file path and prints; here its windowing and note decoding run on
an array we already hold, so one decode of the audio serves every estimator. The model loads once
per process. Its first call in a fresh environment spends ~30 s in numba JIT (cached afterwards in
NUMBA_CACHE_DIR, which `prepare_environment` points at the data dir).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tools.music.errors import TunesmithError


@dataclass(frozen=True)
class NoteEvent:
    """A transcribed note: times in seconds, MIDI pitch, amplitude 0..1."""

    start_s: float
    end_s: float
    pitch: int
    amplitude: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _quiet_import() -> None:
    """Import basic_pitch (deferred: it pulls in onnxruntime and pretty_midi) without its import-time
    warnings, one per missing optional backend (CoreML, TFLite, TensorFlow), useless here."""
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        import basic_pitch  # noqa: F401
    finally:
        root.setLevel(level)


def _import_note_creation():
    """basic_pitch.note_creation, importable even where resampy cannot load.

    resampy 0.4.2 (the newest basic-pitch accepts) imports `pkg_resources`, which setuptools ≥ 81
    no longer ships. note_creation uses resampy only to sonify notes, which we never do, so a
    stand-in module that refuses to resample is registered when the real one fails to import.
    """
    import sys
    import types

    try:
        import resampy  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("resampy")

        def resample(*_args, **_kwargs):
            raise TunesmithError("resampy is unavailable: basic-pitch sonification is not supported here")

        stand_in.resample = resample
        sys.modules["resampy"] = stand_in
    _quiet_import()
    from basic_pitch import note_creation

    return note_creation


@lru_cache(maxsize=1)
def _model():
    from tools.music.resources import basic_pitch_onnx_path

    path = basic_pitch_onnx_path()
    if path is None:
        raise TunesmithError("Audio transcription needs basic-pitch's ONNX model, which is not installed",
                             hint="pip install --no-deps basic-pitch==0.4.0 onnxruntime")
    _quiet_import()
    from basic_pitch.inference import Model

    return Model(str(path))


def transcribe(y: np.ndarray, sr: int, *, onset_threshold: float = 0.5, frame_threshold: float = 0.3,
               min_note_ms: float = 100.0) -> list[NoteEvent]:
    """Note events of an audio signal (mono or frames × channels, any rate), sorted by onset.

    Raises:
        TunesmithError: malformed or silent audio, or the model is missing.
    """
    note_creation = _import_note_creation()
    from basic_pitch.constants import AUDIO_N_SAMPLES, AUDIO_SAMPLE_RATE, FFT_HOP
    from basic_pitch.inference import unwrap_output, window_audio_file

    from tools.music.analysis.signal import to_mono

    audio = to_mono(y, sr, target_sr=AUDIO_SAMPLE_RATE)
    model = _model()
    n_overlap = 30
    overlap_len = n_overlap * FFT_HOP
    hop_size = AUDIO_N_SAMPLES - overlap_len
    padded = np.concatenate([np.zeros(overlap_len // 2, dtype=np.float32), audio])
    windows = [w for w, _ in window_audio_file(padded, hop_size)]
    output: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for start in range(0, len(windows), 8):  # batches of 8 windows (~16 s of audio)
        batch = np.stack(windows[start : start + 8]).astype(np.float32)
        for name, value in model.predict(batch).items():
            output[name].append(value)
    unwrapped = {k: unwrap_output(np.concatenate(v), len(audio), n_overlap) for k, v in output.items()}
    min_len = int(np.round(min_note_ms / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP)))
    _, events = note_creation.model_output_to_notes(unwrapped, onset_thresh=onset_threshold,
                                                     frame_thresh=frame_threshold, min_note_len=min_len,
                                                     melodia_trick=True)
    notes = [NoteEvent(start_s=round(float(s), 4), end_s=round(float(e), 4), pitch=int(p), amplitude=float(a))
             for s, e, p, a, *_ in events]
    return sorted(notes, key=lambda n: (n.start_s, n.pitch))


def events_to_notes(events: list[NoteEvent], tempo_bpm: float):
    """Note events → `tools.music.song.Note`s in quarter-note beats at ``tempo_bpm``."""
    from tools.music.song import Note

    spb = 60.0 / tempo_bpm
    return [Note(pitch=e.pitch, start=round(e.start_s / spb, 4), duration=round(max(e.duration_s / spb, 0.01), 4),
                 velocity=int(min(127, max(1, 40 + 87 * e.amplitude)))) for e in events]
