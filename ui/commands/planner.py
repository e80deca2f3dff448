"""Planner commands: train-planner, eval-planner, plan."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tools.music.errors import TunesmithError


def _schemas() -> list[dict] | None:
    from tools.registry import load_registry

    try:
        schemas = load_registry().openai_schemas()
    except Exception:  # a broken tool module must not stop planning with the canonical contract
        return None
    return schemas or None


def _planner(spec: str | None):
    from adapters.factory import PlannerSpecError, make_planner
    from tools.config import settings

    spec = spec or settings().planner
    try:
        return make_planner(spec, tool_schemas=None if spec.startswith("embedded") else _schemas())
    except (PlannerSpecError, FileNotFoundError, ImportError) as error:
        raise TunesmithError(f"cannot load planner {spec!r}: {error}",
                             hint="set TUNESMITH_PLANNER to embedded, causal:PATH or openai:URL") from error


def _read_conversation(raw: str, where: str) -> list:
    from agent.plan import Message

    try:
        data = json.loads(raw)
    except ValueError as error:
        raise TunesmithError(f"{where}: not JSON ({error.msg})",
                             hint='a conversation is a JSON list: [{"role": "user", "content": "..."}]') from error
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise TunesmithError(f"{where}: expected a JSON list of messages, got {type(data).__name__}")
    try:
        return [Message.model_validate(m) for m in data]
    except Exception as error:
        raise TunesmithError(f"{where}: a message is malformed ({str(error).splitlines()[0]})") from error


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise TunesmithError(f"no such file: {path}")
    return path


def register(app: typer.Typer) -> None:
    @app.command("train-planner")
    def train_planner(
        base: Path | None = typer.Option(None, "--base", help="a causal LM dir (trains the causal backend) "
                                                               "or another encoder for the embedded one"),
        out: Path | None = typer.Option(None, "--out", help="where to save (default: the shipped weights "
                                                             "dir, or TUNESMITH_HOME/planners/causal)"),
        examples: int = typer.Option(5000, help="generated training conversations"),
        epochs: int = typer.Option(3, help="epochs (embedded)"),
        steps: int = typer.Option(300, help="optimiser steps (causal)"),
        seed: int = typer.Option(0, help="data and initialisation seed"),
    ) -> None:
        """Train the planner adapter on generated conversations (never on the dev sets)."""
        from adapters.causal.train import is_causal_lm, train_causal
        from tools.config import settings

        if base is not None and not base.exists():
            raise TunesmithError(f"--base {base} does not exist")
        if base is not None and is_causal_lm(base):
            train_causal(base, out or settings().home / "planners" / "causal", examples=examples,
                         steps=steps, seed=seed)
            return
        from adapters.training.train import TrainConfig, train

        config = TrainConfig(examples=examples, epochs=epochs, seed=seed, base=str(base) if base else None)
        if out:
            config.out_dir = out
        train(config)

    @app.command("eval-planner")
    def eval_planner(
        file: Path = typer.Argument(..., help="dev set JSONL (shared/evals/README.md format)"),
        planner: str | None = typer.Option(None, "--planner", help="planner spec (default: settings)"),
        as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
    ) -> None:
        """Routing accuracy, argument accuracy and the confusion matrix on a dev set."""
        from adapters.training.evaluate import confusion_table, evaluate, load_cases

        try:
            cases = load_cases(_existing(file))
        except ValueError as error:
            raise TunesmithError(str(error)) from error
        report = evaluate(_planner(planner), cases)
        if as_json:
            print(json.dumps(report.to_json(), indent=1))
            return
        print(f"{file}: {report.total} cases")
        print(f"routing accuracy  {report.routing_accuracy:.3f} ({report.routed}/{report.total})")
        print(f"argument accuracy {report.argument_accuracy:.3f} ({report.args_right}/{report.total})")
        print(confusion_table(report))
        for failure in report.failures:
            print(f"  line {failure['line']}: {failure['text']!r}\n    expected {failure['expected']}\n"
                  f"    got      {failure['got']}")

    @app.command("plan")
    def plan(
        conversation: Path | None = typer.Option(None, "--conversation", help="a JSON list of messages"),
        batch: Path | None = typer.Option(None, "--batch", help="JSONL: one conversation per line"),
        planner: str | None = typer.Option(None, "--planner", help="planner spec (default: settings)"),
    ) -> None:
        """Print the Plan for a conversation (or one Plan per line for --batch; the model loads once)."""
        if (conversation is None) == (batch is None):
            raise TunesmithError("give exactly one of --conversation FILE.json or --batch FILE.jsonl")
        source = _existing(conversation or batch)
        model = _planner(planner)
        if conversation is not None:
            messages = _read_conversation(source.read_text(encoding="utf-8"), str(source))
            print(model.plan(messages).model_dump_json(indent=1))
            return
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                messages = _read_conversation(line, f"{source}:{number}")
                print(model.plan(messages).model_dump_json(), flush=True)
