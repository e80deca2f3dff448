"""Causal-LM planner: any local Hugging Face causal LM (+ an optional LoRA adapter trained by
``tunesmith train-planner --base PATH``) writes the call under schema-constrained decoding.

``causal:PATH`` takes either a trained adapter directory (it names its base model in
``tunesmith_causal.json``) or a bare causal LM directory.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from adapters.causal.grammar import RESPOND, DecodeSpace, allowed_tokens, parse_output
from adapters.context import Context, encoder_text, read_context
from agent.plan import Message, MusicalThought, Plan, ToolCall

META_FILE = "tunesmith_causal.json"
CONTRACT = Path(__file__).resolve().parent.parent / "data" / "tool_contract.json"
MAX_NEW_TOKENS = 48


def default_schemas() -> list[dict]:
    """The canonical argument contract (issue 8), used when the caller passes no schemas."""
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


def prompt_text(context: Context) -> tuple[str, int]:
    """The prompt and the character offset of the user's words in it."""
    head, start = encoder_text(context)
    refs = context.attachments + context.known_artifacts[-3:]
    lead = f"refs: {' , '.join(refs) or 'none'} | "
    return lead + head + " =>", len(lead) + start


def references(context: Context) -> list[str]:
    return list(dict.fromkeys(context.attachments + context.known_artifacts + context.earlier_attachments))


def load_model(path: str | Path):
    """(model, tokenizer) from an adapter directory or a plain causal LM directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"causal planner: {path} is not a model or adapter directory")
    meta_path = path / META_FILE
    if meta_path.is_file():
        from peft import PeftModel

        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        base = AutoModelForCausalLM.from_pretrained(meta["base"])
        model = PeftModel.from_pretrained(base, str(path))
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path))
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    model.eval()
    return model, tokenizer


def end_token(tokenizer) -> int:
    for candidate in (tokenizer.eos_token_id, tokenizer.sep_token_id):
        if candidate is not None:
            return int(candidate)
    raise ValueError("the tokenizer has neither an eos nor a sep token")


def decode_space(tokenizer, schemas: dict[str, dict], context: Context, prompt: str, user_start: int):
    encoded = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    pairs = [(i, o) for i, o in zip(encoded["input_ids"], encoded["offset_mapping"]) if o[0] >= user_start
             and o[1] <= len(prompt) - 3]
    space = DecodeSpace(tokenizer=tokenizer, schemas=schemas, references=references(context),
                        copy_ids=[i for i, _ in pairs], end_id=end_token(tokenizer))
    return space, [o for _, o in pairs]


class CausalPlanner:
    """Plans with a causal LM under the schema grammar; every call it emits validates."""

    def __init__(self, path: str | Path, tool_schemas: list[dict] | None = None) -> None:
        import torch

        self._torch = torch
        self.model, self.tokenizer = load_model(path)
        schemas = tool_schemas or default_schemas()
        self.schemas = {s.get("function", s)["name"]: s for s in schemas}
        self._lock = threading.Lock()

    def plan(self, messages: list[Message]) -> Plan:
        messages = [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]
        context = read_context(messages)
        if not context.text.strip():
            return Plan(thought=MusicalThought(intent=RESPOND, summary="Empty message."), calls=[],
                        reply="Your message was empty. What would you like to make?")
        prompt, user_start = prompt_text(context)
        space, offsets = decode_space(self.tokenizer, self.schemas, context, prompt, user_start)
        inputs = self.tokenizer(prompt, return_tensors="pt", return_token_type_ids=False)
        prompt_len = inputs["input_ids"].shape[1]

        def allowed(batch_id: int, ids) -> list[int]:
            return allowed_tokens(space, ids[prompt_len:].tolist())

        with self._lock, self._torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                                         prefix_allowed_tokens_fn=allowed, eos_token_id=space.end_id,
                                         pad_token_id=space.end_id)
        generated = output[0][prompt_len:].tolist()
        tool, args = parse_output(space, generated, prompt, offsets)
        missing = [r for r in (self.schemas.get(tool, {}).get("function", {}).get("parameters", {})
                               .get("required", [])) if r not in args]
        if tool == RESPOND or tool not in self.schemas or missing:
            reason = f"missing {', '.join(missing)}" if missing else "no tool needed"
            return Plan(thought=MusicalThought(intent=RESPOND if not missing else tool,
                                               summary=f"No call: {reason}.", attributes={"missing": missing}),
                        calls=[], reply="Could you say a bit more about what you'd like me to make or do?")
        thought = MusicalThought(intent=tool, summary=f"Call {tool}.", attributes=dict(args))
        return Plan(thought=thought, calls=[ToolCall(id="c1", tool=tool, args=args)])
