"""Train the embedded planner: LoRA on the packaged MiniLM + intent, reference and BIO span heads.

Generated conversations only (``generate.py``); the dev sets are never seen here. Seeded, CPU,
a few minutes on 2 cores (``OMP_WAIT_POLICY=PASSIVE`` matters: see docs/FACTS.md).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from adapters.context import encoder_text, read_context
from adapters.embedded import model as net_io
from adapters.training.generate import SPAN_LABELS, Example, generate, grammar

REFERENCES = ["none", "attachment", "artifact"]


@dataclass
class TrainConfig:
    examples: int = 5000
    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-3
    head_lr: float = 3e-3
    seed: int = 0
    lora_r: int = 8
    lora_alpha: int = 16
    out_dir: Path = net_io.WEIGHTS_DIR
    base: str | None = None


def encode(examples: list[Example], tokenizer, labels: net_io.Labels) -> dict:
    """Token ids, masks and per-token BIO ids (prefix and special tokens ignored: -100)."""
    import torch

    texts, offsets = [], []
    for example in examples:
        text, offset = encoder_text(read_context(example.messages))
        texts.append(text)
        offsets.append(offset)
    batch = tokenizer(texts, truncation=True, max_length=net_io.MAX_TOKENS, padding=True,
                      return_offsets_mapping=True, return_tensors="pt")
    tag_index = {name: i for i, name in enumerate(labels.tags)}
    tags = torch.full(batch["input_ids"].shape, -100, dtype=torch.long)
    for row, example in enumerate(examples):
        offset = offsets[row]
        previous_span = None
        for col, (start, end) in enumerate(batch["offset_mapping"][row].tolist()):
            if end == 0 or start < offset:
                continue
            start -= offset
            label, span_id = "O", None
            for span_index, (s, e, name) in enumerate(example.spans):
                if s <= start < e:
                    label, span_id = name, span_index
                    break
            if span_id is None:
                tags[row, col] = tag_index["O"]
            else:
                prefix = "I" if previous_span == span_id else "B"
                tags[row, col] = tag_index[f"{prefix}-{label}"]
            previous_span = span_id
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "tags": tags,
            "intent": torch.tensor([labels.intents.index(e.intent) for e in examples]),
            "reference": torch.tensor([REFERENCES.index(e.reference) for e in examples])}


def train(config: TrainConfig, log: Callable[[str], None] = print) -> Path:
    """Generate data, train, save the adapter into ``config.out_dir``; returns the weights path."""
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    base = config.base or net_io.base_model_path()
    labels = net_io.Labels(intents=list(grammar()["intents"]), tags=net_io.tag_names(SPAN_LABELS),
                           references=REFERENCES, lora_r=config.lora_r, lora_alpha=config.lora_alpha)
    tokenizer = AutoTokenizer.from_pretrained(base)
    encoder = AutoModel.from_pretrained(base)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.05,
                      target_modules=list(net_io.LORA_TARGETS))
    encoder = get_peft_model(encoder, lora)
    net = net_io.build_net(encoder, labels)
    examples = generate(config.examples, seed=config.seed)
    log(f"{len(examples)} generated examples, {len(labels.intents)} intents, {len(labels.tags)} tags")
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    lora_params = [p for n, p in net.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": lora_params, "lr": config.lr},
                                   {"params": head_params, "lr": config.head_lr}], weight_decay=0.01)
    steps = config.epochs * ((len(examples) + config.batch_size - 1) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[config.lr, config.head_lr],
                                                   total_steps=steps, pct_start=0.1)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    net.train()
    started, step = time.time(), 0
    for epoch in range(config.epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for first in range(0, len(order), config.batch_size):
            batch = encode([examples[i] for i in order[first:first + config.batch_size]], tokenizer, labels)
            intent_logits, reference_logits, tag_logits = net(batch["input_ids"], batch["attention_mask"])
            loss = (loss_fn(intent_logits, batch["intent"]) + 0.5 * loss_fn(reference_logits, batch["reference"])
                    + loss_fn(tag_logits.reshape(-1, tag_logits.shape[-1]), batch["tags"].reshape(-1)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 25 == 0 or step == steps:
                log(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} "
                    f"({(time.time() - started) / step:.2f} s/step)")
    net.eval()
    path = net_io.save(net, labels, get_peft_model_state_dict(encoder), Path(config.out_dir))
    log(f"saved {path} ({path.stat().st_size / 1024:.0f} KB) in {time.time() - started:.0f} s")
    return path
