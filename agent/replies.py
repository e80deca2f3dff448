"""The assistant's words after a turn: what was made, what failed, what to try next.

Kept apart from the runtime so every interface (chat, API, terminal) says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.plan import Plan

NEXT_STEPS = {
    "song": "Say “make it faster”, “undo” or “compare v1 and v2”, or edit the outline and re-render.",
    "lyrics": "Ask me to sing them, or to change a line.",
    "playlist": "Ask for more like one of them, or a different mood.",
}
FILE_ORDER = ("song.mp3", "song.wav", "song.mid", "song.musicxml", "lyrics.lrc")


@dataclass
class Outcome:
    """One executed call as the reply sees it."""

    call_id: str
    tool: str
    artifact_id: str | None
    kind: str
    summary: str
    files: list[str]
    version: int | None = None


@dataclass
class Failure:
    call_id: str
    tool: str
    message: str


def compose_reply(plan: Plan, outcomes: list[Outcome], failures: list[Failure]) -> str:
    """One reply for the whole turn, in the order the calls ran."""
    if not outcomes and not failures:
        return plan.reply or plan.thought.summary or "I'm not sure what to make of that. Try “make a short happy pop song about coffee”."
    parts: list[str] = []
    for outcome in outcomes:
        head = f"Version {outcome.version}: " if outcome.version and outcome.version > 1 else ""
        parts.append(f"{head}{outcome.summary}")
    for failure in failures:
        parts.append(f"{failure.tool} did not work: {failure.message}")
    if outcomes:
        kinds = [o.kind for o in outcomes]
        hint = NEXT_STEPS.get(kinds[-1])
        if hint:
            parts.append(hint)
    elif failures:
        parts.append("Nothing earlier was lost; you can rephrase or try again.")
    if plan.reply and outcomes:
        parts.insert(0, plan.reply)
    return "\n\n".join(parts)


def main_files(files: list[str]) -> list[str]:
    """The files worth showing first (mix, MIDI, score, lyrics), then the rest."""
    first = [name for name in FILE_ORDER if name in files]
    return first + [name for name in files if name not in first]
