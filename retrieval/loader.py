"""Open a catalogue track as a `Song` (symbolic) or as audio, for previews and exact enrichment."""

from __future__ import annotations

from pathlib import Path

from tools.music.errors import TunesmithError
from tools.music.song import Song

from retrieval.track import TrackRecord


def song_for(record: TrackRecord) -> Song | None:
    """The track as a `Song`; None for audio files (they have no score)."""
    if record.source == "corpus":
        from music21 import corpus

        from tools.music.musicxml_io import score_to_song

        try:
            # one ABC tune at a time: whole multi-tune files take 8-17 s to parse (FACTS.md)
            score = corpus.parse(record.path, number=record.number) if record.number is not None else corpus.parse(record.path)
        except Exception as error:
            raise TunesmithError(f"Corpus track {record.uid} could not be read: {error}") from error
        song = score_to_song(score, title=record.title)
        if not record.tempo_known or abs(song.tempo_bpm - record.tempo_bpm) > 1:
            song = song.model_copy(update={"tempo_bpm": max(20.0, min(300.0, record.tempo_bpm))})
        return song
    path = Path(record.path)
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi", ".kar", ".rmi"):
        from tools.music.midi_io import read_midi

        return read_midi(path)
    if suffix in (".xml", ".musicxml", ".mxl", ".abc"):
        from tools.music.musicxml_io import read_musicxml

        return read_musicxml(path)
    return None


def audio_for(record: TrackRecord, *, seconds: float, sample_rate: int = 44100):
    """Up to ``seconds`` of the track as a stereo float32 array at ``sample_rate``."""
    import numpy as np

    song = song_for(record)
    if song is not None:
        from tools.music.synth import render_track

        total = int(seconds * sample_rate)  # bounded: only the part the preview plays is rendered
        tracks = [t for t in song.all_tracks() if t.notes]
        if not tracks:
            raise TunesmithError(f"Track {record.uid} has no notes")
        audio = np.sum([render_track(t, song, total_samples=total, sample_rate=sample_rate) for t in tracks], axis=0)
        audio = np.asarray(audio, dtype=np.float32)
    else:
        import soundfile

        try:
            audio, rate = soundfile.read(record.path, dtype="float32", always_2d=True, frames=int(seconds * 48000 * 2))
        except Exception as error:
            raise TunesmithError(f"{Path(record.path).name!r} could not be read as audio: {error}") from error
        if rate != sample_rate:
            import librosa

            audio = librosa.resample(audio.T, orig_sr=rate, target_sr=sample_rate).T
    if audio.ndim == 1:
        audio = np.stack([audio, audio], axis=1)
    if audio.shape[0] in (1, 2) and audio.shape[1] > 2:
        audio = audio.T
    if audio.shape[1] == 1:
        audio = np.repeat(audio, 2, axis=1)
    return audio[: int(seconds * sample_rate)]
