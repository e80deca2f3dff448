"""Full render vs one-section edit render (section cache), and how identical the rest stays.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/edit.py [--repeats 3]``

For each song (composed with lyrics, sung by the female voice): a cold full render (every section
rendered, no cache), then "make the chorus bigger" (energy up in one chorus) rendered through the
cache, with the parent's master gain (as edit_song does). Both timed renders start like a new
process: the singer's word and phrase caches emptied, the edit reading untouched segments from
the disk cache. Prints min and median wall time of the
repeats, the median process CPU time (this process and its children: steadier than wall time on
a shared machine), the speed-up (wall and CPU), whether audio outside the edited section (and its
ring-out) is sample-exact, the lowest correlation of any untouched section including the
crossfade, the master loudness, and the CPU steal and load average seen meanwhile. "rerender Δ" is the largest sample difference between two uncached renders of the same
song: the SoundFont renderer is not bit-repeatable across calls, which is why unchanged sections
must come from the cache to stay sample-exact.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TUNESMITH_HOME", tempfile.mkdtemp(prefix="tunesmith-bench-edit-"))

import numpy as np  # noqa: E402

VERSE = ["the road is long tonight", "the lights are burning low", "i drive until the morning", "the radio is slow"]
CHORUS = ["sing it out loud", "sing it all night long", "we are not alone", "we are going home"]


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (FluidSynth and WORLD run in-process)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _forget_singing() -> None:
    """Empty the singer's in-process word and phrase caches: both renders start as a new process would."""
    from tools.music.voice.singer import singer

    performer = singer()
    with performer.lock:
        performer.word_cache.clear()
        performer.phrase_cache.clear()


def _steal() -> int:
    fields = open("/proc/stat").readline().split()
    return int(fields[8]) if len(fields) > 8 else 0


def lyrics(verses: int) -> str:
    blocks = []
    for _ in range(verses):
        blocks += ["[verse]", *VERSE, "[chorus]", *CHORUS]
    return "\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    from tools.config import prepare_environment

    prepare_environment()
    from tools.music.mix import integrated_loudness
    from tools.restyle.edit import EditFields, apply_fields
    from tools.restyle import render as render_module
    from tools.restyle.render import RING_S, render_sections
    from tools.restyle.sections import resolve
    from tools.song import compose_song, make_blueprint

    rows = []
    load0 = os.getloadavg()
    for verses in (1, 2, 3):
        song = compose_song(make_blueprint({"lyrics": lyrics(verses), "genre": "pop", "seed": 5, "tempo_bpm": 110}), seed=5)
        target = resolve(song, "chorus 1" if verses > 1 else "chorus")
        edited, _ = apply_fields(song, target, EditFields(energy=1))
        full_times, edit_times, full_cpu, edit_cpu, steal0 = [], [], [], [], _steal()
        for _ in range(options.repeats):
            _forget_singing()
            t, c = time.perf_counter(), _cpu()
            full = render_sections(song, vocals="female", use_cache=False)
            full_times.append(time.perf_counter() - t)
            full_cpu.append(_cpu() - c)
            # the parent's version as the user has it: rendered through the cache (the edit reuses it)
            parent = render_sections(song, vocals="female")
            render_module.clear_memory_cache()  # as a fresh `tunesmith edit` process: segments from disk,
            _forget_singing()  # words and phrases sung anew
            t, c = time.perf_counter(), _cpu()
            edit = render_sections(edited, vocals="female", gain_db=parent.gain_db)
            edit_times.append(time.perf_counter() - t)
            edit_cpu.append(_cpu() - c)
            render_module.clear_memory_cache()
            import shutil

            shutil.rmtree(Path(os.environ["TUNESMITH_HOME"]) / "cache", ignore_errors=True)
        steal = (_steal() - steal0) / max(os.sysconf("SC_CLK_TCK"), 1)
        name = target.names[0]
        start = full.segment_starts[name]
        section = edited.find_section(name)
        end = int(round(song.beats_to_seconds(section.end_bar * song.beats_per_bar) * 44100))
        ring = int(RING_S * 44100)
        repeat_diff = float(np.abs(full.audio - parent.audio).max())  # two uncached renders of one song
        full = parent
        exact = (np.array_equal(full.audio[:start], edit.audio[:start])
                 and np.array_equal(full.audio[end + ring:], edit.audio[end + ring:]))
        correlations = []
        for other in song.sections:
            if other.name == name:
                continue
            a = full.segment_starts[other.name]
            b = int(round(song.beats_to_seconds(other.end_bar * song.beats_per_bar) * 44100))
            x, y = full.audio[a:b].ravel(), edit.audio[a:b].ravel()
            correlations.append(float(np.corrcoef(x, y)[0, 1]))
        rows.append((f"{song.duration_seconds:.0f} s, {len(song.sections)} sections", min(full_times),
                     statistics.median(full_times), min(edit_times), statistics.median(edit_times),
                     statistics.median(full_times) / statistics.median(edit_times), exact, min(correlations), steal,
                     edit.rendered, repeat_diff, statistics.median(full_cpu), statistics.median(edit_cpu),
                     parent.lufs, integrated_loudness(edit.audio, 44100)))
    print(f"load average before: {load0}, after: {os.getloadavg()}")
    print(f"{'song':<24}{'full min':>9}{'full med':>9}{'full cpu':>9}{'edit min':>9}{'edit med':>9}{'edit cpu':>9}"
          f"{'x wall':>7}{'x cpu':>7}{'exact':>7}{'min corr':>10}{'LUFS':>7}{'edit':>7}{'steal s':>8}{'rerender Δ':>11}"
          f"  re-rendered")
    for r in rows:
        print(f"{r[0]:<24}{r[1]:>9.2f}{r[2]:>9.2f}{r[11]:>9.2f}{r[3]:>9.2f}{r[4]:>9.2f}{r[12]:>9.2f}{r[5]:>6.1f}x"
              f"{r[11] / r[12]:>6.1f}x{str(r[6]):>7}{r[7]:>10.5f}{r[13]:>7.1f}{r[14]:>7.1f}{r[8]:>8.1f}{r[10]:>11.4f}"
              f"  {', '.join(r[9])}")


if __name__ == "__main__":
    main()
