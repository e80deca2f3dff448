"""Measured music analysis shared by caption_music, the song engine's closed-loop check, style
transfer and retrieval: key, tempo and loudness from audio; key from notes.

Import the estimators from here: ``from tools.music.analysis import estimate_key_from_audio``.
Heavy libraries (librosa, pyloudnorm, onnxruntime) load inside the functions that use them.
"""

from tools.music.analysis.key import KeyEstimate, estimate_key_from_audio, estimate_key_from_notes
from tools.music.analysis.loudness import (Loudness, dynamic_range, integrated_lufs, loudness_range,
                                           measure_loudness, true_peak_dbfs)
from tools.music.analysis.tempo import TempoEstimate, estimate_tempo
from tools.music.analysis.vocals import VocalEstimate, detect_vocals

__all__ = ["KeyEstimate", "estimate_key_from_audio", "estimate_key_from_notes", "TempoEstimate", "estimate_tempo",
           "Loudness", "integrated_lufs", "true_peak_dbfs", "loudness_range", "dynamic_range", "measure_loudness",
           "VocalEstimate", "detect_vocals"]
