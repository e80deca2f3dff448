"""Audio and video assembly for previews: crossfaded playlist audio and MP4s with music muxed in.

PyAV bundles FFmpeg with h264 and aac encoders, so no system ffmpeg is needed (FACTS.md).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from tools.music.errors import TunesmithError


def crossfade_concat(clips: list[np.ndarray], *, sample_rate: int, fade_s: float = 2.0) -> np.ndarray:
    """Clips (stereo float32) joined with equal-power crossfades of ``fade_s`` seconds."""
    if not clips:
        raise TunesmithError("No audio to join")
    fade = int(fade_s * sample_rate)
    out = np.asarray(clips[0], dtype=np.float32)
    for clip in clips[1:]:
        clip = np.asarray(clip, dtype=np.float32)
        n = min(fade, len(out), len(clip))
        if n == 0:
            out = np.concatenate([out, clip])
            continue
        t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)[:, None]
        mixed = out[-n:] * np.cos(t) + clip[:n] * np.sin(t)
        out = np.concatenate([out[:-n], mixed, clip[n:]])
    peak = float(np.abs(out).max()) if len(out) else 0.0
    return out / peak * 0.89 if peak > 0.89 else out


def fit_length(audio: np.ndarray, seconds: float, *, sample_rate: int, fade_out_s: float = 1.0) -> np.ndarray:
    """Trim or pad ``audio`` to ``seconds`` with a short fade at the end."""
    total = int(round(seconds * sample_rate))
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) >= total:
        audio = audio[:total].copy()
    else:
        audio = np.concatenate([audio, np.zeros((total - len(audio), audio.shape[1]), np.float32)])
    n = min(int(fade_out_s * sample_rate), len(audio))
    if n:
        audio[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None]
    return audio


def mux_preview(video: Path, audio: np.ndarray, sample_rate: int, out_path: Path, *, max_height: int = 480) -> Path:
    """Re-encode ``video`` (h264, at most ``max_height`` lines) with ``audio`` as its AAC soundtrack."""
    import av

    audio = np.ascontiguousarray(np.asarray(audio, dtype=np.float32))
    if audio.ndim == 1:
        audio = np.stack([audio, audio], axis=1)
    try:
        source = av.open(str(video))
    except Exception as error:
        raise TunesmithError(f"{video.name!r} could not be opened as a video: {error}") from error
    with source, av.open(str(out_path), mode="w") as target:
        in_stream = source.streams.video[0]
        rate = in_stream.average_rate or Fraction(25, 1)
        width, height = in_stream.codec_context.width, in_stream.codec_context.height
        if height > max_height:
            width, height = int(width * max_height / height) // 2 * 2, max_height
        video_out = target.add_stream("h264", rate=rate)
        video_out.width, video_out.height = width // 2 * 2, height // 2 * 2
        video_out.pix_fmt = "yuv420p"
        audio_out = target.add_stream("aac", rate=sample_rate)
        audio_out.layout = "stereo"
        for frame in source.decode(in_stream):
            image = frame.reformat(width=video_out.width, height=video_out.height, format="yuv420p")
            image.pts = None
            for packet in video_out.encode(image):
                target.mux(packet)
        for packet in video_out.encode():
            target.mux(packet)
        chunk = 1024
        for start in range(0, len(audio), chunk):
            block = audio[start:start + chunk]
            frame = av.AudioFrame.from_ndarray(block.T.copy(), format="fltp", layout="stereo")
            frame.sample_rate = sample_rate
            frame.pts = start
            for packet in audio_out.encode(frame):
                target.mux(packet)
        for packet in audio_out.encode():
            target.mux(packet)
    return out_path
