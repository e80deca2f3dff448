"""Seeded generator of training conversations for the embedded planner.

Paraphrase grammars (``grammar.json``: ``(a|b)`` picks one, ``[x]`` is optional, ``{slot}`` fills a
value) and wide slot values (``slots.json`` plus random English words from ``wordfreq``) produce
single turns, multi-turn follow-ups that refer to an earlier result, turns with attachments, chained
requests and no-tool turns. Each example carries the routed intent, the argument spans (character
offsets in the user's text) and the reference the source comes from. Same seed, same data.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from agent.plan import Message

_HERE = Path(__file__).parent
SPAN_LABELS = ("TOPIC", "PROMPT", "WORD", "QUERY", "SECTION", "STYLE", "INSTR")
# slot name → span label the tagger learns (other slots are read by the normalisers)
_SLOT_LABEL = {"topic": "TOPIC", "pprompt": "PROMPT", "word": "WORD", "query": "QUERY",
               "section": "SECTION", "style": "STYLE", "instrument": "INSTR"}
# which attachment kinds, or an earlier result, each follow-up tool takes its source from
_SOURCE_KINDS = {
    "caption_music": ("audio", "midi", "score"),
    "style_transfer": ("audio", "midi", "score"),
    "edit_song": ("midi", "score"),
    "search_music": ("audio", "midi", "score"),
    "make_playlist": ("audio", "midi"),
    "video_soundtrack": ("video",),
}
_LIKE_MARKERS = ("similar", "like", "resembling", "close to", "more tunes", "similar ones")
_SEED_MARKERS = ("starts with", "seeded", "based on", "beginning with", "around", "continue", "extend")


@dataclass
class Example:
    """One training conversation and what the planner should read from its last user turn."""

    messages: list[Message]
    intent: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    reference: str = "none"  # none | attachment | artifact

    def to_json(self) -> dict:
        return {"messages": [m.model_dump(exclude_defaults=True) for m in self.messages],
                "intent": self.intent, "spans": [list(s) for s in self.spans], "reference": self.reference}


@lru_cache(maxsize=1)
def grammar() -> dict:
    return json.loads((_HERE / "grammar.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def slot_values() -> dict:
    return json.loads((_HERE / "slots.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _english_words() -> list[str]:
    """Common English words (wordfreq) as wide slot values for rhymes, topics and queries."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 6000)[200:] if w.isalpha() and len(w) >= 3]


def _matching(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] in "([":
            depth += 1
        elif text[index] in ")]":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced template: {text!r}")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


class _Builder:
    """Expands one template into text while recording where slot values landed."""

    def __init__(self, rng: random.Random, fill) -> None:
        self.rng, self.fill = rng, fill
        self.chunks: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.length = 0

    def emit(self, text: str, label: str | None = None) -> None:
        if label and text:
            self.spans.append((self.length, self.length + len(text), label))
        self.chunks.append(text)
        self.length += len(text)

    def expand(self, template: str) -> None:
        index = 0
        while index < len(template):
            char = template[index]
            if char in "([":
                end = _matching(template, index)
                inner = template[index + 1:end]
                if char == "(":
                    self.expand(self.rng.choice(_split_top(inner)))
                elif self.rng.random() < 0.5:
                    self.expand(inner)
                index = end + 1
            elif char == "{":
                end = template.index("}", index)
                text, label = self.fill(template[index + 1:end])
                self.emit(text, label)
                index = end + 1
            else:
                end = index
                while end < len(template) and template[end] not in "([{":
                    end += 1
                self.emit(_noisy(template[index:end], self.rng))
                index = end

    def result(self) -> tuple[str, list[tuple[int, int, str]]]:
        return "".join(self.chunks), self.spans


def _noisy(text: str, rng: random.Random) -> str:
    """Typos in the template's own words (never inside slot values): a dropped, doubled or swapped letter."""
    if rng.random() > 0.08:
        return text
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.4:
        word = word[:j] + word[j + 1:]
    elif op < 0.7:
        word = word[:j] + word[j] + word[j:]
    else:
        word = word[:j - 1] + word[j] + word[j - 1] + word[j + 1:]
    words[i] = word
    return " ".join(words)


