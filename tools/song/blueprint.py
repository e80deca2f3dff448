"""The blueprint: the song's musical thought, outlined before a note is written.

From a prompt, explicit arguments and a style preset it fixes key, tempo, meter, the form sized
to the requested duration, chords per bar for every section, instrumentation, vocal range, energy
per section and which lyric lines each section sings. It is plain JSON the user can read and edit;
`compose_song` takes it as its only musical input, so an edited blueprint is honoured exactly.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.music.errors import TunesmithError
from tools.music.song import validate_bar_chords
from tools.music.theory import bar_beats, degree_chord, parse_key
from tools.song.presets import Preset, load_preset, nearest_preset
from tools.song.syllables import syllabify_line

TAIL_SECONDS = 1.0  # ring-out after the last bar, part of the song's duration
MIN_DURATION, MAX_DURATION = 10.0, 600.0
VOICE_RANGES = {"female": (57, 76), "male": (48, 67), "none": (60, 79)}
MINOR_WORDS = {"sad", "melancholy", "melancholic", "dark", "lonely", "heartbreak", "heartbroken", "grief",
               "moody", "haunting", "gloomy", "bitter", "mournful", "somber", "sombre", "tragic", "minor", "angry"}
MAJOR_WORDS = {"happy", "joyful", "bright", "sunny", "cheerful", "uplifting", "hopeful", "playful", "major",
               "carefree", "celebration", "celebratory", "triumphant"}
SLOW_WORDS = {"slow", "calm", "gentle", "sleepy", "peaceful", "relaxed", "melancholy", "melancholic", "tender", "soft"}
FAST_WORDS = {"fast", "energetic", "upbeat", "driving", "frantic", "party", "dance", "hype", "excited"}
MAJOR_KEYS = ("C", "G", "D", "F", "A", "Bb", "E", "Eb")
MINOR_KEYS = ("A", "E", "D", "B", "G", "C", "F#")
NOMINAL_BARS = {"intro": 4, "verse": 8, "prechorus": 4, "chorus": 8, "bridge": 8, "outro": 4, "instrumental": 8}
ENERGY = {"intro": 0.3, "verse": 0.5, "prechorus": 0.62, "chorus": 0.85, "bridge": 0.6, "outro": 0.35,
          "instrumental": 0.75}
MAJOR_TO_MINOR = {"I": "i", "ii": "iv", "iii": "bIII", "IV": "iv", "V": "v", "vi": "bVI", "vii": "bVII"}
MINOR_TO_MAJOR = {"i": "I", "iv": "IV", "v": "V", "V": "V", "bVI": "vi", "bIII": "iii", "bVII": "V", "ii": "ii"}


class SongArgs(BaseModel):
    """Arguments of `text_to_song` (the planner, the HTTP API and the CLI all send these)."""

    prompt: str = Field(default="", max_length=2000, description="what the song is about and how it should sound")
    lyrics: str | None = Field(default=None, max_length=20000, description="lyrics, optionally with [verse]/[chorus] tags")
    genre: str | None = Field(default=None, max_length=100, description="style, e.g. folk, bossa nova, synthpop")
    mood: str | None = Field(default=None, max_length=100, description="e.g. melancholy, happy, calm")
    tempo_bpm: float | None = Field(default=None, ge=40, le=220, description="beats per minute")
    key: str | None = Field(default=None, max_length=20, description="e.g. 'A minor', 'Bb major'")
    duration_s: float | None = Field(default=None, ge=MIN_DURATION, le=MAX_DURATION, description="target length in seconds")
    vocals: Literal["female", "male", "none"] | None = Field(default=None, description="singing voice, or none")
    title: str | None = Field(default=None, max_length=120)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    blueprint: dict | None = Field(default=None, description="an edited blueprint to render as given")

    @field_validator("key")
    @classmethod
    def _key_parses(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else str(parse_key(value))


class StyleMatch(BaseModel):
    query: str
    method: str
    score: float


class BlueprintSection(BaseModel):
    name: str
    kind: str
    bars: int = Field(ge=1, le=64)
    chords: list[str]
    energy: float = Field(ge=0, le=1)
    lyrics: list[str] = Field(default_factory=list)
    instruments: list[str] = Field(default_factory=list)

    @field_validator("chords")
    @classmethod
    def _chords_parse(cls, chords: list[str]) -> list[str]:
        return validate_bar_chords(chords)


class Blueprint(BaseModel):
    """The outline of a song; JSON-editable, and the only input `compose_song` needs."""

    title: str
    prompt: str = ""
    style: str
    style_match: StyleMatch
    key: str
    tempo_bpm: float = Field(gt=30, lt=260)
    meter: str
    swing: float = Field(default=0.0, ge=0, le=0.5)
    scale: Literal["diatonic", "pentatonic"] = "diatonic"
    vocals: Literal["female", "male", "none"]
    voice_range: tuple[int, int]
    instrumentation: dict[str, int]
    sections: list[BlueprintSection]
    lyrics_source: Literal["user", "written", "vocalise", "none"]
    target_duration_s: float | None = None
    seed: int = 0
    warnings: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return str(parse_key(value))

    @property
    def seconds_per_bar(self) -> float:
        return bar_beats(self.meter) * 60.0 / self.tempo_bpm

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def duration_s(self) -> float:
        return self.total_bars * self.seconds_per_bar + TAIL_SECONDS


# -- style, key, tempo ---------------------------------------------------------------------------
def _words(*texts: str | None) -> set[str]:
    return {w for t in texts if t for w in re.findall(r"[a-z]+", t.lower())}


def choose_style(args: SongArgs) -> tuple[Preset, StyleMatch]:
    """The genre argument decides when given; else style words in the prompt; else pop."""
    query = args.genre or args.prompt or "pop"
    match = nearest_preset(query)
    return match.preset, StyleMatch(query=query, method=match.method, score=round(match.score, 3))


def choose_mode(preset: Preset, args: SongArgs) -> str:
    if args.key:
        return parse_key(args.key).mode
    words = _words(args.mood, args.prompt)
    if words & MINOR_WORDS and not words & MAJOR_WORDS:
        return "minor"
    if words & MAJOR_WORDS and not words & MINOR_WORDS:
        return "major"
    return preset.mode


def choose_tempo(preset: Preset, args: SongArgs, rng: random.Random) -> float:
    if args.tempo_bpm:
        return float(args.tempo_bpm)
    low, high = preset.tempo
    words = _words(args.mood, args.prompt)
    position = 0.5
    if words & SLOW_WORDS:
        position = 0.2
    if words & FAST_WORDS:
        position = 0.8
    position += rng.uniform(-0.1, 0.1)
    return float(round(low + (high - low) * min(max(position, 0.0), 1.0)))


def translate_numeral(numeral: str, preset_mode: str, mode: str) -> str:
    """Carry a chord-bank numeral into the other mode when the mood overrides the preset's mode."""
    if preset_mode == mode:
        return numeral
    match = re.fullmatch(r"([b#]?[IViv]+)(.*)", numeral)
    base, suffix = match.groups() if match else (numeral, "")
    table = MAJOR_TO_MINOR if preset_mode == "major" else MINOR_TO_MAJOR
    mapped = table.get(base, base)
    return mapped + ("7" if suffix == "7" and mapped == "V" else "")


