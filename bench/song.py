"""Benchmark text_to_song end to end: seconds, realtime factor and peak RSS per song length.

    .venv/bin/python bench/song.py            # 30/90/180 s, with and without vocals, 2 repeats
    .venv/bin/python bench/song.py --repeats 3 --durations 180

Each configuration runs in a fresh process (so peak RSS is that song's), which first warms up
(SoundFont, espeak-ng and librosa's JIT load once per process, as in the server; the render
helper process starts then too) and then makes the song; the table shows min and median of the
repeats, the CPU seconds the song took (this process and its helper processes: on a shared
machine wall time is noisy, CPU time much less), that CPU split as main/helper (render_song keeps
each side's share near half: on two idle cores the wall time is at least the larger; each run's
manifest also has this process's CPU per stage, ``timings_cpu_s``), the peak RSS of this
process and of all its processes together, the load average at the start and the CPU steal seen
meanwhile. Writes example manifests and a spectrogram PNG under bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VERSE = ["Driving home after the night shift", "orange lights are flickering by",
         "the radio is playing softly", "and I am too tired to cry",
         "Empty roads and empty pockets", "coffee cold upon the seat",
         "every mile a little closer", "to the quiet of my street",
         "Morning finds me at the corner", "where the bakery lights are on",
         "and the world begins its business", "while my working day is gone"]
CHORUS = ["Take me home, take me home tonight", "where the kitchen light is on",
          "take me home, take me home tonight", "I have been away too long"]
BRIDGE = ["Maybe morning brings me something", "maybe sleep will set me free",
          "every shift a little longer", "every night a part of me"]


def lyrics_for(duration: float) -> str:
    """Lyrics whose form fits the duration at folk tempo (so the song is as long as asked)."""
    if duration <= 45:
        parts = [("verse", VERSE[:2]), ("chorus", CHORUS[:2])]
    elif duration <= 120:
        parts = [("verse", VERSE[:4]), ("chorus", CHORUS), ("verse", VERSE[4:8]), ("chorus", CHORUS)]
    else:
        parts = [("verse", VERSE[:4]), ("chorus", CHORUS), ("verse", VERSE[4:8]), ("chorus", CHORUS),
                 ("bridge", BRIDGE), ("verse", VERSE[8:]), ("chorus", CHORUS), ("chorus", CHORUS)]
    return "\n".join(f"[{kind}]\n" + "\n".join(lines) for kind, lines in parts)


LYRICS = lyrics_for(180)


def steal_ticks() -> tuple[int, int]:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    return values[7] if len(values) > 7 else 0, sum(values)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child] + _descendants(child)
    return found


def cpu_seconds() -> tuple[float, float]:
    """CPU time of (this process and its reaped children, its live descendants: the helper)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    helpers = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        helpers += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return mine, helpers


