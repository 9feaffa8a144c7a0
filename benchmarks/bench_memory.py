"""Memory of one run against its estimate (issue 19): how good is :func:`sim.memory.run_bytes`?

Each size runs in a fresh single-threaded subprocess: the peak resident memory
(``ru_maxrss``) after the imports and the compiled kernels is the program's, and the
peak after building and running the model, minus it, is the run's. The estimate is
printed beside it, and the ratio estimate / measured.

Usage::

    python benchmarks/bench_memory.py              # about 5 minutes (the sizes below)
    python benchmarks/bench_memory.py --quick      # 10,000 and 100,000 customers only

Writes ``memory.csv`` and ``memory.md`` to ``--out`` (default results/benchmarks).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINGLE_THREAD = {f"{v}_NUM_THREADS": "1" for v in ("OMP", "OPENBLAS", "MKL", "NUMEXPR")}

#: (label, overrides of scenarios/baseline.toml, firms (None: its three), steps)
SIZES = [
    ("10k", {"market.n_customers": 10_000}, None, 5),
    ("100k", {"market.n_customers": 100_000}, None, 5),
    ("1M", {"market.n_customers": 1_000_000}, None, 5),
    ("1M, 200 steps", {"market.n_customers": 1_000_000}, None, 200),
    ("3M", {"market.n_customers": 3_000_000}, None, 5),
    ("1M, degree 4", {"market.n_customers": 1_000_000, "network.mean_degree": 4}, None, 5),
    ("1M, degree 40", {"market.n_customers": 1_000_000, "network.mean_degree": 40}, None, 5),
    ("1M, complete", {"market.n_customers": 1_000_000, "network.network": "complete"}, None, 5),
    (
        "1M, Erdos-Renyi",
        {"market.n_customers": 1_000_000, "network.network": "erdos_renyi"},
        None,
        5,
    ),
    (
        "100k, Barabasi-Albert",
        {"market.n_customers": 100_000, "network.network": "barabasi_albert"},
        None,
        5,
    ),
    ("1M, 10 dimensions", {"market.n_customers": 1_000_000, "market.n_dims": 10}, None, 5),
    ("1M, 8 firms", {"market.n_customers": 1_000_000}, 8, 5),
]
QUICK = {"10k", "100k"}

PROBE = """
import json, resource, sys
from sim import kernels
from sim.outputs import RunSpec, execute
from sim.scenario import from_dict, load_scenario
from sim.memory import run_bytes

overrides, firms, steps = json.loads(sys.argv[1])
data = load_scenario("scenarios/baseline.toml").to_dict()
if firms:
    kinds = ["incremental", "differentiated", "radical", "adaptive"]
    data["firms"] = {f"f{i}": {"strategy": kinds[i % 4]} for i in range(firms)}
scenario = from_dict(data, strict=False).with_overrides(overrides, strict=False)
kernels.load()
program = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
spec = RunSpec(scenario.params, scenario.firms, steps, seed=1, strategies=scenario.strategies)
execute(spec)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
estimate = run_bytes(scenario.params, scenario.firms, steps)
print(json.dumps({"program": program, "peak": peak, "estimate": estimate}))
"""


def measure(overrides: dict, firms: int | None, steps: int) -> dict:
    env = {**os.environ, **SINGLE_THREAD, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([overrides, firms, steps])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    args = parser.parse_args()
    rows = []
    for label, overrides, firms, steps in SIZES:
        if args.quick and label not in QUICK:
            continue
        result = measure(overrides, firms, steps)
        run = result["peak"] - result["program"]
        rows.append(
            {
                "size": label,
                "program_mb": round(result["program"] / 2**20),
                "run_mb": round(run / 2**20),
                "estimate_mb": round(result["estimate"] / 2**20),
                "estimate_over_measured": round(result["estimate"] / run, 2),
            }
        )
        print(rows[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "memory.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ratios = [r["estimate_over_measured"] for r in rows]
    lines = [
        "# Memory of one run: measured peak against sim.memory.run_bytes",
        "",
        f"`python benchmarks/bench_memory.py{' --quick' if args.quick else ''}`, "
        f"{time.strftime('%Y-%m-%d')}; baseline scenario, fresh process per size.",
        "",
        "| size | program (MB) | run (MB) | estimate (MB) | estimate / measured |",
        "|---|---|---|---|---|",
        *(
            f"| {r['size']} | {r['program_mb']} | {r['run_mb']} | {r['estimate_mb']} | "
            f"{r['estimate_over_measured']} |"
            for r in rows
        ),
        "",
        f"estimate / measured from {min(ratios)} to {max(ratios)}.",
    ]
    (args.out / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
