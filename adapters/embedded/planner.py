"""The embedded planner: read the conversation, think (intent + musical attributes), route to tools.

One MiniLM forward pass per turn gives the intent, the reference (attachment or earlier result)
and the argument spans; ``adapters.arguments`` turns those into canonical tool arguments, and
``adapters.respond`` answers turns that need no tool or cannot be acted on.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from adapters import arguments as build
from adapters import respond
from adapters.normalize import caption_focus
from adapters.context import Context, attachment_kind, encoder_text, read_context
from adapters.embedded import model as net_io
from agent.plan import Message, MusicalThought, Plan, ToolCall

CHAIN = "write_lyrics>text_to_song"
# below this intent probability an unclear-looking turn is answered with a question, not a tool
MIN_CONFIDENCE = 0.45

_SUMMARIES = {
    "text_to_song": "Compose and sing a song{about}{detail}.",
    "write_lyrics": "Write lyrics{about}.",
    "find_rhymes": "Find rhymes for '{word}'.",
    "analyze_lyrics": "Analyse the lyrics: rhyme scheme, syllables, meter.",
    "style_transfer": "Restyle {source}{style}.",
    "edit_song": "Edit {source}: {instruction}",
    "caption_music": "Describe {source}: key, tempo, instruments, mood.",
    "search_music": "Search the catalogue{query}.",
    "make_playlist": "Build a playlist{prompt}.",
    "video_soundtrack": "{mode} music for {video}.",
    CHAIN: "Write lyrics{about}, then sing them as a song{detail}.",
}


def _spans(tags: list[str], offsets: list[tuple[int, int]], text: str, start: int) -> dict[str, list[str]]:
    """Decode BIO tags into the user's text (characters before ``start`` are the context prefix)."""
    found: dict[str, list[str]] = {}
    current: tuple[str, int, int] | None = None

    def close() -> None:
        if current:
            label, s, e = current
            # snap to whole words: a span may start or end inside a word piece ("lul|##lab|##ies")
            while s > start and (text[s - 1].isalnum() or text[s - 1] == "'"):
                s -= 1
            while e < len(text) and (text[e].isalnum() or text[e] == "'"):
                e += 1
            found.setdefault(label, []).append(text[s:e])

    for tag, (s, e) in zip(tags, offsets):
        if e == 0 or s < start:
            continue
        if tag.startswith("B-") or (tag.startswith("I-") and (current is None or current[0] != tag[2:])):
            close()
            current = (tag[2:], s, e)
        elif tag.startswith("I-") and current:
            current = (current[0], current[1], e)
        else:
            close()
            current = None
    close()
    return found