# -- lyrics ------------------------------------------------------------------------------------
def _written_lyrics(args: SongArgs, preset: Preset, structure: list[str], seed: int) -> list[tuple[str, list[str]]] | None:
    """Lyrics from the lyrics capability (`write_lyrics`), or None where it is not installed."""
    try:
        from tools.lyrics.writer import write_lyrics
    except ImportError:
        return None
    draft = write_lyrics(args.prompt or args.title or preset.description, genre=preset.name, mood=args.mood,
                         structure=" ".join(structure), title=args.title, seed=seed)
    return [(section.kind, list(section.lines)) for section in draft.sections]


VOCALISE = ("la la la la la la la", "ooh ooh ooh ooh", "da da da da da da", "oh oh oh oh oh")


def _vocalise(structure: list[str]) -> list[tuple[str, list[str]]]:
    lines = {"verse": 4, "prechorus": 2, "chorus": 4, "bridge": 4}
    return [(kind, [VOCALISE[(i + k) % len(VOCALISE)] for k in range(lines.get(kind, 4))])
            for i, kind in enumerate(structure)]


# -- form --------------------------------------------------------------------------------------
def bars_per_line(meter: str) -> int:
    return 2 if bar_beats(meter) >= 4 else 4


def _sung_bars(lines: list[str], meter: str, tempo: float, prog_len: int) -> int:
    per_line = bars_per_line(meter)
    beats = bar_beats(meter) * per_line
    longest = max((sum(len(s) for _, s in syllabify_line(line)) for line in lines), default=0)
    # a line needs room for its syllables at up to ~2 per beat (fewer when fast) plus a held end
    capacity = (beats - 1.5) * (2.0 if tempo < 110 else 1.5)
    if longest > capacity:
        per_line *= 2
    bars = max(1, len(lines)) * per_line
    if prog_len > 4:
        bars = -(-bars // prog_len) * prog_len
    return bars


def _plan_structure(preset: Preset, target_bars: float | None, meter: str) -> list[str]:
    """Section kinds for a song without user lyrics: the candidate form closest to ``target_bars``.

    Candidates run from a minimal song (intro, verse, chorus, outro) to long forms with a bridge,
    an instrumental break and a final double chorus; all keep verse and chorus alternating.
    """
    form = list(preset.form)
    if target_bars is None:
        return form
    scale = 1 if bar_beats(meter) >= 4 else 2
    has_pre = "prechorus" in form

    def bars(kind: str) -> int:
        nominal = NOMINAL_BARS[kind] * scale
        length = max((len(p) for p in preset.chords.get(kind, [[]])), default=4)
        if kind in ("intro", "outro") or length <= 4:
            return nominal
        return -(-nominal // length) * length

    def size(kinds: list[str]) -> int:
        return sum(bars(k) for k in kinds)

    vc = ["verse", "prechorus", "chorus"] if has_pre else ["verse", "chorus"]
    candidates = [
        ["intro", "verse", "outro"],
        ["intro", "verse", "chorus", "outro"],
        ["intro", "verse", "chorus", "verse", "chorus", "outro"],
        ["intro", *vc, "verse", "chorus", "outro"],
        ["intro", *vc, *vc, "outro"],
        form,
        ["intro", *vc, *vc, "bridge", "chorus", "chorus", "outro"],
        ["intro", *vc, *vc, "instrumental", "bridge", "chorus", "chorus", "outro"],
        ["intro", *vc, *vc, "bridge", *vc, "chorus", "outro"],
        ["intro", *vc, *vc, "instrumental", *vc, "bridge", "chorus", "chorus", "outro"],
    ]
    return min(candidates, key=lambda kinds: (abs(size(kinds) - target_bars), -len(kinds)))


def _fit_bars(sections: list[dict], target_bars: float, meter: str) -> None:
    """Stretch or shrink intro/outro (and halve long sections when far too long) toward the target."""
    total = lambda: sum(s["bars"] for s in sections)  # noqa: E731
    for s in sections:
        if total() <= target_bars:
            break
        if s["kind"] in ("verse", "chorus", "bridge", "instrumental") and not s["lines"] and s["bars"] > 4:
            s["bars"] //= 2
    edges = [s for s in sections if s["kind"] in ("intro", "outro")]
    for _ in range(64):
        diff = target_bars - total()
        if abs(diff) < 0.5 or not edges:
            break
        grow = diff > 0
        candidates = [s for s in edges if (s["bars"] < 12 if grow else s["bars"] > 2)]
        if not candidates:
            break
        pick = min(candidates, key=lambda s: s["bars"]) if grow else max(candidates, key=lambda s: s["bars"])
        pick["bars"] += 1 if grow else -1


def _name_sections(kinds: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    totals = {k: kinds.count(k) for k in set(kinds)}
    names = []
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
        label = {"prechorus": "pre-chorus"}.get(kind, kind)
        names.append(f"{label} {counts[kind]}" if totals[kind] > 1 else label)
    return names


def make_blueprint(args: SongArgs | dict) -> Blueprint:
    """The musical thought for these arguments, without composing or rendering anything.

    Raises:
        TunesmithError: bad arguments (unknown key spelling, empty lyrics, blueprint that fails
            validation).
    """
    if isinstance(args, dict):
        args = SongArgs.model_validate(args)
    if args.blueprint is not None:
        try:
            return Blueprint.model_validate(args.blueprint)
        except Exception as error:  # pydantic's ValidationError: say what is wrong
            raise TunesmithError(f"The edited blueprint is not valid: {error}") from error
    rng = random.Random(args.seed)
    preset, match = choose_style(args)
    mode = choose_mode(preset, args)
    tempo = choose_tempo(preset, args, rng)
    meter = preset.meter
    key = args.key or f"{rng.choice(MAJOR_KEYS if mode == 'major' else MINOR_KEYS)} {mode}"
    vocals = args.vocals or preset.vocals
    warnings: list[str] = []
    seconds_per_bar = bar_beats(meter) * 60.0 / tempo
    target_bars = (args.duration_s - TAIL_SECONDS) / seconds_per_bar if args.duration_s else None

    # which lyrics, in which sections
    if args.lyrics and args.lyrics.strip() and vocals != "none":
        from tools.song.placement import parse_lyrics

        lyric_sections = [(s.kind, s.lines) for s in parse_lyrics(args.lyrics)]
        source = "user"
    elif vocals != "none":
        structure = [k for k in _plan_structure(preset, target_bars, meter) if k not in ("intro", "outro", "instrumental")]
        lyric_sections = _written_lyrics(args, preset, structure, args.seed)
        source = "written"
        if lyric_sections is None:
            lyric_sections = _vocalise(structure)
            source = "vocalise"
            warnings.append("the lyrics writer is not installed: the voice sings a vocalise (la, ooh)")
    else:
        lyric_sections = [(k, []) for k in _plan_structure(preset, target_bars, meter) if k not in ("intro", "outro")]
        source = "none"

    progressions = {kind: rng.choice([list(p) for p in bank]) for kind, bank in preset.chords.items()}
    kinds = ["intro"] + [k for k, _ in lyric_sections if k not in ("intro", "outro")] + ["outro"]
    lines_of = [[]] + [lines for k, lines in lyric_sections if k not in ("intro", "outro")] + [[]]
    plan = []
    for kind, lines in zip(kinds, lines_of):
        progression = progressions.get(kind) or progressions.get("verse")
        if kind == "instrumental":
            progression = progressions["chorus"]
        bars = (_sung_bars(lines, meter, tempo, len(progression)) if lines
                else NOMINAL_BARS.get(kind, 8) * (1 if bar_beats(meter) >= 4 else 2))
        plan.append({"kind": kind, "bars": bars, "lines": lines, "progression": progression})
    if target_bars is not None:
        _fit_bars(plan, target_bars, meter)
        sung = sum(p["bars"] for p in plan)
        if args.tempo_bpm is None:
            # fine-tune the tempo (within 12 %) so the form lands on the requested duration
            wanted = sung * bar_beats(meter) * 60.0 / (args.duration_s - TAIL_SECONDS)
            tempo = round(min(max(wanted, tempo * 0.88), tempo * 1.12), 2)
        actual = sung * bar_beats(meter) * 60.0 / tempo + TAIL_SECONDS
        if abs(actual - args.duration_s) > 0.05 * args.duration_s:
            warnings.append(f"the form lasts {actual:.0f} s, not the requested {args.duration_s:.0f} s "
                            f"(the lyrics need that many bars at {tempo:g} BPM)")

    tonic_key = parse_key(key)
    names = _name_sections([p["kind"] for p in plan])
    instrumentation = {role: spec.program for role, spec in preset.instruments if role != "drums" and spec is not None}
    instrumentation["drums"] = 0 if preset.instruments.drums != "none" else -1
    chorus_count = sum(1 for p in plan if p["kind"] == "chorus")
    sections: list[BlueprintSection] = []
    seen_chorus = 0
    for name, p in zip(names, plan):
        numerals = [translate_numeral(n, preset.mode, mode) for n in p["progression"]]
        chords = [degree_chord(tonic_key, numerals[i % len(numerals)]) for i in range(p["bars"])]
        if p["kind"] == "outro":
            chords[-1] = degree_chord(tonic_key, "I" if mode == "major" else "i")
        energy = ENERGY.get(p["kind"], 0.5)
        if p["kind"] == "chorus":
            seen_chorus += 1
            energy = 1.0 if seen_chorus == chorus_count and chorus_count > 1 else energy
        roles = ["bass", "comp"]
        if energy >= 0.4 and preset.instruments.drums != "none":
            roles.append("drums")
        if preset.instruments.pad and (energy >= 0.6 or p["kind"] in ("intro", "outro")):
            roles.append("pad")
        if preset.instruments.comp2 and energy >= 0.8:
            roles.append("comp2")
        if p["kind"] in ("intro", "outro", "instrumental") or vocals == "none":
            roles.append("lead")
        sections.append(BlueprintSection(name=name, kind=p["kind"], bars=p["bars"], chords=chords,
                                         energy=round(energy, 2), lyrics=list(p["lines"]), instruments=roles))
    voice_range = (preset.melody.low, preset.melody.high) if vocals == preset.vocals else VOICE_RANGES[vocals]
    title = args.title or _title_from(args, lyric_sections, preset)
    return Blueprint(title=title, prompt=args.prompt, style=preset.name, style_match=match, key=key,
                     tempo_bpm=tempo, meter=meter, swing=preset.swing, scale=preset.scale, vocals=vocals,
                     voice_range=voice_range, instrumentation=instrumentation, sections=sections,
                     lyrics_source=source, target_duration_s=args.duration_s, seed=args.seed, warnings=warnings)


def _title_from(args: SongArgs, lyric_sections: list[tuple[str, list[str]]], preset: Preset) -> str:
    """The first chorus line, else the prompt's gist, else the style."""
    for kind, lines in lyric_sections:
        if kind == "chorus" and lines and not lines[0].startswith(("la ", "ooh", "da ", "oh ")):
            return lines[0].strip(" ,.!?;:").title()[:60]
    if args.prompt:
        about = re.search(r"\babout\s+(.+)", args.prompt, flags=re.I)
        text = about.group(1) if about else args.prompt
        return " ".join(text.strip(" .!?").split()[:6]).title()
    return f"{preset.name.title()} Song"
