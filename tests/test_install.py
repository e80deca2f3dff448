"""The installed dependencies work together in one process, as the server uses them."""

from __future__ import annotations

import subprocess
import sys


def test_audio_analysis_then_word_frequencies_in_one_process():
    # wordfreq walks the stack through every loaded module; librosa's lazy modules then import
    # resampy, which needs pkg_resources (setuptools < 81)
    code = "import librosa.core.audio, wordfreq; print(wordfreq.zipf_frequency('river', 'en') > 3)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-800:]
    assert run.stdout.strip() == "True"
