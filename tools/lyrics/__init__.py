"""Lyrics capability: pronunciation, rhymes, analysis and writing (find_rhymes, analyze_lyrics, write_lyrics)."""

from __future__ import annotations

TOOLS: list = []  # filled as the lyric tools land
