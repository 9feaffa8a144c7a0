#!/usr/bin/env python3
"""Runs per minute of the scenario-discovery experiment: local processes against a Dask
LocalCluster with as many workers, measured in one invocation on the same runs.

The runs are the quick size of experiments/where_strategies_win.toml (2,000 customers,
200 steps, four strategies of the focal firm per sampled future), cut to ``--futures``
futures. Each way runs into a fresh store; the time is the wall clock of the runs
(the analysis after them is timed apart), and the two stores are compared: identical
results are part of the claim.

    python benchmarks/bench_discovery.py [--futures 60] [--workers 2]

Writes results/benchmarks/bench_discovery.json and bench_discovery.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXPERIMENT = ROOT / "experiments" / "where_strategies_win.toml"


def experiment(futures: int):
    """The quick discovery experiment with ``futures`` sampled futures."""
    from sim.scenario import read_toml
    from sim.sweep.loader import build_experiment

    data = read_toml(EXPERIMENT, "experiment")
    data["quick"]["samples"] = futures
    return build_experiment(data, str(EXPERIMENT), quick=True)


def timed(exp, out: Path, **where) -> dict:
    from sim.sweep.pipeline import analyse, run_sweep

    began = time.perf_counter()
    outcome = run_sweep(exp, out, progress=False, **where)
    seconds = time.perf_counter() - began
    assert outcome.finished == exp.n_runs and not outcome.failures, outcome
    began = time.perf_counter()
    analyse(exp, out, outcome)
    return {
        "runs": outcome.finished,
        "seconds": seconds,
        "runs_per_minute": 60 * outcome.finished / seconds,
        "analysis_seconds": time.perf_counter() - began,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--futures", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    args = parser.parse_args()

    import pandas as pd
    from distributed import LocalCluster

    from sim.sweep.store import RunStore

    exp = experiment(args.futures)
    print(f"{exp.name}: {exp.describe()}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        local, dask = Path(tmp) / "local", Path(tmp) / "dask"
        results["local"] = timed(exp, local, workers=args.workers)
        print(
            f"local, {args.workers} processes: {results['local']['runs_per_minute']:.0f} runs/min",
            flush=True,
        )
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            results["dask"] = timed(exp, dask, scheduler=cluster.scheduler_address)
            print(
                f"Dask LocalCluster, {args.workers} workers: "
                f"{results['dask']['runs_per_minute']:.0f} runs/min",
                flush=True,
            )
        identical = RunStore(local, exp).summary().equals(RunStore(dask, exp).summary())
        boxes = pd.read_csv(local / "boxes.csv").equals(pd.read_csv(dask / "boxes.csv"))
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "futures": args.futures,
        "workers": args.workers,
        "describe": exp.describe(),
        "results": results,
        "identical_runs": identical,
        "identical_boxes": boxes,
        "machine": {
            "cpus": psutil.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": list(psutil.getloadavg()),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_discovery.json").write_text(json.dumps(payload, indent=2) + "\n")
    rows = [
        "| where | runs | seconds | runs/min | analysis (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['runs']} | {r['seconds']:.1f} | {r['runs_per_minute']:.0f} | "
            f"{r['analysis_seconds']:.1f} |"
        )
    (args.out / "bench_discovery.md").write_text(
        f"# Discovery throughput ({payload['when']})\n\n{exp.describe()}; "
        f"{args.workers} workers each; {payload['machine']['cpus']} CPUs, load average at the "
        f"end {payload['machine']['load_average_at_end'][0]:.2f}.\n\n"
        + "\n".join(rows)
        + f"\n\nIdentical runs: {identical}; identical boxes: {boxes}.\n"
    )
    print(f"identical runs: {identical}, boxes: {boxes}; written to {args.out}/bench_discovery.*")
    return 0 if identical and boxes else 1


if __name__ == "__main__":
    sys.exit(main())
