"""Train a LoRA adapter for any local causal LM on the same generated conversations.

Targets are written in the constrained grammar (``grammar.serialise``), with gold arguments made by
the same argument builders the embedded planner uses, so both backends share one contract.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Callable

from adapters.arguments import MissingSource, Reading
from adapters.causal.grammar import RESPOND, serialise
from adapters.causal.planner import META_FILE, decode_space, default_schemas, prompt_text
from adapters.context import read_context
from adapters.training.generate import Example, generate

CHAIN = "write_lyrics>text_to_song"


def gold_call(example: Example) -> tuple[str, dict]:
    """The (tool, args) the planner should emit for a generated example (first call of a chain)."""
    from adapters.embedded.planner import plan_from_reading

    context = read_context(example.messages)
    if example.intent == RESPOND:
        return RESPOND, {}
    text = context.text
    spans: dict[str, list[str]] = {}
    for start, end, label in example.spans:
        spans.setdefault(label, []).append(text[start:end])
    try:
        plan = plan_from_reading(context, Reading(intent=example.intent, confidence=1.0,
                                                  reference=example.reference, spans=spans))
    except MissingSource:
        return RESPOND, {}
    return plan.calls[0].tool, plan.calls[0].args


def train_causal(base: str | Path, out_dir: Path, *, examples: int = 2000, steps: int = 300,
                 batch_size: int = 8, lr: float = 1e-3, seed: int = 0,
                 log: Callable[[str], None] = print) -> Path:
    """LoRA-tune ``base`` to plan; saves the adapter, tokenizer and metadata into ``out_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    base = str(Path(base).resolve())
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    try:
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM"))
    except ValueError:  # an architecture peft has no default target modules for
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM",
                                                 target_modules="all-linear"))
    schemas = {s["function"]["name"]: s for s in default_schemas()}
    rows = []
    for example in generate(examples, seed=seed):
        context = read_context(example.messages)
        prompt, user_start = prompt_text(context)
        space, _ = decode_space(tokenizer, schemas, context, prompt, user_start)
        tool, args = gold_call(example)
        prompt_ids = tokenizer(prompt, return_token_type_ids=False)["input_ids"]
        target = serialise(space, tool, args)[:64]
        rows.append((prompt_ids[-160:], target))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    started = time.time()
    for step in range(1, steps + 1):
        batch = rng.sample(rows, min(batch_size, len(rows)))
        length = max(len(p) + len(t) for p, t in batch)
        ids = torch.full((len(batch), length), pad, dtype=torch.long)
        labels = torch.full((len(batch), length), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), length), dtype=torch.long)
        for row, (prompt_ids, target) in enumerate(batch):
            sequence = prompt_ids + target
            ids[row, :len(sequence)] = torch.tensor(sequence)
            labels[row, len(prompt_ids):len(sequence)] = torch.tensor(target)
            mask[row, :len(sequence)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0 or step == steps:
            log(f"step {step}/{steps} loss {loss.item():.3f} ({(time.time() - started) / step:.2f} s/step)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    (out_dir / META_FILE).write_text(json.dumps({"base": base, "steps": steps, "examples": examples,
                                                 "seed": seed}, indent=1), encoding="utf-8")
    log(f"saved causal planner adapter to {out_dir}")
    return out_dir


def is_causal_lm(path: str | Path) -> bool:
    """True when ``path`` holds a causal LM (its config names a *ForCausalLM architecture)."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return False
    architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    return any(a.endswith("ForCausalLM") for a in architectures)
