"""Evaluate a planner on a JSONL dev set (format: shared/evals/README.md).

Routing accuracy: the first call's tool (or ``respond`` when there is no call) equals
``expect.tool``. Argument accuracy: every expected argument is right, by the README's rules —
strings match case-insensitively when one contains the other (hyphens and spaces are folded, so
"hip hop" matches the preset "hip-hop"), numbers within 3 %, and ``source``/``like``/``seed``/``video``
must equal the attachment path or artifact id exactly. A misrouted case counts as wrong for both.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.plan import Message, Plan, Planner

EXACT_ARGS = ("source", "like", "seed", "video")


@dataclass
class Case:
    messages: list[Message]
    tool: str
    args: dict[str, Any]
    line: int


@dataclass
class Report:
    total: int = 0
    routed: int = 0
    args_right: int = 0
    confusion: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)

    @property
    def routing_accuracy(self) -> float:
        return self.routed / self.total if self.total else 0.0

    @property
    def argument_accuracy(self) -> float:
        return self.args_right / self.total if self.total else 0.0

    def to_json(self) -> dict:
        return {"total": self.total, "routing_accuracy": round(self.routing_accuracy, 4),
                "argument_accuracy": round(self.argument_accuracy, 4),
                "confusion": {f"{e} -> {p}": n for (e, p), n in sorted(self.confusion.items())},
                "failures": self.failures}


def load_cases(path: Path) -> list[Case]:
    """Read a dev set; a malformed line raises ValueError naming the line."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(Case(messages=[Message.model_validate(m) for m in row["messages"]],
                              tool=row["expect"]["tool"], args=row["expect"].get("args", {}), line=number))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a dev-set case ({error})") from error
    return cases


def _fold(value: str) -> str:
    return re.sub(r"[\s\-_]+", " ", value.lower()).strip()


def arg_matches(name: str, expected: Any, actual: Any) -> bool:
    """The README's matching rule for one argument."""
    if actual is None:
        return False
    if name in EXACT_ARGS:
        return str(actual) == str(expected)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return abs(float(actual) - float(expected)) <= 0.03 * abs(float(expected))
        except (TypeError, ValueError):
            return False
    a, e = _fold(str(actual)), _fold(str(expected))
    return bool(a) and (a in e or e in a)


def routed_tool(plan: Plan) -> str:
    return plan.calls[0].tool if plan.calls else "respond"


def evaluate(planner: Planner, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        plan = planner.plan(case.messages)
        tool = routed_tool(plan)
        report.total += 1
        report.confusion[(case.tool, tool)] += 1
        args = plan.calls[0].args if plan.calls else {}
        wrong = [name for name, value in case.args.items() if not arg_matches(name, value, args.get(name))]
        if tool == case.tool:
            report.routed += 1
            if not wrong:
                report.args_right += 1
        if tool != case.tool or wrong:
            report.failures.append({"line": case.line, "text": case.messages[-1].content[:120],
                                    "expected": {"tool": case.tool, **case.args},
                                    "got": {"tool": tool, **{k: args.get(k) for k in case.args}}})
    return report


def confusion_table(report: Report) -> str:
    """The confusion matrix as text: rows expected, columns routed (only tools that occur)."""
    names = sorted({e for e, _ in report.confusion} | {p for _, p in report.confusion})
    short = {n: n.replace("_", "")[:7] for n in names}
    width = max(len(n) for n in names)
    lines = [" " * width + " " + " ".join(f"{short[n]:>7}" for n in names)]
    for expected in names:
        lines.append(f"{expected:>{width}} " + " ".join(f"{report.confusion.get((expected, p), 0) or '.':>7}"
                                                         for p in names))
    return "\n".join(lines)
