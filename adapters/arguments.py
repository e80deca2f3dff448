"""Turn a routed intent, the tagged spans and the conversation into each tool's canonical arguments.

The network decides the intent, where the free-text values are (topic, word, query, section…) and
whether the source is the attachment or an earlier result; the normalisers read the numbers, keys
and names. The contract (issue 8): text_to_song{prompt, lyrics, genre, mood, tempo_bpm, key,
duration_s, vocals, title}, write_lyrics{topic, genre, mood, rhyme_scheme, structure},
find_rhymes{word, kind}, analyze_lyrics{text}, style_transfer{source, target_style, tempo_bpm, key},
edit_song{source, section, instruction, …}, caption_music{source, focus}, search_music{query, like, limit},
make_playlist{prompt, duration_min, count, seed}, video_soundtrack{video, prompt, mode}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from adapters import normalize as nz
from adapters.context import MUSIC_KINDS, Context, attachment_kind, mentioned_artifact


@dataclass
class Reading:
    """What the network read from the last user turn."""

    intent: str
    confidence: float
    reference: str  # none | attachment | artifact
    spans: dict[str, list[str]] = field(default_factory=dict)

    def first(self, label: str) -> str | None:
        values = self.spans.get(label) or []
        return values[0] if values else None


class MissingSource(Exception):
    """The request refers to a file or a song the conversation does not have."""

    def __init__(self, what: str, mentioned: str | None = None) -> None:
        super().__init__(what)
        self.what, self.mentioned = what, mentioned


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip("\"'“”‘’.,!?:;()").strip()
    return value or None


def split_request_and_body(text: str) -> tuple[str, str | None]:
    """The request line and the pasted lines below it (lyrics to sing or analyse)."""
    lines = [line for line in text.split("\n")]
    if len(lines) > 1:
        head = lines[0].strip()
        body = "\n".join(lines[1:]).strip()
        if body:
            return head, body
    match = re.search(r"[:]\s*[\"“](.+)[\"”]\s*$", text, flags=re.S)
    if match:
        return text[:match.start()].strip(), match.group(1).strip()
    return text.strip(), None


def resolve_source(context: Context, reading: Reading, kinds: tuple[str, ...] = MUSIC_KINDS,
                   *, required: bool = True) -> str | None:
    """The attachment path or artifact id a "this"/"it"/"that song" refers to."""
    mentioned = mentioned_artifact(context.text)
    if mentioned:
        if mentioned in context.known_artifacts:
            return mentioned
        raise MissingSource("artifact", mentioned)
    attachment = context.first_attachment(kinds)
    artifact = context.last_music_artifact or context.last_artifact
    if reading.reference == "artifact" and artifact:
        return artifact
    if attachment:
        return attachment
    if artifact:
        return artifact
    for path in reversed(context.earlier_attachments):
        if attachment_kind(path) in kinds:
            return path
    if required:
        raise MissingSource("video" if kinds == ("video",) else "music")
    return None


_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
_NOT_MOODS = re.compile(r"\bhappy birthday\b", re.I)


def _song_attributes(text: str) -> dict[str, Any]:
    text = _NOT_MOODS.sub(" ", _QUOTED.sub(" ", text))
    values = {
        "genre": nz.find_genre(text),
        "mood": nz.find_mood(text),
        "tempo_bpm": nz.parse_tempo(text),
        "key": nz.parse_key(text),
        "duration_s": nz.parse_duration_s(text),
        "vocals": nz.parse_vocals(text),
    }
    return {k: v for k, v in values.items() if v is not None}


def _title(text: str) -> str | None:
    match = re.search(r"\b(?:called|titled|named|title)\s*[:]?\s*[\"“']([^\"”']{1,80})[\"”']", text, flags=re.I)
    return match.group(1).strip() if match else None


def text_to_song(context: Context, reading: Reading) -> dict[str, Any]:
    head, body = split_request_and_body(context.text)
    args: dict[str, Any] = {"prompt": head}
    args.update(_song_attributes(head))
    if body:
        args["lyrics"] = body
    title = _title(head)
    if title:
        args["title"] = title
    if args.get("vocals") is None and re.search(r"\binstrumental\b", context.text, flags=re.I):
        args["vocals"] = "none"
    return args


_STRUCTURE = re.compile(r"\b(verse[- ]chorus(?:[- ](?:verse|bridge))*|aaba|verse,? chorus,? bridge|"
                        r"(?:two|three|2|3) verses? and (?:a )?chorus(?:es)?)\b", flags=re.I)


_CLAUSE_END = re.compile(r"[,.!?;:\n]|\s(?:and then|then|in an?|with an?|using|rhyme|please|as an?)\b", re.I)


def extend_span(text: str, span: str | None) -> str | None:
    """A tagged span grown to the end of its clause ("my dog" → "my dog Biscuit")."""
    if not span:
        return span
    match = re.search(r"(?<![\w'])" + re.escape(span) + r"(?![\w'])", text)
    if not match:
        return span
    start = match.start()
    rest = text[start + len(span):]
    stop = _CLAUSE_END.search(rest)
    tail = rest[:stop.start()] if stop else rest
    if len(tail.split()) > 4:
        return span
    return (span + tail).strip()


def write_lyrics(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    topic = _clean(extend_span(text, reading.first("TOPIC")))
    if not topic:
        match = re.search(r"\b(?:about|on|regarding|for|describing)\s+(.+?)(?:[,.!?]|$)", text, flags=re.I)
        topic = _clean(match.group(1)) if match else _clean(text)
    args: dict[str, Any] = {"topic": topic}
    for name, value in (("genre", nz.find_genre(text)), ("mood", nz.find_mood(text)),
                        ("rhyme_scheme", nz.parse_rhyme_scheme(text))):
        if value:
            args[name] = value
    structure = _STRUCTURE.search(text)
    if structure:
        args["structure"] = structure.group(1).lower()
    return args


def find_rhymes(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    quoted = re.search(r"(?:^|(?<=[\s(:]))[\"“'‘]([A-Za-z][A-Za-z' -]{0,30}?)[\"”'’]", text)
    word = _clean(quoted.group(1)) if quoted else None
    if not word:
        span = _clean(reading.first("WORD"))
        word = span.split()[-1] if span else None
    if not word:
        match = re.search(r"\b(?:with|for|to)\s+(?:the word\s+)?([A-Za-z']+)", text.strip(), flags=re.I)
        word = match.group(1) if match else None
    args: dict[str, Any] = {"word": (word or "").lower()}
    kind = nz.parse_rhyme_kind(text)
    if kind:
        args["kind"] = kind
    return args


def analyze_lyrics(context: Context, reading: Reading) -> dict[str, Any]:
    head, body = split_request_and_body(context.text)
    if not body:
        match = re.search(r":\s*(.+)$", head, flags=re.S)
        body = match.group(1).strip() if match else head
    return {"text": body}


def _style(context: Context, reading: Reading) -> str | None:
    span = _clean(reading.first("STYLE"))
    if span:
        return re.sub(r"^(?:an?|the|some)\s+", "", span, flags=re.I)
    return nz.find_genre(context.text)


def style_transfer(context: Context, reading: Reading) -> dict[str, Any]:
    args: dict[str, Any] = {"source": resolve_source(context, reading)}
    style = _style(context, reading)
    if style:
        args["target_style"] = style
    tempo, key = nz.parse_tempo(context.text), nz.parse_key(context.text)
    if tempo:
        args["tempo_bpm"] = tempo
    if key:
        args["key"] = key
    change = re.search(r"\b(slower|faster|quieter|louder|softer|heavier|lighter)\b", context.text, flags=re.I)
    if change:
        args["instruction"] = context.text.strip()
    return args


_UP = r"bigger|louder|more intense|more energetic|punchier|fuller|heavier|more energy|more drive|more punch|busier"
_DOWN = r"softer|quieter|calmer|sparser|lighter|less energy|less drive|gentler|more space|emptier"


_SECTION = re.compile(r"\b((?:(?:first|second|third|last|final|next)\s+)?(?:pre-?chorus|chorus|verse|bridge|intro|"
                      r"outro|hook|breakdown|drop|solo|middle eight|ending|refrain)(?:\s*\d)?)\b", re.I)


def _section_words(text: str) -> str | None:
    """A section named in plain words when the tagger found none."""
    match = _SECTION.search(text)
    return match.group(1).lower() if match else None


def edit_song(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    args: dict[str, Any] = {"source": resolve_source(context, reading, ("midi", "score", "audio")),
                            "instruction": text.strip()}
    section = _clean(reading.first("SECTION")) or _section_words(text)
    if section:
        args["section"] = re.sub(r"^(?:the)\s+", "", section, flags=re.I)
    low = text.lower()
    if re.search(rf"\b(?:{_UP})\b", low):
        args["energy"] = "up"
    elif re.search(rf"\b(?:{_DOWN})\b", low):
        args["energy"] = "down"
    instrument = _clean(reading.first("INSTR"))
    if instrument:
        if re.search(r"\b(remove|drop|take out|mute|cut|lose|get rid of|less|without|no more)\b", low):
            args["remove"] = instrument
        else:
            args["add"] = instrument
    bars = re.search(r"\b(\d{1,2})\s*bars?\b", low)
    if bars:
        args["bars"] = int(bars.group(1))
    tempo, key = nz.parse_tempo(text), nz.parse_key(text)
    if tempo:
        args["tempo_bpm"] = tempo
    if key:
        args["key"] = key
    lyric = re.search(r"(?:lyrics?|words?|line)\b.*?[\"“](.+?)[\"”]", text, flags=re.I)
    if lyric:
        args["lyrics"] = lyric.group(1)
    return args


def caption_music(context: Context, reading: Reading) -> dict[str, Any]:
    args: dict[str, Any] = {"source": resolve_source(context, reading)}
    focus = nz.caption_focus(context.text)
    if focus:
        args["focus"] = focus
    return args


_LIKE = re.compile(r"\b(similar|like (?:this|that|it|the one)|resembl\w*|sounds? like|more like|close to)\b", re.I)


def search_music(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    args: dict[str, Any] = {}
    wants_like = reading.reference != "none" or bool(_LIKE.search(text))
    if wants_like:
        like = resolve_source(context, reading, required=False)
        if like:
            args["like"] = like
        elif reading.reference != "none" and not reading.first("QUERY"):
            raise MissingSource("music")
    query = _clean(reading.first("QUERY"))
    if query:
        args["query"] = nz.normalise_query(query)
        key = nz.parse_key(text)
        if key and key.split()[0].lower() not in args["query"].lower().split():
            args["query"] = f"{args['query']} {key}".strip()
    elif "like" not in args:
        match = re.search(r"\b(?:for|find|search|show me|get|any|some)\s+(.+?)(?:[?.!]|$)", text, flags=re.I)
        args["query"] = nz.normalise_query(match.group(1) if match else text)
    limit = nz.parse_count(text)
    if limit:
        args["limit"] = limit
    return args


_SEED = re.compile(r"\b(starts? with|seeded|based on|beginning with|begins with|continue|extend|around (?:this|that|it)|"
                   r"from (?:this|that|it)|like (?:this|that))\b", re.I)


def make_playlist(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    args: dict[str, Any] = {}
    prompt = _clean(extend_span(text, reading.first("PROMPT")))
    if prompt:
        args["prompt"] = prompt
    else:
        match = re.search(r"\b(?:for|to|while|of)\s+(.+?)(?:[,.!?]|$)", text, flags=re.I)
        args["prompt"] = _clean(match.group(1)) if match else _clean(text)
    minutes = nz.parse_minutes(text)
    if minutes:
        args["duration_min"] = minutes
    count = nz.parse_count(text)
    if count:
        args["count"] = count
    if reading.reference != "none" or _SEED.search(text):
        seed = resolve_source(context, reading, ("audio", "midi", "score"), required=False)
        if seed:
            args["seed"] = seed
    return args


_MATCH = re.compile(r"\b(find|pick|choose|suggest|recommend|which music|what music|what song|what kind|"
                    r"goes with|from the (?:catalogue|library))\b", re.I)


def video_soundtrack(context: Context, reading: Reading) -> dict[str, Any]:
    text = context.text
    args: dict[str, Any] = {"video": resolve_source(context, reading, ("video",))}
    prompt = _clean(reading.first("PROMPT")) or nz.find_mood(text)
    if prompt:
        args["prompt"] = prompt
    args["mode"] = "match" if _MATCH.search(text) else "compose"
    return args


BUILDERS = {
    "text_to_song": text_to_song, "write_lyrics": write_lyrics, "find_rhymes": find_rhymes,
    "analyze_lyrics": analyze_lyrics, "style_transfer": style_transfer, "edit_song": edit_song,
    "caption_music": caption_music, "search_music": search_music, "make_playlist": make_playlist,
    "video_soundtrack": video_soundtrack,
}
