"""Cheap facts from MusicXML and Humdrum files by scanning their text, without music21.

Gives pitch-class counts, the final bass pitch class, whether words are present, part (instrument)
names and the bar count: enough to pick major or minor from a key signature and to estimate length,
at a few milliseconds per file instead of a full parse.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_XML_PITCH = re.compile(r"<step>([A-G])</step>\s*(?:<alter>(-?[\d.]+)</alter>\s*)?<octave>(\d)</octave>")
_KERN_NOTE = re.compile(r"([A-Ga-g])\1*([#\-n]*)")
# Humdrum instrument codes for voices
_KERN_VOICES = {"cant": "soprano", "sopr": "soprano", "alto": "alto", "ten": "tenor", "tenor": "tenor",
                "bass": "bass", "quin": "voice", "vox": "voice", "sup": "voice", "bar": "baritone"}


@dataclass
class ScoreScan:
    pc_counts: list[int] = field(default_factory=lambda: [0] * 12)
    final_bass_pc: int | None = None
    has_lyrics: bool = False
    part_names: list[str] = field(default_factory=list)
    bars: int = 0


def _xml_text(path: Path) -> str:
    if path.suffix.lower() == ".mxl":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
            if not names:
                return ""
            return archive.read(names[0]).decode("utf-8", errors="replace")
    return path.read_text(encoding="utf-8", errors="replace")


def scan_musicxml(path: Path) -> ScoreScan:
    text = _xml_text(path)
    scan = ScoreScan()
    for step, alter, _octave in _XML_PITCH.findall(text):
        pc = (_STEP_PC[step] + int(float(alter or 0))) % 12
        scan.pc_counts[pc] += 1
    parts = re.split(r"<part\s+id=", text)
    if len(parts) > 1:
        last = _XML_PITCH.findall(parts[-1])
        if last:
            step, alter, _ = last[-1]
            scan.final_bass_pc = (_STEP_PC[step] + int(float(alter or 0))) % 12
        scan.bars = len(re.findall(r"<measure\b", parts[1]))
    scan.has_lyrics = "<lyric" in text
    scan.part_names = [re.sub(r"\s+", " ", n).strip() for n in re.findall(r"<part-name[^>]*>([^<]*)</part-name>", text)]
    return scan


def scan_humdrum(path: Path) -> ScoreScan:
    text = path.read_text(encoding="utf-8", errors="replace")
    scan = ScoreScan()
    lines = text.splitlines()
    kinds: list[str] = []
    for line in lines:
        if line.startswith("**"):
            kinds = line.split("\t")
            break
    kern_columns = [i for i, k in enumerate(kinds) if k == "**kern"]
    scan.has_lyrics = any(k in ("**text", "**silbe") for k in kinds)
    bass_column = kern_columns[0] if kern_columns else 0
    for line in lines:
        if not line or line.startswith(("!", "*")):
            if line.startswith("*I") and not line.startswith("*IC"):
                for token in line.split("\t"):
                    code = token[2:].lower()
                    if token.startswith("*I") and code and not token.startswith("*IC"):
                        voice = next((v for k, v in _KERN_VOICES.items() if code.startswith(k)), None)
                        if voice:
                            scan.part_names.append(voice)
            continue
        if line.startswith("="):
            scan.bars += 1 if line.split("\t")[0].startswith("=") else 0
            continue
        cells = line.split("\t")
        for column in kern_columns:
            if column >= len(cells) or cells[column] == "." or "r" in cells[column]:
                continue
            for token in cells[column].split(" "):
                match = _KERN_NOTE.search(token)
                if not match:
                    continue
                pc = _STEP_PC[match.group(1).upper()] + match.group(2).count("#") - match.group(2).count("-")
                scan.pc_counts[pc % 12] += 1
                if column == bass_column:
                    scan.final_bass_pc = pc % 12
    scan.bars = max(0, scan.bars - 1) if scan.bars > 1 else scan.bars
    return scan


def scan_score(path: Path) -> ScoreScan | None:
    """Scan a MusicXML (.xml/.mxl/.musicxml) or Humdrum (.krn) file; None for other formats."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".mxl", ".xml", ".musicxml"):
            return scan_musicxml(path)
        if suffix == ".krn":
            return scan_humdrum(path)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    return None