class Generator:
    """Builds examples; every random choice comes from one seeded ``random.Random``."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.slots = slot_values()
        self.words = _english_words()

    # -- slot values -------------------------------------------------------------------------
    def _number(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def _tonic_text(self) -> str:
        tonic = self.rng.choice(self.slots["tonic"])
        spelled = self.slots["tonic_words"].get(tonic)
        if spelled and self.rng.random() < 0.5:
            return self.rng.choice(spelled)
        return tonic

    def _topic(self) -> str:
        roll = self.rng.random()
        if roll < 0.55:
            return self.rng.choice(self.slots["topic"])
        if roll < 0.8:
            pattern = self.rng.choice(self.slots["topic_fillers"])
            return pattern.format(rel=self.rng.choice(self.slots["rel"]), adj=self.rng.choice(self.slots["adj"]),
                                  thing=self.rng.choice(self.words), thing2=self.rng.choice(self.words))
        return " ".join(self.rng.sample(self.words, self.rng.randint(1, 3)))

    def fill(self, slot: str) -> tuple[str, str | None]:
        s, rng = self.slots, self.rng
        if slot == "topic":
            return self._topic(), "TOPIC"
        if slot == "genre":
            return rng.choice(s["genre_words"]), None
        if slot == "mood":
            return rng.choice(s["mood"]), None
        if slot == "tempo":
            n = self._number(50, 180)
            from adapters.training.numbers import number_words

            return rng.choice(s["tempo"]).format(n=n, w=number_words(n)), None
        if slot == "key":
            pattern = rng.choice(s["key"])
            return pattern.replace("{tw}", "{t}").format(t=self._tonic_text()), None
        if slot == "duration":
            from adapters.training.numbers import number_words

            pattern, _ = rng.choice(s["duration"])
            m = self._number(1, 5)
            return pattern.format(n=self._number(20, 90), m=m, mw=number_words(m)), None
        if slot == "vocals":
            return rng.choice(s["vocals"])[0], None
        if slot == "scheme":
            return rng.choice(s["scheme"]), None
        if slot == "structure":
            return rng.choice(s["structure"]), None
        if slot == "word":
            return (rng.choice(s["word_extra"]) if rng.random() < 0.2 else rng.choice(self.words)), "WORD"
        if slot == "kind":
            return rng.choice(s["kind"])[0], None
        if slot in ("lyrics", "text"):
            lines = rng.sample(s["lyrics_lines"], rng.randint(2, 4))
            if slot == "lyrics" and rng.random() < 0.4:
                lines = ["[verse]"] + lines[:2] + ["[chorus]"] + lines[2:]
            return "\n".join(lines), None
        if slot in ("section", "section2"):
            return rng.choice(s["section"]), ("SECTION" if slot == "section" else None)
        if slot == "instrument":
            return rng.choice(s["instrument"]), "INSTR"
        if slot == "style":
            return rng.choice(s["style"]), "STYLE"
        if slot == "tempo_word":
            return rng.choice(s["tempo_word"]), None
        if slot == "query":
            roll = rng.random()
            if roll < 0.45:
                return rng.choice(s["query"]), "QUERY"
            if roll < 0.8:
                phrase = f"{rng.choice(s['query_adj'])} {rng.choice(s['query_form'])}"
                if rng.random() < 0.3:
                    phrase += f" in {rng.choice(s['tonic'])} {rng.choice(['major', 'minor'])}"
                return phrase, "QUERY"
            return f"{rng.choice(self.words)} {rng.choice(['tunes', 'songs', 'music', 'pieces', 'melodies'])}", "QUERY"
        if slot == "count":
            return rng.choice(s["count"]), None
        if slot == "pprompt":
            roll = rng.random()
            return (rng.choice(s["pprompt"]) if roll < 0.75 else self._topic()), "PROMPT"
        if slot == "minutes":
            pattern, _ = rng.choice(s["minutes"])
            return pattern.format(n=rng.choice([20, 30, 40, 45, 60, 75, 90, 100, 120])), None
        if slot == "title":
            return rng.choice(s["title"]), None
        if slot == "newline":
            return rng.choice(s["newline"]), None
        if slot in ("theory", "theory2"):
            return rng.choice(s["theory"]), None
        if slot == "bars":
            return str(rng.choice([4, 8, 12, 16])), None
        if slot == "gibberish":
            return self._gibberish(), None
        raise KeyError(f"unknown slot {slot!r} in grammar")

    def _gibberish(self) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return "".join(self.rng.choice(string.ascii_lowercase + "  ") for _ in range(self.rng.randint(4, 25))).strip() or "qwz"
        if roll < 0.8:
            return self.rng.choice(["asdf", "qwerty", "lkjh", "zxcv", "?????", "...", "hjkl", "aaaaaa", "123",
                                    "blorp", "fhqwhgads", ":)", "????", "xyzzy"])
        return " ".join(self.rng.choice(self.words) for _ in range(self.rng.randint(2, 4)))

    def _file(self, kind: str) -> str:
        return self.rng.choice(self.slots["files"][kind]).format(n=self._number(1, 99))

    def _artifact_id(self) -> str:
        pattern = self.rng.choice(self.slots["art_ids"])
        return pattern.format(n=self._number(1, 400), h="".join(self.rng.choice("0123456789abcdef") for _ in range(8)))

    # -- conversations -----------------------------------------------------------------------
    def _history(self, music: bool) -> list[Message]:
        """Earlier turns: a song the assistant made (music=True) or an unrelated exchange."""
        if music:
            tool = self.rng.choice(["text_to_song", "text_to_song", "text_to_song", "style_transfer", "edit_song"])
            request = f"make a {self.rng.choice(self.slots['genre_words'])} song about {self._topic()}"
            reply = self.rng.choice(["Here is your song.", "Done: a 2-minute song in A minor at 96 BPM.",
                                     "Here it is, in G major.", "I made it a bit slower, here you go."])
        else:
            tool = self.rng.choice(["find_rhymes", "write_lyrics", "search_music", "make_playlist", "caption_music", None])
            request = self.rng.choice(["what rhymes with blue", "hi", "write lyrics about the sea", "find some jigs",
                                       "make a playlist for running", "describe this"])
            reply = self.rng.choice(["Here you go.", "Hello! What shall we make?", "Here are some ideas."])
        return [Message(role="user", content=request),
                Message(role="assistant", content=reply, tool=tool,
                        artifacts=[self._artifact_id()] if tool else [])]

    def _cased(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.3:
            return text.lower()
        if roll < 0.75 and text:
            return text[0].upper() + text[1:]
        return text

    def example(self, intent: str) -> Example:
        rng = self.rng
        builder = _Builder(rng, self.fill)
        opener = rng.choice(grammar()["openers"])
        builder.emit(opener)
        template = rng.choice(grammar()["intents"][intent])
        builder.expand(template)
        text, spans = builder.result()
        if "\n" not in text:
            text += rng.choice(grammar()["closers"])
        text = self._cased(text)  # same length, so the span offsets still hold
        messages: list[Message] = []
        attachments: list[str] = []
        reference = "none"
        kinds = _SOURCE_KINDS.get(intent)
        lowered = text.lower()
        needs_source = kinds is not None
        if intent == "search_music":
            needs_source = any(marker in lowered for marker in _LIKE_MARKERS)
        if intent == "make_playlist":
            needs_source = any(marker in lowered for marker in _SEED_MARKERS)
        if needs_source:
            roll = rng.random()
            if intent == "video_soundtrack":
                roll = 0.0 if rng.random() < 0.93 else 0.95
            elif intent in ("edit_song", "make_playlist"):
                roll = 0.9 if rng.random() < 0.8 else roll
            if roll < 0.5:
                attachments = [self._file(rng.choice(kinds))]
                reference = "attachment"
                if rng.random() < 0.3:
                    messages = self._history(music=rng.random() < 0.5)
            elif roll < 0.92:
                messages = self._history(music=True)
                reference = "artifact"
            # else: refers to something that does not exist (a bad turn the planner must catch)
        elif rng.random() < 0.25:
            messages = self._history(music=rng.random() < 0.5)
            if rng.random() < 0.15:
                attachments = [self._file(rng.choice(["audio", "midi", "lyrics"]))]
        messages.append(Message(role="user", content=text, attachments=attachments))
        return Example(messages=messages, intent=intent, spans=spans, reference=reference)

    def dataset(self, size: int, weights: dict[str, float] | None = None) -> list[Example]:
        """``size`` examples with intents drawn by weight (default: equal)."""
        intents = list(grammar()["intents"])
        weights = weights or {}
        chosen = self.rng.choices(intents, weights=[weights.get(i, 1.0) for i in intents], k=size)
        return [self.example(intent) for intent in chosen]


def generate(size: int = 4000, seed: int = 0) -> list[Example]:
    """The training set: same size and seed, same examples."""
    weights = {"respond": 1.3, "edit_song": 1.3, "style_transfer": 1.2, "text_to_song": 1.4,
               "write_lyrics>text_to_song": 0.7}
    return Generator(seed).dataset(size, weights)
