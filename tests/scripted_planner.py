"""A scripted planner over the real tools, for interface tests until adapters/ ships one.

Loaded by spec ``python:tests.scripted_planner:ScriptedSongPlanner`` (agent/factory.py), so a
server started in a subprocess plans without the trained model. Not product code.
"""

from __future__ import annotations

import re

from agent.plan import Message, MusicalThought, Plan, ToolCall


class ScriptedSongPlanner:
    """"make … song about X" → text_to_song (15 s); "make it faster" → a faster re-render of the current song."""

    def plan(self, messages: list[Message]) -> Plan:
        text = messages[-1].content.strip()
        lowered = text.lower()
        first_request = next((m.content for m in messages if m.role == "user" and "song" in m.content.lower()), text)
        if "faster" in lowered:
            tempo = 150 + 10 * sum(1 for m in messages if m.role == "user" and "faster" in m.content.lower())
            return Plan(thought=MusicalThought(intent="text_to_song", summary=f"The same song, faster: {tempo} BPM.",
                                               attributes={"tempo_bpm": tempo, "revises": "$current"}),
                        calls=[ToolCall(id="c1", tool="text_to_song",
                                        args={"prompt": first_request, "duration_s": 15, "tempo_bpm": tempo})])
        if "song" in lowered:
            genre = next((g for g in ("pop", "folk", "rock", "jazz") if g in lowered), None)
            mood = next((m for m in ("happy", "sad", "calm") if m in lowered), None)
            args = {"prompt": text, "duration_s": 15}
            if genre:
                args["genre"] = genre
            if mood:
                args["mood"] = mood
            return Plan(thought=MusicalThought(intent="text_to_song", summary="A short song, outlined first.",
                                               attributes={k: v for k, v in args.items() if k in ("genre", "mood")}),
                        calls=[ToolCall(id="c1", tool="text_to_song", args=args)])
        if re.search(r"\bbroken\b", lowered):
            return Plan(thought=MusicalThought(intent="text_to_song"),
                        calls=[ToolCall(id="c1", tool="text_to_song", args={"tempo_bpm": 5})])
        return Plan(thought=MusicalThought(intent="respond"), reply="Hello! Ask me for a song.")
