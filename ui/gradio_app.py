"""The Gradio chat: type or attach, watch the musical thought and progress, listen, look, download.

Built as `gr.Blocks` over the same `Agent` as the API. Every turn is persisted by the agent, so the
session list survives restarts and any session can be reopened. Nothing is fetched from outside:
analytics are off and files are served only from the UI export folder inside the data dir.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

from agent.replies import main_files
from agent.runtime import Agent
from agent.session import Upload
from tools.config import Settings
from tools.music.errors import TunesmithError

EXAMPLES = [
    "make a short happy pop song about coffee",
    "write a slow melancholy folk song about the sea, 30 seconds, male voice",
    "a bossa nova instrumental, 20 seconds",
    "find rhymes for 'heart'",
]
FILE_TYPES = [".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mid", ".midi", ".musicxml", ".xml", ".mxl", ".abc",
              ".mp4", ".mov", ".webm", ".mkv", ".txt", ".lrc"]
DOWNLOADABLE = (".mp3", ".wav", ".mid", ".musicxml", ".lrc", ".m3u8", ".mp4", ".json", ".txt", ".abc")
CSS = """
#ts-title h1 {margin-bottom: 0}
.ts-small {font-size: 0.9em; color: #555}
"""


class UiState:
    """Maps stored artifacts to what the page shows, exporting files under readable names."""

    def __init__(self, agent: Agent, settings: Settings) -> None:
        self.agent = agent
        self.export_root = settings.cache_dir / "ui"
        self.export_root.mkdir(parents=True, exist_ok=True)

    def export(self, artifact_id: str, name: str) -> str:
        """A copy of one stored file at ui/<artifact>/<name> (Gradio serves only this folder)."""
        target = self.export_root / artifact_id / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.agent.store.file_of(artifact_id, name), target)
        return str(target)

    def media(self, artifact_id: str | None) -> dict[str, Any]:
        """Players, downloads and pictures for one artifact (empty values when there is none)."""
        import gradio as gr

        from ui import visuals

        empty = {"mix": None, "vocals": None, "accompaniment": None, "downloads": None, "piano": None,
                 "wave": None, "chords": "", "table": gr.update(visible=False), "timeline": None}
        if artifact_id is None:
            return empty
        store = self.agent.store
        record = store.get_artifact(artifact_id)
        files = list(record.files)
        out = dict(empty)
        mix = next((n for n in ("song.mp3", "song.wav", "mix.mp3", "mix.wav") if n in files), None)
        mix = mix or next((n for n in files if n.endswith((".mp3", ".wav", ".flac", ".ogg"))), None)
        if mix:
            out["mix"] = self.export(artifact_id, mix)
        if "vocals.wav" in files:
            out["vocals"] = self.export(artifact_id, "vocals.wav")
        if "accompaniment.wav" in files:
            out["accompaniment"] = self.export(artifact_id, "accompaniment.wav")
        downloads = [self.export(artifact_id, n) for n in main_files(files) if n.endswith(DOWNLOADABLE)]
        out["downloads"] = downloads or None
        pictures = self.export_root / artifact_id
        pictures.mkdir(parents=True, exist_ok=True)
        song = store.song_of(artifact_id) if record.has_song else None
        if song is not None:
            roll = pictures / "_piano_roll.png"
            out["piano"] = str(roll if roll.exists() else visuals.piano_roll(song, roll))
            out["chords"] = visuals.chord_chart(song)
        wav = next((n for n in ("song.wav", "mix.wav") if n in files), None) or (mix if mix and mix.endswith(".wav") else None)
        if wav:
            picture = pictures / "_waveform.png"
            out["wave"] = str(picture if picture.exists() else visuals.waveform(store.file_of(artifact_id, wav), picture))
        table = visuals.table_rows(record.data)
        if table:
            out["table"] = gr.update(visible=True, headers=table[0], value=table[1])
        timeline = visuals.cut_timeline(record.data, pictures / "_timeline.png")
        if timeline:
            out["timeline"] = str(timeline)
        return out

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """The chat as Gradio messages, with an audio player under each reply that made audio."""
        store = self.agent.store
        messages: list[dict[str, Any]] = []
        for record in store.messages(session_id):
            if record.role not in ("user", "assistant"):
                continue
            messages.append({"role": record.role, "content": record.content or "(attachment)"})
            if record.role == "assistant" and not record.extra.get("command"):
                for artifact_id in record.artifacts:
                    player = self.player(artifact_id)
                    if player:
                        messages.append(player)
        return messages

    def player(self, artifact_id: str) -> dict[str, Any] | None:
        try:
            files = self.agent.store.get_artifact(artifact_id).files
        except TunesmithError:
            return None
        name = next((n for n in ("song.mp3", "song.wav") if n in files), None)
        name = name or next((n for n in files if n.endswith((".mp3", ".wav"))), None)
        if name is None:
            return None
        return {"role": "assistant", "content": {"path": self.export(artifact_id, name)}}

    def session_choices(self) -> list[tuple[str, str]]:
        return [(f"{s.title} · {s.id[-6:]}", s.id) for s in self.agent.store.list_sessions(limit=50)]


def _thought_markdown(thought: dict[str, Any]) -> str:
    lines = [f"**Intent:** {thought.get('intent', '')}"]
    if thought.get("summary"):
        lines.append(thought["summary"])
    attributes = thought.get("attributes") or {}
    shown = {k: v for k, v in attributes.items() if k != "revises"}
    if shown:
        lines.append("**Heard:** " + ", ".join(f"{k}: {v}" for k, v in shown.items()))
    outline = thought.get("outline")
    if outline:
        lines.append(f"**Outline:** {outline.get('style')} in {outline.get('key')}, {outline.get('tempo_bpm'):g} BPM, "
                     f"{outline.get('meter')}, about {outline.get('duration_s')} s, vocals: {outline.get('vocals')}")
        lines.append("**Form:** " + " → ".join(outline.get("form", [])))
        for section in outline.get("sections", []):
            lines.append(f"*{section['name']}* ({section['bars']} bars): `{' | '.join(section['chords'])}`")
        lines.append("**Instruments:** " + ", ".join(f"{k} (GM {v})" for k, v in outline.get("instrumentation", {}).items()))
    return "\n\n".join(lines)


def build_blocks(agent: Agent, settings: Settings):
    """The chat page."""
    import gradio as gr

    ui = UiState(agent, settings)

    with gr.Blocks(title="Tunesmith", analytics_enabled=False, fill_width=True) as demo:
        session_state = gr.State(None)
        gr.Markdown("# Tunesmith\nA music agent on your CPU: ask for a song, attach a tune to restyle or describe, "
                    "ask for rhymes or a playlist.", elem_id="ts-title")
        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                new_button = gr.Button("New session", variant="secondary", elem_id="ts-new")
                sessions = gr.Dropdown(label="Sessions", choices=[], value=None, interactive=True, elem_id="ts-sessions")
                gr.Markdown("Version commands: *undo*, *go back to version 2*, *compare v1 and v2*, *versions*.",
                            elem_classes=["ts-small"])
            with gr.Column(scale=4):
                chatbot = gr.Chatbot(label="Chat", height=460, elem_id="ts-chat", buttons=["copy"])
                box = gr.MultimodalTextbox(placeholder="Ask for a song, or attach audio, MIDI, MusicXML, ABC, video or lyrics…",
                                           file_types=FILE_TYPES, file_count="multiple",
                                           sources=["upload", "microphone"], elem_id="ts-input", autofocus=True)
                gr.Examples(examples=[{"text": e, "files": []} for e in EXAMPLES], inputs=box, label="Try")
                with gr.Accordion("Musical thought", open=False, elem_id="ts-thought"):
                    thought_md = gr.Markdown("The plan appears here before anything renders.")
                    outline_code = gr.Code(label="Outline (editable JSON blueprint)", language="json", interactive=True,
                                           max_lines=24, elem_id="ts-outline")
                    rerender_button = gr.Button("Re-render with this outline", elem_id="ts-rerender")
                with gr.Row():
                    mix = gr.Audio(label="Mix", type="filepath", interactive=False, elem_id="ts-mix")
                with gr.Accordion("Stems", open=False):
                    with gr.Row():
                        vocals = gr.Audio(label="Vocals", type="filepath", interactive=False)
                        accompaniment = gr.Audio(label="Accompaniment", type="filepath", interactive=False)
                downloads = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="ts-downloads")
                with gr.Tab("Piano roll"):
                    piano = gr.Image(label="Piano roll with lyrics and chords", type="filepath", interactive=False)
                with gr.Tab("Waveform"):
                    wave = gr.Image(label="Waveform", type="filepath", interactive=False)
                with gr.Tab("Chord chart"):
                    chords = gr.Markdown()
                with gr.Tab("Playlist / results"):
                    table = gr.Dataframe(visible=False, interactive=False, wrap=True)
                with gr.Tab("Video timeline"):
                    timeline = gr.Image(label="Cuts and beats", type="filepath", interactive=False)

        media_outputs = [mix, vocals, accompaniment, downloads, piano, wave, chords, table, timeline]
        media_keys = ["mix", "vocals", "accompaniment", "downloads", "piano", "wave", "chords", "table", "timeline"]

        def media_values(artifact_id: str | None) -> list[Any]:
            values = ui.media(artifact_id)
            return [values[k] for k in media_keys]

        def skip_media() -> list[Any]:
            return [gr.skip()] * len(media_outputs)

        def run_turn(events: Iterator, session_id: str, history: list[dict[str, Any]], clear_box: Any):
            """Shared by chat turns and re-renders: stream events into the chat and the panels."""
            history.append({"role": "assistant", "content": "…"})
            thought_value: Any = gr.skip()
            outline_value: Any = gr.skip()
            made: list[str] = []
            yield [history, session_id, gr.skip(), thought_value, outline_value, *skip_media(), clear_box]
            for event in events:
                if event.type == "thought":
                    thought = event.data["thought"]
                    thought_value = _thought_markdown(thought)
                    outline = thought.get("outline") or {}
                    outline_value = json.dumps(outline.get("blueprint", outline), indent=2) if outline else gr.skip()
                    history[-1]["content"] = f"💭 {event.text or 'Planning…'}"
                elif event.type == "progress":
                    fraction = event.data.get("fraction", 0.0)
                    history[-1]["content"] = f"⏳ {event.text} ({fraction:.0%})"
                elif event.type == "tool_started":
                    history[-1]["content"] = f"⏳ {event.text}…"
                elif event.type == "tool_finished":
                    made.append(event.data["artifact"]["id"])
                elif event.type == "reply":
                    history[-1]["content"] = event.text
                    for artifact_id in made:
                        player = ui.player(artifact_id)
                        if player:
                            history.append(player)
                else:
                    continue
                yield [history, session_id, gr.skip(), thought_value, outline_value, *skip_media(), gr.skip()]
            current = agent.store.get_session(session_id).current_song
            shown = made[-1] if made else current
            choices = ui.session_choices()
            yield [history, session_id, gr.update(choices=choices, value=session_id), thought_value, outline_value,
                   *media_values(shown), gr.skip()]

        def on_submit(value: dict[str, Any] | None, session_id: str | None, history: list[dict[str, Any]] | None):
            value = value or {}
            text = (value.get("text") or "").strip()
            files = [f if isinstance(f, str) else f.get("path") for f in value.get("files") or []]
            history = list(history or [])
            if not text and not files:
                yield [history, session_id, gr.skip(), gr.skip(), gr.skip(), *skip_media(), gr.skip()]
                return
            if not session_id:
                session_id = agent.sessions.create().id
            for path in files:
                history.append({"role": "user", "content": {"path": path}})
            if text:
                history.append({"role": "user", "content": text})
            uploads = [Upload(name=Path(p).name, path=Path(p)) for p in files]
            yield from run_turn(agent.respond(session_id, text, uploads), session_id, history,
                                {"text": "", "files": []})

        def on_rerender(outline_json: str, session_id: str | None, history: list[dict[str, Any]] | None):
            history = list(history or [])
            if not session_id:
                gr.Warning("Make a song first; then edit its outline.")
                yield [history, session_id, gr.skip(), gr.skip(), gr.skip(), *skip_media(), gr.skip()]
                return
            try:
                blueprint = json.loads(outline_json or "")
                if not isinstance(blueprint, dict):
                    raise ValueError("the outline must be a JSON object")
            except ValueError as error:
                gr.Warning(f"The outline is not valid JSON: {error}")
                yield [history, session_id, gr.skip(), gr.skip(), gr.skip(), *skip_media(), gr.skip()]
                return
            history.append({"role": "user", "content": "(re-render the edited outline)"})
            yield from run_turn(agent.rerender(session_id, blueprint), session_id, history, gr.skip())

        turn_outputs = [chatbot, session_state, sessions, thought_md, outline_code, *media_outputs, box]
        box.submit(on_submit, [box, session_state, chatbot], turn_outputs, show_progress="minimal")
        rerender_button.click(on_rerender, [outline_code, session_state, chatbot], turn_outputs)

        def on_select(session_id: str | None):
            if not session_id:
                return [[], None, "", "", *media_values(None)]
            try:
                record = agent.store.get_session(session_id)
            except TunesmithError as error:
                gr.Warning(str(error))
                return [[], None, "", "", *media_values(None)]
            thought = next((m.extra.get("thought") for m in reversed(agent.store.messages(session_id))
                            if m.extra.get("thought")), None)
            outline = (thought or {}).get("outline") or {}
            return [ui.history(session_id), session_id, _thought_markdown(thought) if thought else "",
                    json.dumps(outline.get("blueprint", outline), indent=2) if outline else "",
                    *media_values(record.current_song)]

        sessions.input(on_select, sessions, [chatbot, session_state, thought_md, outline_code, *media_outputs])

        def on_new():
            return [[], None, gr.update(choices=ui.session_choices(), value=None), "", "", *media_values(None)]

        new_button.click(on_new, None, [chatbot, session_state, sessions, thought_md, outline_code, *media_outputs])
        demo.load(lambda: gr.update(choices=ui.session_choices()), None, sessions)
    return demo