class EmbeddedPlanner:
    """Planner backed by the shipped LoRA adapter on the packaged MiniLM."""

    def __init__(self, weights_dir: Path | None = None, base: str | None = None) -> None:
        import torch

        self.net, self.tokenizer, self.labels = net_io.load(weights_dir or net_io.WEIGHTS_DIR, base)
        self._torch = torch
        self._lock = threading.Lock()

    # -- model ------------------------------------------------------------------------------
    def read(self, context: Context) -> build.Reading:
        text, start = encoder_text(context)
        encoded = self.tokenizer(text, truncation=True, max_length=net_io.MAX_TOKENS,
                                 return_offsets_mapping=True, return_tensors="pt")
        with self._lock, self._torch.inference_mode():
            intent_logits, reference_logits, tag_logits = self.net(encoded["input_ids"], encoded["attention_mask"])
        probabilities = intent_logits[0].softmax(-1)
        best = int(probabilities.argmax())
        tags = [self.labels.tags[i] for i in tag_logits[0].argmax(-1).tolist()]
        offsets = [tuple(pair) for pair in encoded["offset_mapping"][0].tolist()]
        return build.Reading(intent=self.labels.intents[best], confidence=float(probabilities[best]),
                             reference=self.labels.references[int(reference_logits[0].argmax())],
                             spans=_spans(tags, offsets, text, start))

    def embed(self, phrases: list[str]):
        """Mean-pooled, normalised sentence embeddings from the untuned MiniLM.

        The routing encoder's LoRA bends its space toward intents, so similarity uses the base
        model, loaded on first use (≈0.2 s) only by turns that need it.
        """
        if not hasattr(self, "_base_encoder"):
            from adapters.embedded.encoder import build_encoder

            self._base_encoder = build_encoder(net_io.base_model_path())
        vectors = []
        with self._lock, self._torch.inference_mode():
            for phrase in phrases:
                encoded = self.tokenizer(phrase)
                states = self._base_encoder(encoded["input_ids"], encoded["attention_mask"]).last_hidden_state
                vectors.append(states[0].mean(0))
        stacked = self._torch.stack(vectors)
        return stacked / stacked.norm(dim=-1, keepdim=True)

    def nearest_preset(self, phrase: str) -> tuple[str, float]:
        """The song preset closest to a style phrase by embedding ("jazz trio" → jazz), and the cosine."""
        from adapters.normalize import find_genre, presets

        named = find_genre(phrase)
        if named:
            return named, 1.0
        names = presets()["genres"]
        if not hasattr(self, "_preset_vectors"):
            self._preset_vectors = self.embed([f"{name} music" for name in names])
        scores = self._preset_vectors @ self.embed([f"{phrase} music"])[0]
        best = int(scores.argmax())
        return names[best], float(scores[best])

    # -- planning ---------------------------------------------------------------------------
    def plan(self, messages: list[Message]) -> Plan:
        messages = [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]
        context = read_context(messages)
        early = _bad_turn(context)
        if early:
            return early
        if respond.is_social(context.text) and not context.attachments:
            return _respond_plan(context.text)
        reading = self.read(context)
        if reading.intent == "respond" and asks_about_a_piece(context.text):
            reading = build.Reading(intent="caption_music", confidence=reading.confidence,
                                    reference="attachment" if context.attachments else "artifact")
        if reading.intent == "respond" or (reading.confidence < MIN_CONFIDENCE
                                           and respond.looks_like_gibberish(context.text)):
            return _respond_plan(context.text, reading.confidence)
        if reading.confidence < 0.9 and respond.looks_like_gibberish(context.text):
            return _respond_plan(context.text, reading.confidence)
        try:
            plan = plan_from_reading(context, reading)
        except build.MissingSource as missing:
            return _missing_plan(context, reading, missing)
        style = plan.calls[0].args.get("target_style") if plan.calls else None
        if style:  # the song preset the requested style is closest to, for the restyler
            preset, score = self.nearest_preset(style)
            plan.thought.attributes["preset"] = preset
            plan.thought.attributes["preset_similarity"] = round(score, 3)
        return plan


def plan_from_reading(context: Context, reading: build.Reading) -> Plan:
    """The calls and the thought for a routed turn (shared with the other backends' fallbacks)."""
    if reading.intent == CHAIN:
        lyrics_args = build.write_lyrics(context, reading)
        song_args = build.text_to_song(context, reading)
        song_args.pop("lyrics", None)
        calls = [ToolCall(id="c1", tool="write_lyrics", args=lyrics_args),
                 ToolCall(id="c2", tool="text_to_song", args=song_args, depends_on=["c1"])]
        attributes = {**song_args, **{k: v for k, v in lyrics_args.items() if k != "topic"},
                      "topic": lyrics_args.get("topic")}
    else:
        args = build.BUILDERS[reading.intent](context, reading)
        calls = [ToolCall(id="c1", tool=reading.intent, args=args)]
        attributes = dict(args)
        if reading.first("TOPIC"):
            attributes.setdefault("topic", reading.first("TOPIC"))
    attributes = {k: v for k, v in attributes.items() if v not in (None, "") and k not in ("prompt", "text")}
    thought = MusicalThought(intent=reading.intent, summary=_summary(reading.intent, calls, attributes),
                             attributes=attributes, confidence=round(reading.confidence, 4))
    return Plan(thought=thought, calls=calls)


