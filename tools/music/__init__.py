"""The domain core: Song model, theory, symbolic I/O, analysis and rendering. Imports nothing internal."""

from tools.music.errors import TunesmithError
from tools.music.song import ChordSpan, Note, Section, Song, Track

__all__ = ["ChordSpan", "Note", "Section", "Song", "Track", "TunesmithError"]
