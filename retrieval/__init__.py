"""Retrieval: the music catalogue, its vector index, hybrid search, playlists and video scoring.

Modules, by stage:
    abc_headers, score_scan, corpus_source  catalogue records for the music21 corpus without parsing scores
    ingest                                  user folders (audio, MIDI, MusicXML, ABC), incremental by content hash
    track, catalogue                        `TrackRecord` and its SQLite table
    describe, camelot                       captions, attribute words, features, the Camelot wheel
    embedder                                packaged MiniLM sentence embeddings
    store, store_qdrant                     `VectorStore` protocol: FAISS (flat → IVF-SQ8) and Qdrant
    query, library                          filters parsed from words; hybrid ranking with reasons
    playlist, exports, loader, media        MMR playlists ordered for flow; M3U8/XSPF/JSON; audio previews
    video, alignment                        cuts, motion, colour → tempo/energy/mood; bar lines on cuts

Imports only `tools.music` from the rest of the project; the tool layer (`tools.search`,
`tools.playlist`, `tools.soundtrack`) passes in settings-derived paths and optional captioners.
"""
