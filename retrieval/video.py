"""Read a video for scoring: duration, scene cuts, motion energy, brightness and colour warmth.

Frames are decoded with PyAV (bundled FFmpeg) and shrunk to 160x90. Cuts come from a content
detector on the mean absolute Lab difference between consecutive frames (HSV histograms fire on slow
colour ramps, FACTS.md); motion is Farneback optical flow at that size, a few times a second, with
frames across a cut skipped so a cut does not count as motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tools.music.errors import TunesmithError

ANALYSIS_SIZE = (160, 90)
CUT_THRESHOLD = 20.0
MIN_SHOT_SECONDS = 0.4


@dataclass
class VideoAnalysis:
    duration_s: float
    fps: float
    cuts: list[float]
    motion: list[float]
    motion_times: list[float]
    brightness: float
    warmth: float
    target: dict = field(default_factory=dict)

    @property
    def motion_mean(self) -> float:
        return float(np.mean(self.motion)) if self.motion else 0.0

    def public(self) -> dict:
        return {"duration_s": round(self.duration_s, 3), "fps": round(self.fps, 3),
                "cuts": [round(c, 3) for c in self.cuts], "motion_mean": round(self.motion_mean, 4),
                "brightness": round(self.brightness, 3), "warmth": round(self.warmth, 3), "target": self.target}


def _frames(path: Path, max_seconds: float):
    """(time, small BGR frame) for every frame, up to ``max_seconds``."""
    import av
    import cv2

    try:
        container = av.open(str(path))
    except Exception as error:
        raise TunesmithError(f"{path.name!r} could not be opened as a video: {error}") from error
    with container:
        if not container.streams.video:
            raise TunesmithError(f"{path.name!r} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if frame.time > max_seconds:
                break
            image = frame.to_ndarray(format="bgr24")
            yield float(frame.time), cv2.resize(image, ANALYSIS_SIZE, interpolation=cv2.INTER_AREA)


def analyze_video(path: Path, *, max_seconds: float = 900.0, motion_fps: float = 5.0) -> VideoAnalysis:
    """Cuts (seconds), motion energy over time, mean brightness (0..1) and warmth (-1 cool .. 1 warm)."""
    import cv2

    times: list[float] = []
    diffs: list[float] = []
    motion: list[float] = []
    motion_times: list[float] = []
    brightness: list[float] = []
    warmth: list[float] = []
    previous_lab = None
    previous_gray = None
    previous_gray_time = -1e9
    last_time = 0.0
    step = 1.0 / motion_fps
    count = 0
    for time, image in _frames(path, max_seconds):
        count += 1
        lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        diff = float(np.abs(lab - previous_lab).mean()) if previous_lab is not None else 0.0
        times.append(time)
        diffs.append(diff)
        if count % 3 == 1:
            brightness.append(float(lab[..., 0].mean() / 255.0))
            warmth.append(float((lab[..., 2].mean() - 128.0) / 64.0 + (lab[..., 1].mean() - 128.0) / 128.0))
        # flow between consecutive frames (small displacements Farneback tracks well), sampled
        # ``motion_fps`` times a second; a frame pair across a cut is skipped
        if diff <= CUT_THRESHOLD and previous_gray is not None and time - previous_gray_time >= step - 1e-6:
            frame_gap = max(1e-3, time - last_time)
            flow = cv2.calcOpticalFlowFarneback(previous_gray, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            magnitude = np.sqrt((flow ** 2).sum(axis=2))
            motion.append(float(magnitude.mean() / frame_gap / ANALYSIS_SIZE[0]))
            motion_times.append(time)
            previous_gray_time = time
        previous_gray = gray
        last_time = time
        previous_lab = lab
    if count < 2:
        raise TunesmithError(f"{path.name!r} has fewer than two frames")
    fps = (count - 1) / max(1e-6, times[-1] - times[0])
    duration = times[-1] + 1.0 / fps
    cuts: list[float] = []
    for index in range(1, len(diffs)):
        if diffs[index] > CUT_THRESHOLD and (not cuts or times[index] - cuts[-1] >= MIN_SHOT_SECONDS):
            cuts.append(times[index])
    analysis = VideoAnalysis(duration_s=duration, fps=fps, cuts=cuts, motion=motion, motion_times=motion_times,
                             brightness=float(np.mean(brightness)), warmth=float(np.clip(np.mean(warmth), -1, 1)))
    analysis.target = musical_target(analysis)
    return analysis


def musical_target(analysis: VideoAnalysis, prompt: str = "") -> dict:
    """Tempo, energy and mood for the picture; words in ``prompt`` (slow, fast, dark, happy) steer it.

    Motion sets tempo and energy (faster motion, faster music: the CMT rule), cutting rate adds
    energy, brightness and warmth choose between major and minor.
    """
    motion = analysis.motion_mean
    # 0 = still, 1 = ~a quarter of the frame width per second or more
    motion_level = float(np.clip(motion / 0.25, 0.0, 1.0))
    cuts_per_minute = len(analysis.cuts) / max(analysis.duration_s / 60.0, 1e-6)
    cut_level = float(np.clip(cuts_per_minute / 30.0, 0.0, 1.0))
    tempo = 66.0 + 90.0 * motion_level + 14.0 * cut_level
    energy = float(np.clip(0.2 + 0.55 * motion_level + 0.25 * cut_level, 0.0, 1.0))
    bright = analysis.brightness > 0.45 or analysis.warmth > 0.1
    mode = "major" if bright else "minor"
    lowered = prompt.lower()
    if any(w in lowered for w in ("slow", "calm", "gentle", "peaceful", "sad")):
        tempo, energy = tempo * 0.8, energy * 0.75
    if any(w in lowered for w in ("fast", "energetic", "action", "exciting", "upbeat")):
        tempo, energy = tempo * 1.2, min(1.0, energy * 1.25 + 0.1)
    if any(w in lowered for w in ("dark", "sad", "tense", "melancholy", "sombre", "somber")):
        mode = "minor"
    elif any(w in lowered for w in ("happy", "bright", "cheerful", "sunny", "joyful")):
        mode = "major"
    mood = {("major", True): "bright, lively", ("major", False): "calm, warm",
            ("minor", True): "dark, driving", ("minor", False): "melancholy, gentle"}[(mode, energy > 0.5)]
    return {"tempo_bpm": round(float(np.clip(tempo, 50, 200)), 1), "energy": round(energy, 3), "mode": mode,
            "mood": mood, "motion_level": round(motion_level, 3), "cuts_per_minute": round(cuts_per_minute, 2)}
