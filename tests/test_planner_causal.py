"""Causal-LM backend pipeline on a tiny randomly initialised Llama: train, save, load, constrained
decode. It proves the plumbing and that every emitted call validates, not planning quality."""

from __future__ import annotations

import pytest

from adapters.causal.grammar import REFERENCE_ARGS
from adapters.causal.planner import CausalPlanner, default_schemas
from adapters.causal.train import is_causal_lm, train_causal
from agent.plan import Message


@pytest.fixture(scope="module")
def tiny_adapter(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from adapters.embedded.model import base_model_path

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id)
    LlamaForCausalLM(config).save_pretrained(root / "base")
    tokenizer.save_pretrained(root / "base")
    assert is_causal_lm(root / "base")
    out = train_causal(root / "base", root / "adapter", examples=24, steps=3, batch_size=4)
    return out


def _valid(call) -> bool:
    schema = {s["function"]["name"]: s["function"]["parameters"] for s in default_schemas()}[call.tool]
    props = schema["properties"]
    for name, value in call.args.items():
        spec = props[name]
        if "enum" in spec and value not in spec["enum"]:
            return False
        if spec["type"] in ("number", "integer") and not isinstance(value, (int, float)):
            return False
        if spec["type"] == "string" and not isinstance(value, str):
            return False
    return all(r in call.args for r in schema.get("required", []))


@pytest.mark.slow
def test_tiny_llama_trains_saves_loads_and_every_call_validates(tiny_adapter):
    assert (tiny_adapter / "adapter_config.json").is_file()
    planner = CausalPlanner(tiny_adapter)
    turns = [
        [Message(role="user", content="what rhymes with night")],
        [Message(role="user", content="describe this", attachments=["take.wav"])],
        [Message(role="user", content="make a jazz song about rain at 90 bpm in G minor")],
        [Message(role="user", content="make it slower"),
         ],
        [Message(role="user", content="a song"), Message(role="assistant", content="done", tool="text_to_song",
                                                          artifacts=["song-3"]),
         Message(role="user", content="make the chorus louder")],
    ]
    for messages in turns:
        plan = planner.plan(messages)
        references = {a for m in messages for a in m.attachments + m.artifacts}
        for call in plan.calls:
            assert _valid(call), call
            for name in REFERENCE_ARGS:
                if name in call.args:
                    assert call.args[name] in references
            user_text = messages[-1].content.lower()
            for name, value in call.args.items():
                if isinstance(value, str) and name not in REFERENCE_ARGS and name not in ("vocals", "kind", "mode"):
                    assert value.lower() in user_text  # free text is copied from the user's words
    assert planner.plan([Message(role="user", content="")]).calls == []
