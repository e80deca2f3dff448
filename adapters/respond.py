"""Replies for turns that need no tool: greetings, help, capabilities, short theory answers, and
turns the planner cannot act on (empty, only a file, gibberish, a file no tool takes, a song that
does not exist). The texts live in ``data/knowledge.json``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "knowledge.json"


@lru_cache(maxsize=1)
def knowledge() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def theory_answer(text: str) -> str | None:
    """The knowledge-base answer whose term appears in the text (longest term wins)."""
    low = text.lower()
    best: tuple[int, str] | None = None
    for entry in knowledge()["theory"]:
        for term in entry["terms"]:
            if re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", low):
                if best is None or len(term) > best[0]:
                    best = (len(term), entry["answer"])
    return best[1] if best else None


_COUNT_WORDS = {"no": 0, "zero": 0, "one": 1, "a": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7}
_COUNT = "(" + "|".join(sorted(_COUNT_WORDS, key=len, reverse=True)) + "|[0-7])"  # "a single" before "a"
# "what key has three sharps?", "which keys use 2 flats", "key with one flat"
_KEY_FROM_SIGNATURE = re.compile(rf"\bkeys?\b.*?\b(?:has|have|uses?|with|of)\s+(?:got\s+|only\s+|just\s+)?{_COUNT}\s+(sharps?|flats?)\b", re.I)
# "how many sharps are in E major?", "how many flats does Bb minor have", "key signature of D major"
_KEY_NAME = r"\b([a-g])(?:\s*(#|♯|b|♭|-sharp|-flat| sharp| flat))?(?:\s*(major|minor|m))?(?![a-z#♯♭])"
_SIGNATURE_OF_KEY = re.compile(rf"(?:how many (?:sharps|flats|accidentals)\b.*?\b|key signature (?:of|for|in)\s+)"
                               rf"(?:in\s+|of\s+|does\s+|has\s+)?{_KEY_NAME}", re.I)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven")


def _signature_phrase(row: dict) -> str:
    count = abs(row["sharps"])
    if count == 0:
        return "no sharps or flats"
    kind = "sharp" if row["sharps"] > 0 else "flat"
    return f"{_NUMBER_WORDS[count]} {kind}{'s' if count > 1 else ''} ({', '.join(row['accidentals'])})"


def key_signature_answer(text: str) -> str | None:
    """Key signatures looked up both ways in the knowledge file's table, or None."""
    table = knowledge()["key_signatures"]["table"]
    asked = _KEY_FROM_SIGNATURE.search(text)
    if asked:
        count = asked.group(1).lower()
        number = int(count) if count.isdigit() else _COUNT_WORDS[count]
        sharps = number if asked.group(2).lower().startswith("sharp") or number == 0 else -number
        row = next(r for r in table if r["sharps"] == sharps)
        phrase = _signature_phrase(row)
        return f"{phrase[0].upper()}{phrase[1:]}: {row['major']} and its relative minor, {row['minor']}."
    named = _SIGNATURE_OF_KEY.search(text)
    if named:
        letter, accidental, mode = named.group(1).upper(), (named.group(2) or "").strip(" -").lower(), named.group(3)
        accidental = {"#": "#", "♯": "#", "sharp": "#", "b": "b", "♭": "b", "flat": "b"}.get(accidental, "")
        mode = "minor" if mode and mode.lower() in ("minor", "m") else "major"
        name = f"{letter}{accidental} {mode}"
        row = next((r for r in table if r[mode] == name), None)
        if row is None:
            return f"{name} is not written with a key signature of its own; its notes are usually spelled enharmonically."
        return f"{name} has {_signature_phrase(row)}; its relative {'minor' if mode == 'major' else 'major'} is " \
               f"{row['minor' if mode == 'major' else 'major']}."
    return None


_GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon|evening))\b", re.I)
_THANKS = re.compile(r"\b(thanks|thank you|cheers|great job|nice|cool|awesome|love it|perfect)\b", re.I)
_BYE = re.compile(r"\b(bye|goodbye|see you|good night|later)\b", re.I)
_CAPABILITIES = re.compile(r"\b(what (kinds?|types?|sorts?) of|which (genres?|styles?)|what (genres?|styles?)|"
                           r"what can you|what do you do|who are you|what are you|features)\b", re.I)
_HELP = re.compile(r"\b(help|how does this work|how do i use|what can i (ask|say))\b", re.I)
_QUESTION = re.compile(r"\b(what|what's|whats|explain|define|how does|how do|difference|tell me about)\b", re.I)


_SOCIAL = (r"hi|hello|hey|thanks|thank you|thx|ty|cheers|love it|love this|great|nice|cool|awesome|perfect|lovely|"
           r"amazing|brilliant|wow|sounds good|this is great|that's (?:great|perfect|awesome|lovely|amazing)|"
           r"good job|great job|well done|bye|goodbye|see you|ok|okay|so much|very much|really|you|again")
_SOCIAL_ONLY = re.compile(rf"^\W*(?:(?:{_SOCIAL})\b[\W]*)+$", re.I)


def is_social(text: str) -> bool:
    """True for turns made only of greetings, thanks and the like ("love it, thank you!")."""
    return bool(text.strip()) and bool(_SOCIAL_ONLY.match(text.strip()))


def reply_for(text: str) -> tuple[str, str]:
    """(kind, reply) for a no-tool turn."""
    kb = knowledge()
    if _CAPABILITIES.search(text):
        return "capabilities", kb["capabilities"]
    if _HELP.search(text):
        return "help", kb["help"]
    signature = key_signature_answer(text)
    if signature:
        return "theory", signature
    if _QUESTION.search(text):
        answer = theory_answer(text)
        if answer:
            return "theory", answer
    if _GREETING.search(text):
        return "greeting", kb["greeting"]
    if _BYE.search(text):
        return "goodbye", kb["goodbye"]
    if _THANKS.search(text):
        return "thanks", kb["thanks"]
    answer = theory_answer(text)
    if answer:
        return "theory", answer
    if re.fullmatch(r"\W*(ok|okay|hmm+|sure|yes|no|maybe|never ?mind|wait|fine)\W*", text, flags=re.I):
        return "ack", kb["ack"]
    return "unclear", kb["unclear"]


def message(name: str, **values: str) -> str:
    """A fixed message from the knowledge file, filled in."""
    return knowledge()[name].format(**values)


def looks_like_gibberish(text: str) -> bool:
    """True when too few of the words are English (wordfreq) or it has no letters at all."""
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return True
    from wordfreq import zipf_frequency

    known = sum(1 for w in words if zipf_frequency(w.lower(), "en") >= 2.5 or len(w) <= 2 and w.lower() in
                {"a", "i", "an", "in", "on", "to", "of", "it", "is", "me", "my", "do", "so", "ok", "up"})
    return known / len(words) < 0.5
