"""Instrument-family and drum-kit benchmark of tools/music/analysis/timbre.py: per-family precision/recall.

    .venv/bin/python bench/instruments.py [--cache DIR]

Scores the shipped timbre.json on clips made by tools/music/analysis/fit_timbre.py (Tunesmith
arrangements, original and re-orchestrated, full band to solo; see its docstring). The model was
fitted on the TUNING styles and seeds rendered with FluidR3_GM and TimGM6mb. Columns:
  * held-out / FluidR3 and held-out / TimGM6mb: other styles and seeds, SoundFonts the fit heard;
  * held-out / MuseScore: the same held-out pieces through a SoundFont the fit never heard
    (Debian's musescore-general-soundfont-small, /usr/share/sounds/sf3/MuseScore_General.sf3: a
    bench-only dependency, skipped with a message if absent).
A family is present in a clip when its stems reach −15 dB of the mix in at least 20 % of the
windows; it is found when timbre.summarise reports it. Precision and recall are over clips, per
family; "n" is the number of clips where it is present.

Also prints CPU seconds of estimate_instruments per minute of audio and the load average (the
machine is shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

MUSESCORE = Path("/usr/share/sounds/sf3/MuseScore_General.sf3")


def clip_scores(clips, model) -> tuple[np.ndarray, np.ndarray]:
    """(truth, found) as (clips, outputs) booleans."""
    from tools.music.analysis.fit_timbre import MIN_SHARE, found_outputs

    truth = np.array([c.labels.mean(axis=0) >= MIN_SHARE for c in clips])
    return truth, np.array([found_outputs(c.features, model) for c in clips])


def precision_recall(truth: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output: precision, recall (NaN where undefined) and the number of clips where present."""
    tp = (truth & found).sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tp / found.sum(axis=0), tp / truth.sum(axis=0), truth.sum(axis=0)


def _fmt(value: float) -> str:
    return "  -  " if np.isnan(value) else f"{value:5.2f}"


def timing(seconds: float = 60.0) -> float:
    """CPU seconds of estimate_instruments on one minute of a rendered held-out song."""
    from tools.music.analysis.timbre import estimate_instruments
    from tools.music.synth import render_song_audio
    from tools.song import SongArgs, compose_song, make_blueprint

    song = compose_song(make_blueprint(SongArgs(prompt="a song about rain", genre="blues", seed=3, vocals="none",
                                                duration_s=int(seconds))), seed=3)
    audio = render_song_audio(song, sample_rate=22050)[: int(seconds * 22050)]
    estimate_instruments(audio, 22050)  # warm caches (librosa import, mel filters)
    started = time.process_time()
    estimate_instruments(audio, 22050)
    return (time.process_time() - started) * 60.0 / (len(audio) / 22050)


def main() -> None:
    from tools.config import prepare_environment

    prepare_environment()
    from tools.music.analysis import fit_timbre
    from tools.music.analysis.timbre import load_model
    from tools.music.resources import packaged_timgm_soundfont

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=fit_timbre.DEFAULT_CACHE)
    args = parser.parse_args()
    model = load_model()
    sets = [("held-out/FluidR3", "heldout", None), ("held-out/TimGM6mb", "heldout", packaged_timgm_soundfont())]
    if MUSESCORE.is_file():
        sets.append(("held-out/MuseScore", "heldout", MUSESCORE))
    else:
        print(f"{MUSESCORE} not found (apt-get install musescore-general-soundfont-small): unseen-SoundFont scores skipped")
    results = []
    for label, name, soundfont in sets:
        clips = fit_timbre.render_set(name, soundfont, args.cache)
        results.append((label, len(clips), *precision_recall(*clip_scores(clips, model))))
    header = f"{'family':22s}" + "".join(f" | {label:>19s}" for label, *_ in results)
    print(header)
    print(f"{'':22s}" + "".join(f" | {'P':>5s} {'R':>5s} {'n':>7s}" for _ in results))
    print("-" * len(header))
    for j, output in enumerate(model["outputs"]):
        print(f"{output:22s}" + "".join(f" | {_fmt(p[j])} {_fmt(r[j])} {int(n[j]):7d}" for _, _, p, r, n in results))
    for label, count, p, r, n in results:
        weights = n / max(n.sum(), 1)
        print(f"{label}: {count} clips; support-weighted P {np.nansum(p * weights):.3f} R {np.nansum(r * weights):.3f}; "
              f"macro P {np.nanmean(p):.3f} R {np.nanmean(r):.3f}")
    cpu = timing()
    print(f"estimate_instruments: {cpu:.2f} CPU-s per minute of audio (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
