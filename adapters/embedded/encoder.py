"""A plain-torch MiniLM (BERT) encoder and a ``tokenizers`` tokenizer for inference.

Why: importing ``transformers`` costs several seconds on a busy 2-core machine, more than the
planner's whole load budget (3 s). Inference needs only the BERT forward pass (6 layers) and the
fast tokenizer, so both are built here from the packaged files (``model.safetensors``,
``tokenizer.json``). Training still uses ``transformers`` + ``peft``; a test checks this encoder
matches ``transformers.BertModel`` on the same weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace


def _torch():
    import torch

    return torch


def build_encoder(model_dir: str | Path):
    """A torch module with BertModel's forward contract (``.last_hidden_state``), weights loaded."""
    torch = _torch()
    from safetensors.torch import load_file

    nn = torch.nn
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = config.get("layer_norm_eps", 1e-12)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query = nn.Linear(hidden, hidden)
            self.key = nn.Linear(hidden, hidden)
            self.value = nn.Linear(hidden, hidden)
            self.attention_out = nn.Linear(hidden, hidden)
            self.attention_norm = nn.LayerNorm(hidden, eps=eps)
            self.intermediate = nn.Linear(hidden, config["intermediate_size"])
            self.output = nn.Linear(config["intermediate_size"], hidden)
            self.output_norm = nn.LayerNorm(hidden, eps=eps)

        def forward(self, states, bias):
            batch, length, _ = states.shape
            size = hidden // heads

            def split(x):
                return x.view(batch, length, heads, size).transpose(1, 2)

            q, k, v = split(self.query(states)), split(self.key(states)), split(self.value(states))
            scores = q @ k.transpose(-1, -2) / math.sqrt(size) + bias
            context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)
            states = self.attention_norm(states + self.attention_out(context))
            inner = torch.nn.functional.gelu(self.intermediate(states))
            return self.output_norm(states + self.output(inner))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = SimpleNamespace(hidden_size=hidden)
            self.word = nn.Embedding(config["vocab_size"], hidden)
            self.position = nn.Embedding(config["max_position_embeddings"], hidden)
            self.token_type = nn.Embedding(config["type_vocab_size"], hidden)
            self.norm = nn.LayerNorm(hidden, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(config["num_hidden_layers"]))

        def forward(self, input_ids, attention_mask):
            positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
            states = self.norm(self.word(input_ids) + self.position(positions)
                               + self.token_type(torch.zeros_like(input_ids)))
            bias = (1.0 - attention_mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
            for layer in self.layers:
                states = layer(states, bias)
            return SimpleNamespace(last_hidden_state=states)

    encoder = Encoder()
    weights = load_file(str(model_dir / "model.safetensors"))
    names = {"word.weight": "embeddings.word_embeddings.weight",
             "position.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight",
             "norm.weight": "embeddings.LayerNorm.weight", "norm.bias": "embeddings.LayerNorm.bias"}
    parts = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for index in range(config["num_hidden_layers"]):
        for ours, theirs in parts.items():
            for kind in ("weight", "bias"):
                names[f"layers.{index}.{ours}.{kind}"] = f"encoder.layer.{index}.{theirs}.{kind}"
    encoder.load_state_dict({ours: weights[theirs] for ours, theirs in names.items()})
    encoder.eval()
    return encoder


def lora_target(encoder, peft_name: str):
    """The Linear a peft LoRA key points at ("...encoder.layer.3.attention.self.query")."""
    parts = peft_name.split(".")
    index = parts[parts.index("layer") + 1]
    return getattr(encoder.layers[int(index)], parts[-1])


class FastTokenizer:
    """The packaged ``tokenizer.json`` through ``tokenizers``: ids, mask and character offsets."""

    def __init__(self, model_dir: str | Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)

    def __call__(self, text: str, **_: object) -> dict:
        torch = _torch()
        encoding = self.tokenizer.encode(text)
        return {"input_ids": torch.tensor([encoding.ids]),
                "attention_mask": torch.tensor([encoding.attention_mask]),
                "offset_mapping": torch.tensor([encoding.offsets])}
