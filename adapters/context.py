"""What the planner needs to know about the conversation besides the last sentence.

The encoder sees a compact prefix (previous tool, whether a result exists, attachment kinds) before
the user's words, so "make it faster" after a song routes differently from the same words alone.
The same function builds the prefix at training and at inference time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from agent.plan import Message

# Attachment kinds by file extension: what the tools can take, and what they cannot.
_KINDS = {
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".aif", ".aiff", ".opus"},
    "midi": {".mid", ".midi", ".kar"},
    "score": {".xml", ".musicxml", ".mxl", ".abc", ".krn"},
    "video": {".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"},
    "lyrics": {".txt", ".lrc", ".md"},
}
MUSIC_KINDS = ("audio", "midi", "score")
_ARTIFACT_ID = re.compile(r"\b((?:song|art|mix|lyrics|playlist|caption|audio|midi|score|video)-[\w-]+)\b")
# Tools whose artifacts are music a later turn can edit, describe, restyle or seed a playlist with.
MUSIC_TOOLS = {"text_to_song", "style_transfer", "edit_song", "video_soundtrack"}


def attachment_kind(path: str) -> str:
    """audio | midi | score | video | lyrics | other (a file no tool takes)."""
    suffix = PurePath(path).suffix.lower()
    for kind, suffixes in _KINDS.items():
        if suffix in suffixes:
            return kind
    return "other"


@dataclass
class Context:
    """The facts about a conversation that the planner's decisions depend on."""

    text: str
    attachments: list[str] = field(default_factory=list)
    previous_tool: str | None = None
    last_artifact: str | None = None
    last_music_artifact: str | None = None
    known_artifacts: list[str] = field(default_factory=list)
    earlier_attachments: list[str] = field(default_factory=list)

    @property
    def attachment_kinds(self) -> list[str]:
        return [attachment_kind(path) for path in self.attachments]

    def first_attachment(self, kinds: tuple[str, ...]) -> str | None:
        for path in self.attachments:
            if attachment_kind(path) in kinds:
                return path
        return None

    def prefix(self) -> str:
        """The compact context line the encoder reads before the user's words."""
        parts = [f"after {self.previous_tool.replace('_', ' ')}" if self.previous_tool else "new chat"]
        if self.last_music_artifact:
            parts.append("song exists")
        elif self.last_artifact:
            parts.append("result exists")
        if self.attachments:
            parts.append("attached " + " ".join(sorted(set(self.attachment_kinds))))
        return " ; ".join(parts)


def encoder_text(context: Context) -> tuple[str, int]:
    """The encoder input and the character offset where the user's words start in it."""
    prefix = context.prefix() + " | "
    return prefix + context.text, len(prefix)


def read_context(messages: list[Message]) -> Context:
    """Collect the last user turn and what came before it."""
    last_user = None
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            last_user = index
            break
    if last_user is None:
        return Context(text="")
    current = messages[last_user]
    context = Context(text=current.content or "", attachments=list(current.attachments))
    for message in messages[:last_user]:
        if message.role == "assistant":
            if message.tool:
                context.previous_tool = message.tool
            for artifact in message.artifacts:
                context.known_artifacts.append(artifact)
                context.last_artifact = artifact
                if message.tool in MUSIC_TOOLS or message.tool is None:
                    context.last_music_artifact = artifact
        elif message.role == "user":
            context.earlier_attachments.extend(message.attachments)
    return context


def mentioned_artifact(text: str) -> str | None:
    """An artifact id written in the message ("describe song-12")."""
    match = _ARTIFACT_ID.search(text)
    return match.group(1) if match else None
