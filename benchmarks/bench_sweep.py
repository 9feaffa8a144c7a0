#!/usr/bin/env python3
"""Sweep throughput and peak memory: the sweep runner against ``mesa.batch_run``.

Both run the same model on the same grid (mean loss aversion x market dynamism, three
firms, N = 10,000 customers, 200 steps) with the same number of worker processes, in
one invocation: each method runs in its own child process while a sampler adds up the
resident memory of that process and all its workers every 20 ms. batch_run collects
every step (``data_collection_period=1``), as the sweep keeps every step's shares and
trust; it returns everything in memory at the end, the sweep writes each run to disk
as it finishes.

    python benchmarks/bench_sweep.py [--replicates 4] [--workers 2] [--n 10000] [--steps 200]

Writes results/benchmarks/bench_sweep.json and bench_sweep.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAMBDAS = [1.0, 2.25, 4.0]
DYNAMISM = [0.0, 0.01]


def experiment(n: int, steps: int, replicates: int):
    """The benchmark grid as a sweep experiment."""
    from sim.sweep.experiment import build_experiment

    data = {
        "experiment": {
            "name": "bench_sweep",
            "base": "scenarios/baseline.toml",
            "replicates": replicates,
            "steps": steps,
            "seed": 1,
            "keep": ["share_*", "trust_*"],
        },
        "set": {"market.n_customers": n},
        "factors": {
            "lam": {"key": "customers.loss_aversion_mean", "values": LAMBDAS},
            "rho": {"key": "market.market_dynamism", "values": DYNAMISM},
        },
    }
    return build_experiment(data, str(ROOT / "benchmarks" / "bench_sweep.toml"))


def child_sweep(args: argparse.Namespace) -> dict:
    from sim.sweep.cli import run_sweep

    exp = experiment(args.n, args.steps, args.replicates)
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        outcome = run_sweep(exp, out, workers=args.workers, progress=False)
        seconds = time.perf_counter() - began
        size = sum(p.stat().st_size for p in Path(out).rglob("*.parquet"))
    return {"runs": outcome.finished, "seconds": seconds, "stored_bytes": size}


def child_batch_run(args: argparse.Namespace) -> dict:
    from mesa.batchrunner import batch_run

    from sim.model import InnovationModel

    exp = experiment(args.n, args.steps, args.replicates)
    kwargs = dict(exp.point_kwargs[0])
    parameters = {k: ([v] if k == "firms" else v) for k, v in kwargs.items()}
    parameters["loss_aversion_mean"] = LAMBDAS
    parameters["market_dynamism"] = DYNAMISM
    seeds = [exp.run_seed(0, r) for r in range(args.replicates)]
    began = time.perf_counter()
    rows = batch_run(
        InnovationModel,
        parameters=parameters,
        rng=seeds,
        max_steps=args.steps,
        number_processes=args.workers,
        data_collection_period=1,
        display_progress=False,
    )
    seconds = time.perf_counter() - began
    return {"runs": len({r["RunId"] for r in rows}), "seconds": seconds, "rows": len(rows)}


def measure(method: str, args: argparse.Namespace) -> dict:
    """Run one method in a child process; sample its process tree's memory."""
    command = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--n",
        str(args.n),
        "--steps",
        str(args.steps),
        "--replicates",
        str(args.replicates),
        "--workers",
        str(args.workers),
    ]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = {"tree": 0, "parent": 0}
    done = threading.Event()

    def sample() -> None:
        parent = psutil.Process(process.pid)
        while not done.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                rss = [p.memory_info().rss for p in procs if p.is_running()]
                peak["tree"] = max(peak["tree"], sum(rss))
                peak["parent"] = max(peak["parent"], rss[0])
            except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
                pass
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = process.communicate()
    done.set()
    thread.join()
    if process.returncode != 0:
        raise SystemExit(f"{method} failed (exit {process.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_seconds_with_startup"] = time.perf_counter() - began
    result["runs_per_minute"] = 60 * result["runs"] / result["seconds"]
    result["peak_rss_tree_mb"] = peak["tree"] / 2**20
    result["peak_rss_parent_mb"] = peak["parent"] / 2**20
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--child", choices=("sweep", "batch_run"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_sweep if args.child == "sweep" else child_batch_run
        print(json.dumps(run(args)))
        return 0

    grid = f"{len(LAMBDAS)} x {len(DYNAMISM)} grid x {args.replicates} replicates"
    print(f"benchmark: {grid}, N = {args.n:,}, {args.steps} steps, {args.workers} workers")
    results = {}
    for method in ("sweep", "batch_run"):
        results[method] = measure(method, args)
        r = results[method]
        print(
            f"{method:>10}: {r['runs']} runs in {r['seconds']:.1f} s = "
            f"{r['runs_per_minute']:.1f} runs/min; peak memory {r['peak_rss_tree_mb']:.0f} MB "
            f"(all processes), {r['peak_rss_parent_mb']:.0f} MB (parent)"
        )
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": list(psutil.getloadavg()),
        },
        "grid": {
            "loss_aversion_mean": LAMBDAS,
            "market_dynamism": DYNAMISM,
            "replicates": args.replicates,
        },
        "n_customers": args.n,
        "steps": args.steps,
        "workers": args.workers,
        "results": results,
    }
    out = ROOT / "results" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_sweep.json").write_text(json.dumps(payload, indent=2) + "\n")
    rows = [
        "| method | runs | seconds | runs/min | peak RSS, all processes (MB) | "
        "peak RSS, parent (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for method, r in results.items():
        rows.append(
            f"| {method} | {r['runs']} | {r['seconds']:.1f} | {r['runs_per_minute']:.1f} | "
            f"{r['peak_rss_tree_mb']:.0f} | {r['peak_rss_parent_mb']:.0f} |"
        )
    (out / "bench_sweep.md").write_text(
        f"# Sweep throughput ({payload['when']})\n\n{grid}, N = {args.n:,}, {args.steps} "
        f"steps, {args.workers} workers, {payload['machine']['cpus']} CPUs.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    print(f"written to {out}/bench_sweep.json and bench_sweep.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
