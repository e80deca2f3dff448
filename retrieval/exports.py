"""Playlist files: M3U8 (players), XSPF (XML, with annotations) and JSON (everything).

Entries point at the track's file: the corpus file inside the music21 wheel (ABC files hold many
tunes; the JSON and XSPF entries name the tune number) or the user's own file.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from retrieval.corpus_source import collection_info, corpus_root
from retrieval.playlist import Playlist
from retrieval.track import TrackRecord


def track_location(record: TrackRecord) -> Path:
    return corpus_root() / record.path if record.source == "corpus" else Path(record.path)


def write_m3u8(playlist: Playlist, path: Path, *, locations: dict[int, Path] | None = None) -> Path:
    lines = ["#EXTM3U", f"#PLAYLIST:{playlist.prompt.replace(chr(10), ' ')}"]
    for record in playlist.tracks:
        artist = record.composer or collection_info(record.collection)["name"]
        lines.append(f"#EXTINF:{round(record.duration_s)},{artist} - {record.title}")
        lines.append(str((locations or {}).get(record.id) or track_location(record)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xspf(playlist: Playlist, path: Path, *, locations: dict[int, Path] | None = None) -> Path:
    namespace = "http://xspf.org/ns/0/"
    ET.register_namespace("", namespace)
    root = ET.Element(f"{{{namespace}}}playlist", version="1")
    ET.SubElement(root, f"{{{namespace}}}title").text = playlist.prompt
    listing = ET.SubElement(root, f"{{{namespace}}}trackList")
    for record, reason in zip(playlist.tracks, playlist.reasons):
        track = ET.SubElement(listing, f"{{{namespace}}}track")
        location = (locations or {}).get(record.id) or track_location(record)
        ET.SubElement(track, f"{{{namespace}}}location").text = Path(location).resolve().as_uri()
        ET.SubElement(track, f"{{{namespace}}}title").text = record.title
        ET.SubElement(track, f"{{{namespace}}}creator").text = record.composer or collection_info(record.collection)["name"]
        ET.SubElement(track, f"{{{namespace}}}album").text = collection_info(record.collection)["name"]
        ET.SubElement(track, f"{{{namespace}}}duration").text = str(int(record.duration_s * 1000))
        note = reason + (f" (tune {record.number})" if record.number is not None else "")
        ET.SubElement(track, f"{{{namespace}}}annotation").text = note
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_json(playlist: Playlist, path: Path) -> Path:
    path.write_text(json.dumps(playlist.public(), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def write_all(playlist: Playlist, directory: Path, stem: str = "playlist", *,
              locations: dict[int, Path] | None = None) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return {"m3u8": write_m3u8(playlist, directory / f"{stem}.m3u8", locations=locations),
            "xspf": write_xspf(playlist, directory / f"{stem}.xspf", locations=locations),
            "json": write_json(playlist, directory / f"{stem}.json")}
