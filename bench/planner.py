"""Planner benchmark: load time and plan latency after load (embedded backend by default).

Usage: OMP_NUM_THREADS=2 .venv/bin/python bench/planner.py [--planner SPEC] [--repeats 3]
Targets (issue 8): load <= 3 s, p50 plan latency <= 20 ms. The machine is shared: CPU steal is read
from /proc/stat and every figure is repeated; min and median are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = [ROOT / "tests" / "data" / "planner_dev_own.jsonl", ROOT.parent / "shared" / "evals" / "planner_dev.jsonl"]

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from tools.config import prepare_environment
prepare_environment()
import torch
torch.set_num_threads(int(sys.argv[2]))
t_import = time.perf_counter()
from adapters.factory import make_planner
from agent.plan import Message
planner = make_planner(sys.argv[1])
t_loaded = time.perf_counter()
conversations = [[Message.model_validate(m) for m in json.loads(line)["messages"]]
                 for path in sys.argv[3:] for line in open(path) if line.strip()]
for messages in conversations[:5]:
    planner.plan(messages)  # warm-up
latencies = []
for messages in conversations:
    start = time.perf_counter()
    planner.plan(messages)
    latencies.append((time.perf_counter() - start) * 1000)
print(json.dumps({"import_s": t_import - t0, "load_s": t_loaded - t_import, "total_s": t_loaded - t0,
                  "latencies_ms": latencies}))
"""


def steal_fraction() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[7], sum(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--planner", default="embedded")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    options = parser.parse_args()
    dev = [str(p) for p in DEV if p.is_file()]
    rows = []
    for _ in range(options.repeats):
        steal0, total0 = steal_fraction()
        out = subprocess.run([sys.executable, "-c", _CHILD, options.planner, str(options.threads), *dev],
                             cwd=ROOT, capture_output=True, text=True, check=True)
        steal1, total1 = steal_fraction()
        result = json.loads(out.stdout.strip().splitlines()[-1])
        lat = sorted(result["latencies_ms"])
        rows.append({"import_s": result["import_s"], "load_s": result["load_s"], "total_s": result["total_s"],
                     "p50_ms": lat[len(lat) // 2], "p95_ms": lat[int(len(lat) * 0.95)], "n": len(lat),
                     "steal_pct": 100 * (steal1 - steal0) / max(1, total1 - total0)})
    print(f"planner={options.planner} threads={options.threads} repeats={options.repeats} "
          f"plans/run={rows[0]['n']}")
    print(f"{'metric':<26}{'min':>10}{'median':>10}  target")
    targets = {"load_s": "<= 3 s (model load after imports)", "p50_ms": "<= 20 ms"}
    for key, label in (("import_s", "import torch+config (s)"), ("load_s", "planner load (s)"),
                       ("total_s", "cold start total (s)"), ("p50_ms", "plan latency p50 (ms)"),
                       ("p95_ms", "plan latency p95 (ms)"), ("steal_pct", "cpu steal during run (%)")):
        values = [r[key] for r in rows]
        print(f"{label:<26}{min(values):>10.2f}{statistics.median(values):>10.2f}  {targets.get(key, '')}")


if __name__ == "__main__":
    main()
