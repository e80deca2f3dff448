"""Schema-constrained decoding for causal-LM planners: every emitted call validates.

The model writes ``tool ; key = value ; key = value ; [SEP]``. At each step the allowed next tokens
come from a trie of what the tool schemas permit: tool names, the chosen tool's unused argument
names, enum values, digits for numbers, an attachment path or artifact id for ``source``/``like``/
``seed``/``video``, and for free-text strings a contiguous copy of the user's words. Used through
``generate(prefix_allowed_tokens_fn=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REFERENCE_ARGS = ("source", "like", "seed", "video")
RESPOND = "respond"


def _function(schema: dict) -> dict:
    return schema.get("function", schema)


@dataclass
class DecodeSpace:
    """Everything the constraint needs for one prompt, in token ids."""

    tokenizer: object
    schemas: dict[str, dict]
    references: list[str]
    copy_ids: list[int]  # the user's words as token ids (free-text values copy from here)
    end_id: int
    sep_id: int = field(init=False)
    eq_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.sep_id = self.ids(";")[0]
        self.eq_id = self.ids("=")[0]
        # a tool whose required reference (a file, a song) the conversation lacks cannot be called
        usable = [name for name in self.schemas
                  if not (set(self.required(name)) & set(REFERENCE_ARGS)) or self.references]
        self.tool_ids = {name: self.ids(name) for name in usable + [RESPOND]}
        self.digit_ids = _digit_ids(self.tokenizer)
        self.reference_ids = {ref: self.ids(ref) for ref in self.references}

    def ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def required(self, tool: str) -> list[str]:
        parameters = _function(self.schemas[tool]).get("parameters") or {} if tool in self.schemas else {}
        return list(parameters.get("required") or [])

    def properties(self, tool: str) -> dict:
        parameters = _function(self.schemas[tool]).get("parameters") or {} if tool in self.schemas else {}
        props = dict(parameters.get("properties") or {})
        if not self.references:
            props = {k: v for k, v in props.items() if k not in REFERENCE_ARGS}
        return props


_DIGITS: dict[int, set[int]] = {}


def _digit_ids(tokenizer) -> set[int]:
    """Vocabulary ids that are digits (cached per tokenizer: scanning the vocabulary is slow)."""
    key = id(tokenizer)
    if key not in _DIGITS:
        _DIGITS[key] = {i for t, i in tokenizer.get_vocab().items() if t.lstrip("#").isdigit()}
    return _DIGITS[key]


def _trie_next(options: list[list[int]], prefix: list[int]) -> tuple[set[int], bool]:
    """Next tokens that continue some option, and whether the prefix is itself a whole option."""
    allowed, complete = set(), False
    for option in options:
        if option[:len(prefix)] == prefix:
            if len(option) == len(prefix):
                complete = True
            else:
                allowed.add(option[len(prefix)])
    return allowed, complete


def _split(generated: list[int], sep: int) -> list[list[int]]:
    parts, current = [], []
    for token in generated:
        if token == sep:
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    return parts


def allowed_tokens(space: DecodeSpace, generated: list[int]) -> list[int]:
    """The tokens the grammar allows after ``generated`` (the tokens emitted so far)."""
    if generated and generated[-1] == space.end_id:
        return [space.end_id]
    parts = _split(generated, space.sep_id)
    tool_part = parts[0]
    if len(parts) == 1:  # still writing the tool name
        names = list(space.tool_ids.values())
        allowed, complete = _trie_next(names, tool_part)
        if complete:
            allowed.add(space.sep_id)
        return sorted(allowed)
    tool = next((n for n, ids in space.tool_ids.items() if ids == tool_part), RESPOND)
    properties = space.properties(tool) if tool != RESPOND else {}
    used = set()
    for done in parts[1:-1]:
        if space.eq_id in done:
            used.add(tuple(done[:done.index(space.eq_id)]))
    current = parts[-1]
    key_ids = {name: space.ids(name) for name in properties}
    if space.eq_id not in current:  # writing an argument name (or ending)
        options = [ids for name, ids in key_ids.items() if tuple(ids) not in used]
        allowed, complete = _trie_next(options, current)
        if complete:
            allowed = {space.eq_id}
        required = {tuple(key_ids[r]) for r in space.required(tool) if r in key_ids}
        if not current and required <= used:
            allowed.add(space.end_id)
        return sorted(allowed)
    key = tuple(current[:current.index(space.eq_id)])
    name = next(n for n, ids in key_ids.items() if tuple(ids) == key)
    value = current[current.index(space.eq_id) + 1:]
    spec = properties[name]
    if name in REFERENCE_ARGS:
        allowed, complete = _trie_next(list(space.reference_ids.values()), value)
    elif "enum" in spec:
        allowed, complete = _trie_next([space.ids(str(v)) for v in spec["enum"]], value)
    elif spec.get("type") in ("number", "integer"):
        allowed, complete = set(space.digit_ids), bool(value)
        if len(value) >= 2:
            allowed = set()
    else:  # free text: a contiguous run of the user's tokens
        if not value:
            allowed, complete = set(space.copy_ids) - {space.sep_id}, False
        else:
            allowed = set()
            n = len(value)
            for start in range(len(space.copy_ids) - n + 1):
                if space.copy_ids[start:start + n] == value and start + n < len(space.copy_ids):
                    allowed.add(space.copy_ids[start + n])
            allowed.discard(space.sep_id)
            complete = True
    if complete:
        allowed.add(space.sep_id)
    return sorted(allowed) or [space.sep_id]


def parse_output(space: DecodeSpace, generated: list[int], text: str, copy_offsets: list[tuple[int, int]]
                 ) -> tuple[str, dict]:
    """(tool, args) from a constrained output; free-text values map back to the user's own characters."""
    generated = [t for t in generated if t != space.end_id]
    parts = _split(generated, space.sep_id)
    tool = next((n for n, ids in space.tool_ids.items() if ids == parts[0]), RESPOND)
    args: dict = {}
    properties = space.properties(tool) if tool != RESPOND else {}
    key_ids = {name: space.ids(name) for name in properties}
    for part in parts[1:]:
        if space.eq_id not in part:
            continue
        key, value = part[:part.index(space.eq_id)], part[part.index(space.eq_id) + 1:]
        name = next((n for n, ids in key_ids.items() if ids == key), None)
        if name is None or not value:
            continue
        spec = properties[name]
        if name in REFERENCE_ARGS:
            args[name] = next((r for r, ids in space.reference_ids.items() if ids == value), None)
        elif "enum" in spec:
            args[name] = next((str(v) for v in spec["enum"] if space.ids(str(v)) == value), None)
        elif spec.get("type") in ("number", "integer"):
            digits = space.tokenizer.decode(value).replace(" ", "").replace("#", "")
            args[name] = int(digits) if spec.get("type") == "integer" else float(digits)
        else:
            n = len(value)
            for start in range(len(space.copy_ids) - n + 1):
                if space.copy_ids[start:start + n] == value:
                    args[name] = text[copy_offsets[start][0]:copy_offsets[start + n - 1][1]]
                    break
    return tool, {k: v for k, v in args.items() if v is not None}


def serialise(space: DecodeSpace, tool: str, args: dict) -> list[int]:
    """The training target for a (tool, args) pair in the same grammar (values as token ids)."""
    out = list(space.tool_ids[tool]) + [space.sep_id]
    for name, value in args.items():
        if name not in space.properties(tool) or value in (None, ""):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = int(round(value))  # the grammar writes whole numbers
        out += space.ids(name) + [space.eq_id] + space.ids(str(value)) + [space.sep_id]
    return out + [space.end_id]
