"""Video analysis on short videos the tests make: cuts at known times, slow and fast motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.alignment import bar_errors, best_offset, fit_tempo
from retrieval.video import analyze_video

FPS = 25


def make_video(path: Path, *, seconds: float, cuts: list[float], speed_px: float, size=(320, 180), seed: int = 0) -> Path:
    """Textured scenes that pan at ``speed_px`` pixels per frame; a new scene (new texture and
    colour) starts at each cut time."""
    import av

    rng = np.random.default_rng(seed)
    width, height = size
    boundaries = [0.0, *cuts, seconds + 1]
    scenes = []
    for index in range(len(boundaries) - 1):
        texture = rng.integers(0, 255, size=(height // 8 + 2, width // 8 + 40, 1), dtype=np.uint8)
        texture = np.kron(texture, np.ones((8, 8, 1), dtype=np.uint8))
        tint = np.array([(200, 40, 40), (40, 60, 200), (40, 180, 60), (220, 200, 40)][index % 4])
        scenes.append((np.clip(texture * 0.6 + tint * 0.4, 0, 255).astype(np.uint8)))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("h264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * FPS)):
            t = index / FPS
            scene = sum(1 for c in cuts if t >= c - 1e-9)
            shift = int(round(speed_px * index)) % (scenes[scene].shape[1] - width)
            image = np.ascontiguousarray(scenes[scene][:height, shift:shift + width])
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "cuts": make_video(folder / "cuts.mp4", seconds=6.0, cuts=[2.0, 4.4], speed_px=1.0, seed=1),
        "slow": make_video(folder / "slow.mp4", seconds=3.0, cuts=[], speed_px=0.5, seed=2),
        "fast": make_video(folder / "fast.mp4", seconds=3.0, cuts=[], speed_px=6.0, seed=2),
    }


def test_cuts_found_within_a_tenth_of_a_second(videos):
    analysis = analyze_video(videos["cuts"])
    assert len(analysis.cuts) == 2, analysis.cuts
    for found, true in zip(analysis.cuts, [2.0, 4.4]):
        assert abs(found - true) <= 0.1
    assert abs(analysis.duration_s - 6.0) < 0.1


def test_no_cuts_in_a_continuous_pan(videos):
    assert analyze_video(videos["slow"]).cuts == []


def test_faster_motion_gives_faster_tempo(videos):
    slow, fast = analyze_video(videos["slow"]), analyze_video(videos["fast"])
    assert fast.motion_mean > 3 * slow.motion_mean
    assert fast.target["tempo_bpm"] > slow.target["tempo_bpm"] + 10
    assert fast.target["energy"] > slow.target["energy"]


def test_fit_tempo_lands_bar_lines_on_cuts():
    cuts = [2.2, 4.4, 8.8]  # commensurate with 2.2 s bars: 4/4 at 109.09 BPM
    fit = fit_tempo(cuts, beats_per_bar=4, target_bpm=100)
    assert fit.max_error_s <= 0.02
    assert abs(fit.tempo_bpm - 109.09) < 0.5
    assert bar_errors(cuts, fit.bar_seconds).max() <= 0.05
    assert 50 <= fit.tempo_bpm <= 200


def test_best_offset_aligns_an_existing_tempo():
    bar = 4 * 60 / 120  # 2 s bars
    cuts = [1.3, 3.3, 7.3]  # all 0.7 s before a bar line if the track starts 0.7 s in
    offset, error = best_offset(cuts, bar)
    assert abs(offset - 0.7) < 0.01 and error < 0.01


def test_not_a_video_is_refused(tmp_path):
    from tools.music.errors import TunesmithError

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(TunesmithError):
        analyze_video(bad)