def peak_rss_mb() -> tuple[float, float]:
    """(this process, this process + live descendants) peak resident set, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = own
    for pid in _descendants(os.getpid()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return own, total


def one(duration: float, vocals: str, seed: int, out: Path) -> None:
    """Run one song in this process and print a JSON line."""
    sys.path.insert(0, str(ROOT))
    from tools.config import prepare_environment

    prepare_environment()
    from tools.registry import ToolContext
    from tools.song import TOOLS

    tool = TOOLS[0]
    started = time.perf_counter()
    tool.invoke({"genre": "pop", "duration_s": 12, "vocals": "female", "seed": 99,
                 "lyrics": "[verse]\nwarming up the voice\n[chorus]\nla la la"}, ToolContext(workdir=out / "warmup"))
    warmup = time.perf_counter() - started
    args = {"prompt": "a melancholy indie-folk song about driving home after a night shift", "genre": "folk",
            "duration_s": duration, "seed": seed, "vocals": vocals}
    if vocals != "none":
        args["lyrics"] = lyrics_for(duration)
    steal0, total0 = steal_ticks()
    load = os.getloadavg()[0]
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    result = tool.invoke(args, ToolContext(workdir=out / "song"))
    seconds = time.perf_counter() - started
    cpu1 = cpu_seconds()
    main_cpu, helper_cpu = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    steal1, total1 = steal_ticks()
    manifest = result.data["manifest"]
    rss, rss_all = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "cpu_s": main_cpu + helper_cpu, "cpu_main_s": main_cpu,
                      "cpu_helper_s": helper_cpu, "load": load, "warmup": warmup,
                      "audio_s": manifest["duration_s"], "rss_mb": rss, "rss_all_mb": rss_all,
                      "steal": (steal1 - steal0) / max(total1 - total0, 1), "timings": manifest["timings_s"],
                      "timings_cpu_main": manifest.get("timings_cpu_s"),
                      "warnings": manifest["warnings"]}))


def spectrogram(wav: Path, png: Path) -> None:
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import soundfile

    y, sr = soundfile.read(wav, dtype="float32")
    mel = librosa.feature.melspectrogram(y=y.mean(axis=1), sr=sr, n_mels=128, hop_length=1024)
    fig, ax = plt.subplots(figsize=(14, 4))
    ax.imshow(librosa.power_to_db(mel, ref=np.max), origin="lower", aspect="auto",
              extent=[0, y.shape[0] / sr, 0, 128], cmap="magma")
    ax.set_xlabel("seconds")
    ax.set_ylabel("mel band")
    ax.set_title(wav.parent.name)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def examples() -> None:
    """Two example songs: their manifests and a spectrogram of the first."""
    sys.path.insert(0, str(ROOT))
    from tools.config import prepare_environment

    prepare_environment()
    from tools.registry import ToolContext
    from tools.song import TOOLS

    tool = TOOLS[0]
    cases = {"folk_night_shift": {"prompt": "a melancholy indie-folk song about driving home after a night shift",
                                  "lyrics": lyrics_for(90), "seed": 7},
             "synthpop_male": {"genre": "synthpop", "lyrics": lyrics_for(180), "vocals": "male", "seed": 11}}
    for name, args in cases.items():
        workdir = OUT / name
        result = tool.invoke(args, ToolContext(workdir=workdir))
        (OUT / f"manifest_{name}.json").write_text(json.dumps(result.data["manifest"], indent=2, default=str))
    spectrogram(OUT / "folk_night_shift" / "song.wav", OUT / "spectrogram_folk_night_shift.png")
    print(f"wrote {OUT}/manifest_*.json and {OUT}/spectrogram_folk_night_shift.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=float, nargs="+", default=[30, 90, 180])
    parser.add_argument("--vocals", nargs="+", default=["female", "none"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-examples", action="store_true")
    parser.add_argument("--one", nargs=4, metavar=("DURATION", "VOCALS", "SEED", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(float(args.one[0]), args.one[1], int(args.one[2]), Path(args.one[3]))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    rows = []
    print(f"{'song':>6} {'vocals':>7} {'runs':>4} {'min s':>7} {'median s':>8} {'x realtime':>10} {'CPU s':>6} "
          f"{'main/helper':>11} {'RSS MB':>6} {'+helper':>7} {'load':>5} {'steal':>6}")
    for duration in args.durations:
        for vocals in args.vocals:
            runs = []
            for repeat in range(args.repeats):
                out = OUT / f"bench_{int(duration)}_{vocals}_{repeat}"
                done = subprocess.run([sys.executable, __file__, "--one", str(duration), vocals, str(repeat), str(out)],
                                      capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    raise SystemExit(f"run failed: {duration} s {vocals}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            seconds = [r["seconds"] for r in runs]
            best, median = min(seconds), statistics.median(seconds)
            audio = runs[0]["audio_s"]
            rss = max(r["rss_mb"] for r in runs)
            rss_all = max(r["rss_all_mb"] for r in runs)
            cpu = statistics.median(r["cpu_s"] for r in runs)
            split = f"{statistics.median(r['cpu_main_s'] for r in runs):.1f}/{statistics.median(r['cpu_helper_s'] for r in runs):.1f}"
            load = max(r["load"] for r in runs)
            steal = max(r["steal"] for r in runs)
            rows.append({"duration": duration, "vocals": vocals, "runs": runs})
            print(f"{audio:6.0f} {vocals:>7} {len(runs):4d} {best:7.2f} {median:8.2f} {audio / best:10.1f} {cpu:6.1f} "
                  f"{split:>11} {rss:6.0f} {rss_all:7.0f} {load:5.1f} {steal:6.1%}", flush=True)
    (OUT / "bench_song.json").write_text(json.dumps(rows, indent=2))
    if not args.no_examples:
        examples()


if __name__ == "__main__":
    main()
