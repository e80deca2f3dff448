"""video_soundtrack in compose mode: text_to_song at a tempo whose bar lines land on the cuts."""

from __future__ import annotations

import importlib.util

import pytest

from test_video_analysis import make_video

pytestmark = pytest.mark.slow


@pytest.mark.skipif(importlib.util.find_spec("tools.song") is None, reason="text_to_song (tools.song) is not installed")
def test_composed_bar_lines_land_on_cuts(tmp_path):
    import av

    from tools.registry import ToolContext
    from tools.soundtrack import TOOLS

    video = make_video(tmp_path / "clip.mp4", seconds=7.0, cuts=[2.2, 4.4], speed_px=2.0, seed=5)
    result = TOOLS[0].invoke({"video": str(video), "mode": "compose", "prompt": "calm"}, ToolContext(workdir=tmp_path / "work"))
    composed = result.data["composed"]
    assert len(result.data["video"]["cuts"]) == 2
    assert composed["max_cut_error_ms"] <= 50, composed
    song = result.song if result.song is not None else None
    assert 60 <= composed["tempo_bpm"] <= 180
    with av.open(str(result.files["preview"])) as container:
        assert container.streams.audio and container.streams.video
        assert abs(container.duration / 1e6 - 7.0) < 0.5
    assert song is None or song.tempo_bpm == composed["tempo_bpm"]
