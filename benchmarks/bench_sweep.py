#!/usr/bin/env python3
"""What the sweep layer costs on top of the model, and its throughput against batch_run.

1. **Overhead** (always): the same runs (the baseline, a 3 x 2 grid of mean loss
   aversion x market dynamism, R replicates; N = 2,000, 200 steps by default) made two
   ways in one process, in alternating rounds so that both see the same machine:
   *bare*, ``InnovationModel(**kwargs, customer_agents=False, rng=seed).run(steps)``
   and nothing else (no agent objects: the sweep creates none either), and
   *sweep*, ``run_sweep(..., workers=1)`` into a fresh store (every run summarised,
   its first releases' Bass fits, kept time series, Parquet parts, the manifest).
   Times are the process's CPU time (other users of a shared machine disturb it far
   less than wall time); the ratio of the medians over rounds is the overhead. The
   analysis that follows a sweep (aggregation, figures, report) is timed apart: it
   runs once per sweep, not per run.
2. **Throughput and memory** (``--compare-batch-run``): the sweep runner against
   ``mesa.batch_run`` with the same worker processes, each in its own child process
   while a sampler adds up the resident memory of its process tree every 20 ms.

    python benchmarks/bench_sweep.py [--replicates 5] [--rounds 5] [--n 2000] [--steps 200]
                                     [--compare-batch-run [--workers 2]]

Writes results/benchmarks/bench_sweep.json and bench_sweep.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
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
TARGET = 0.25  # issue 9: the sweep adds at most 25 % to bare model runs


def experiment(n: int, steps: int, replicates: int):
    """The benchmark grid as a sweep experiment."""
    from sim.sweep.loader import build_experiment

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


def overhead(args: argparse.Namespace) -> dict:
    """Bare runs against the same runs through the sweep, alternating, CPU time."""
    from sim.model import InnovationModel
    from sim.sweep.pipeline import analyse, run_sweep

    exp = experiment(args.n, args.steps, args.replicates)
    tasks = exp.tasks()
    kwargs = exp.point_kwargs
    InnovationModel(n_customers=200, rng=0).run(2)  # compiled kernels loaded once, first
    bare, sweep, analysis = [], [], []
    for round_ in range(args.rounds):
        began = time.process_time()
        for task in tasks:
            model = InnovationModel(
                **kwargs[task.labels["point"]], customer_agents=False, rng=task.seed
            )
            model.run(exp.steps)
        bare.append((time.process_time() - began) / len(tasks))
        with tempfile.TemporaryDirectory() as out:
            began = time.process_time()
            outcome = run_sweep(exp, out, workers=1, progress=False)
            sweep.append((time.process_time() - began) / len(tasks))
            assert outcome.finished == len(tasks) and not outcome.failures
            began = time.process_time()
            analyse(exp, out, outcome)
            analysis.append(time.process_time() - began)
        print(
            f"  round {round_ + 1}/{args.rounds}: bare {1e3 * bare[-1]:.1f} ms/run, "
            f"sweep {1e3 * sweep[-1]:.1f} ms/run, analysis {analysis[-1]:.2f} s",
            flush=True,
        )
    b, s = statistics.median(bare), statistics.median(sweep)
    return {
        "runs_per_round": len(tasks),
        "rounds": args.rounds,
        "bare_ms_per_run": [1e3 * x for x in bare],
        "sweep_ms_per_run": [1e3 * x for x in sweep],
        "analysis_s": analysis,
        "bare_runs_per_s": 1 / b,
        "sweep_runs_per_s": 1 / s,
        "overhead": s / b - 1,
        "round_overheads": [y / x - 1 for x, y in zip(bare, sweep, strict=True)],
    }


def child_sweep(args: argparse.Namespace) -> dict:
    from sim.sweep.pipeline import run_sweep

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
    command = [sys.executable, __file__, "--child", method, "--n", str(args.n)]
    command += ["--steps", str(args.steps), "--replicates", str(args.replicates)]
    command += ["--workers", str(args.workers)]
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
    result["runs_per_minute"] = 60 * result["runs"] / result["seconds"]
    result["peak_rss_tree_mb"] = peak["tree"] / 2**20
    result["peak_rss_parent_mb"] = peak["parent"] / 2**20
    return result


def report(payload: dict) -> str:
    """bench_sweep.md: every number in it comes from ``payload``."""
    o = payload["overhead"]
    lines = [
        f"# Sweep benchmark ({payload['when']})",
        "",
        f"Baseline, {len(LAMBDAS)} x {len(DYNAMISM)} grid x {payload['replicates']} replicates "
        f"= {o['runs_per_round']} runs per round, N = {payload['n_customers']:,}, "
        f"{payload['steps']} steps; {payload['machine']['cpus']} CPUs, load average at the end "
        f"{payload['machine']['load_average_at_end'][0]:.2f}. CPU time of one process.",
        "",
        "## What the sweep adds to bare model runs (1 worker)",
        "",
        "| round | bare (ms/run) | sweep (ms/run) | overhead |",
        "|---:|---:|---:|---:|",
    ]
    for i, (b, s, r) in enumerate(
        zip(o["bare_ms_per_run"], o["sweep_ms_per_run"], o["round_overheads"], strict=True)
    ):
        lines.append(f"| {i + 1} | {b:.1f} | {s:.1f} | {r:+.1%} |")
    verdict = "within" if o["overhead"] <= TARGET else "ABOVE"
    lines += [
        "",
        f"Medians: bare {o['bare_runs_per_s']:.2f} runs/s, sweep {o['sweep_runs_per_s']:.2f} "
        f"runs/s: the sweep adds {o['overhead']:.1%} ({verdict} the {TARGET:.0%} target). "
        f"The analysis after the runs (aggregate, figures, report) took "
        f"{statistics.median(o['analysis_s']):.2f} s per sweep (median).",
    ]
    if payload.get("throughput"):
        lines += [
            "",
            f"## Throughput and memory, {payload['workers']} workers",
            "",
            "| method | runs | seconds | runs/min | peak RSS, all processes (MB) | "
            "peak RSS, parent (MB) |",
            "|---|---|---|---|---|---|",
        ]
        for method, r in payload["throughput"].items():
            lines.append(
                f"| {method} | {r['runs']} | {r['seconds']:.1f} | {r['runs_per_minute']:.1f} | "
                f"{r['peak_rss_tree_mb']:.0f} | {r['peak_rss_parent_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--compare-batch-run", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    parser.add_argument("--child", choices=("sweep", "batch_run"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_sweep if args.child == "sweep" else child_batch_run
        print(json.dumps(run(args)))
        return 0

    print(f"overhead: N = {args.n:,}, {args.steps} steps, {args.rounds} rounds", flush=True)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "n_customers": args.n,
        "steps": args.steps,
        "replicates": args.replicates,
        "workers": args.workers,
        "overhead": overhead(args),
    }
    o = payload["overhead"]
    print(
        f"bare {o['bare_runs_per_s']:.2f} runs/s, sweep {o['sweep_runs_per_s']:.2f} runs/s: "
        f"overhead {o['overhead']:.1%} (target <= {TARGET:.0%})"
    )
    if args.compare_batch_run:
        payload["throughput"] = {}
        for method in ("sweep", "batch_run"):
            r = payload["throughput"][method] = measure(method, args)
            print(
                f"{method:>10}: {r['runs']} runs in {r['seconds']:.1f} s = "
                f"{r['runs_per_minute']:.1f} runs/min; peak memory {r['peak_rss_tree_mb']:.0f} MB"
            )
    payload["machine"] = {
        "cpus": psutil.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_end": list(psutil.getloadavg()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_sweep.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.out / "bench_sweep.md").write_text(report(payload))
    print(f"written to {args.out}/bench_sweep.json and bench_sweep.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
