"""style_transfer and edit_song: a song re-arranged in another style, or changed part by part
while every other part keeps its notes and its audio."""

from tools.restyle.tools import (EditSongArgs, StyleTransferArgs, TOOLS, edit_song, restyle_song,
                                 style_transfer)

__all__ = ["TOOLS", "style_transfer", "edit_song", "restyle_song", "StyleTransferArgs", "EditSongArgs"]
