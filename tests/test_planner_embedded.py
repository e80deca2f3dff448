"""The shipped embedded planner on sentences it never trained on, plus bad turns and references."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adapters.embedded.model import CONFIG_FILE, WEIGHTS_DIR, WEIGHTS_FILE
from adapters.training.evaluate import evaluate, load_cases
from agent.plan import Message

ROOT = Path(__file__).resolve().parent.parent
OWN_DEV = ROOT / "tests" / "data" / "planner_dev_own.jsonl"
# the team's shared eval set lives next to the checkout; a clone elsewhere names it by env var
SHARED_DEV = Path(os.environ.get("TUNESMITH_PLANNER_EVAL", ROOT.parent / "shared" / "evals" / "planner_dev.jsonl"))


@pytest.fixture(scope="module")
def planner():
    from adapters.factory import make_planner

    return make_planner("embedded")


def _user(text: str, attachments: list[str] | None = None) -> Message:
    return Message(role="user", content=text, attachments=attachments or [])


SONG = [_user("make a rock song about thunder"),
        Message(role="assistant", content="Here it is.", tool="text_to_song", artifacts=["song-7"])]


def test_shipped_adapter_is_small_and_packaged():
    weights = WEIGHTS_DIR / WEIGHTS_FILE
    assert weights.is_file() and weights.stat().st_size < 600_000
    labels = json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text())
    assert "respond" in labels["intents"] and "B-TOPIC" in labels["tags"]


@pytest.mark.parametrize("path", [OWN_DEV, SHARED_DEV], ids=["own", "shared"])
def test_dev_sets_routing_and_arguments(planner, path):
    if not path.is_file():
        pytest.skip(f"{path} is not here (set TUNESMITH_PLANNER_EVAL to the shared planner_dev.jsonl)")
    cases = load_cases(path)
    assert len(cases) >= (150 if path == OWN_DEV else 30)
    report = evaluate(planner, cases)
    failures = "\n".join(json.dumps(f) for f in report.failures)
    assert report.routing_accuracy >= 0.97, failures
    assert report.argument_accuracy >= 0.90, failures


@pytest.mark.parametrize("messages, reply_kind", [
    ([_user("")], "empty"),
    ([_user("   ", ["take.wav"])], "attachment_only"),
    ([_user("describe this", ["scan.pdf"])], "unsupported_file"),
    ([_user("qzxv plorkt wub wub fnarg")], "unclear"),
])
def test_bad_turns_get_an_answer_not_a_call(planner, messages, reply_kind):
    plan = planner.plan(messages)
    assert plan.calls == [] and plan.reply
    assert plan.thought.attributes.get("reply_kind") == reply_kind


def test_reference_to_a_missing_song_asks(planner):
    plan = planner.plan([_user("make it faster")])
    assert plan.calls == [] and "song" in plan.reply.lower()
    plan = planner.plan(SONG + [_user("describe song-99")])
    assert plan.calls == [] and "song-99" in plan.reply and "song-7" in plan.reply
    plan = planner.plan([_user("score this clip for me")])
    assert plan.calls == [] and "video" in plan.reply.lower()


def test_follow_ups_resolve_to_the_last_song(planner):
    plan = planner.plan(SONG + [_user("make it faster")])
    assert plan.calls[0].tool == "edit_song" and plan.calls[0].args["source"] == "song-7"
    plan = planner.plan(SONG + [_user("describe it", ["other.mid"])])
    assert plan.calls[0].tool == "caption_music"
    assert plan.calls[0].args["source"] in ("other.mid", "song-7")


def test_a_question_about_the_song_names_its_focus(planner):
    asked = {"which key is the song in?": "key", "how fast does it go?": "tempo", "can you list its chords": "chords",
             "describe it": None}
    for text, focus in asked.items():
        plan = planner.plan(SONG + [_user(text)])
        assert plan.calls[0].tool == "caption_music" and plan.calls[0].args["source"] == "song-7", text
        assert plan.calls[0].args.get("focus") == focus, text


def test_a_question_about_a_piece_with_no_piece_asks_for_one(planner):
    for text in ("what key is it in?", "how fast is this?"):
        plan = planner.plan([_user(text)])  # the network alone calls these "unclear"
        assert plan.calls == [] and plan.thought.intent == "caption_music", text
        assert "file" in plan.reply and "song" in plan.reply, plan.reply
    theory = planner.plan([_user("what is a chord progression?")])  # names no piece: still theory
    assert theory.calls == [] and theory.thought.attributes.get("reply_kind") == "theory"


def test_chain_lyrics_then_song(planner):
    plan = planner.plan([_user("write lyrics about a lighthouse and then sing them as a folk song")])
    assert [c.tool for c in plan.calls] == ["write_lyrics", "text_to_song"]
    assert plan.calls[1].depends_on == ["c1"]
    assert "lighthouse" in plan.calls[0].args["topic"]
    assert plan.calls[1].args.get("genre") == "folk"


def test_thought_carries_intent_summary_and_attributes(planner):
    plan = planner.plan([_user("make a sad jazz song about the harbour at 84 bpm in b flat minor")])
    thought = plan.thought
    assert thought.intent == "text_to_song" and thought.summary
    assert thought.attributes["genre"] == "jazz" and thought.attributes["key"] == "Bb minor"
    assert thought.attributes["tempo_bpm"] == 84 and thought.attributes["mood"] == "sad"


def test_theory_answers_from_the_knowledge_base(planner):
    plan = planner.plan([_user("what is the circle of fifths?")])
    assert plan.calls == [] and "fifths" in plan.reply


def test_plain_torch_encoder_matches_transformers_bert():
    import torch
    from transformers import AutoModel

    from adapters.embedded.encoder import FastTokenizer, build_encoder
    from adapters.embedded.model import base_model_path

    path = base_model_path()
    reference, ours = AutoModel.from_pretrained(path).eval(), build_encoder(path)
    encoded = FastTokenizer(path, 96)("after text to song ; song exists | make the Chorus louder, 84 bpm!")
    with torch.no_grad():
        expected = reference(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).last_hidden_state
        got = ours(encoded["input_ids"], encoded["attention_mask"]).last_hidden_state
    assert torch.allclose(expected, got, atol=1e-4)


def test_style_phrases_map_to_presets(planner):
    from adapters.normalize import presets

    assert planner.nearest_preset("jazz trio") == ("jazz", 1.0)
    preset, score = planner.nearest_preset("string quartet")
    assert preset in presets()["genres"] and 0.0 < score < 1.0
    assert planner.nearest_preset("tango")[0] == "waltz"  # by embedding: the closest dance preset
    plan = planner.plan(SONG + [_user("do a jazz trio version of it")])
    assert plan.thought.attributes["preset"] == "jazz"


def test_key_signature_questions_are_answered_both_ways(planner):
    # "what key has three sharps?" once got "Sorry, I didn't understand that"
    asked = {"which key has got three sharps?": "A major and its relative minor, F# minor",
             "what key uses 4 flats": "Ab major and its relative minor, F minor",
             "how many flats are there in Eb major?": "Eb major has three flats (Bb, Eb, Ab)",
             "what's the key signature for B minor?": "B minor has two sharps (F#, C#); its relative major is D major",
             "how many sharps does C# minor have": "C# minor has four sharps"}
    for text, answer in asked.items():
        plan = planner.plan([_user(text)])
        assert plan.calls == [] and answer in plan.reply, (text, plan.reply)