def _summary(intent: str, calls: list[ToolCall], attributes: dict[str, Any]) -> str:
    args = calls[-1].args if intent != CHAIN else {**calls[0].args, **calls[1].args}
    detail = ", ".join(str(attributes[k]) for k in ("genre", "mood", "key") if attributes.get(k))
    if attributes.get("tempo_bpm"):
        detail += f"{', ' if detail else ''}{attributes['tempo_bpm']} BPM"
    topic = attributes.get("topic")
    values = {
        "about": f" about {topic}" if topic else "",
        "detail": f" ({detail})" if detail else "",
        "word": args.get("word", ""),
        "source": args.get("source", "the song"),
        "style": f" as {args['target_style']}" if args.get("target_style") else "",
        "instruction": args.get("instruction", ""),
        "query": f" for {args['query']}" if args.get("query") else (f" for music like {args['like']}" if args.get("like") else ""),
        "prompt": f" for {args['prompt']}" if args.get("prompt") else "",
        "mode": "Compose" if args.get("mode") == "compose" else "Find",
        "video": args.get("video", "the video"),
    }
    return _SUMMARIES[intent].format(**values)


_A_PIECE = re.compile(r"\b(it|it's|its|this|that|the (?:song|piece|track|tune|file|recording))\b", re.I)


def asks_about_a_piece(text: str) -> bool:
    """"what key is it in?", "how fast is this?": a question about one attribute of a piece the
    turn points at. The network, trained on such questions with a song or file in the
    conversation, calls the bare question "unclear"; it is a caption whose source may be missing
    (then the reply asks for a file or a song). A theory question names no piece ("what is a
    chord progression?") and is not a caption."""
    return caption_focus(text) is not None and bool(_A_PIECE.search(text))


def _respond_plan(text: str, confidence: float = 1.0, kind: str | None = None, reply: str | None = None) -> Plan:
    if reply is None:
        kind, reply = respond.reply_for(text)
    return Plan(thought=MusicalThought(intent="respond", summary=f"No tool needed: {kind}.",
                                       attributes={"reply_kind": kind}, confidence=round(confidence, 4)),
                calls=[], reply=reply)


def _bad_turn(context: Context) -> Plan | None:
    """Empty turns, file-only turns and files no tool can take: ask or explain before routing."""
    unsupported = [p for p in context.attachments if attachment_kind(p) == "other"]
    if unsupported:
        names = ", ".join(Path(p).name for p in unsupported)
        return _respond_plan(context.text, kind="unsupported_file",
                             reply=respond.message("unsupported_file", names=names))
    if context.text.strip():
        return None
    if context.attachments:
        kinds = sorted({attachment_kind(p) for p in context.attachments})
        hint = ", or score the video" if "video" in kinds else ""
        return _respond_plan("", kind="attachment_only",
                             reply=respond.message("attachment_only", kinds="/".join(kinds),
                                                   names=", ".join(Path(p).name for p in context.attachments),
                                                   video_hint=hint))
    return _respond_plan("", kind="empty", reply=respond.message("empty"))


def _missing_plan(context: Context, reading: build.Reading, missing: build.MissingSource) -> Plan:
    if missing.what == "artifact":
        known = ", ".join(context.known_artifacts) or "none yet"
        reply = respond.message("missing_artifact", mentioned=missing.mentioned or "that", known=known)
    elif missing.what == "video":
        reply = respond.message("missing_video")
    else:
        reply = respond.message("missing_music")
    thought = MusicalThought(intent=reading.intent, summary=f"Cannot {reading.intent.replace('_', ' ')} yet: "
                                                           f"nothing to work on.",
                             attributes={"missing": missing.what}, confidence=round(reading.confidence, 4))
    return Plan(thought=thought, calls=[], reply=reply)
