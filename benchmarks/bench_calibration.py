#!/usr/bin/env python3
"""What a calibration costs: simulations per second, acceptance rates and wall time.

Calibrates one shipped series (colour TV by default) with the command's defaults
(three keys: Bass p and q of awareness, mean loss aversion; budget 10,000; 200
particles) on W worker processes, and records per generation its epsilon,
simulations, acceptance rate, seconds and simulations per second, and for the whole
run the wall time and the machine's load average before and after (other users of a
shared machine slow it down; the load says how much). With ``--compare-one`` it first
times the same calibration on one worker with a smaller budget, for the speed-up.

    python benchmarks/bench_calibration.py [--series colour_tv] [--workers 2]
                                           [--budget 10000] [--compare-one 2000]

Writes results/benchmarks/bench_calibration.json and bench_calibration.md. Not a
timed test: the target (at most 5 minutes on 2 cores for three parameters) is judged
by reading the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 300  # issue 10: one shipped series, default budget, 3 keys, 2 cores


def calibrate_once(series: str, workers: int, budget: int) -> dict:
    """One calibration in a fresh directory; its generations and totals."""
    from sim.calibration import SHIPPED_DATA
    from sim.calibration.api import calibrate

    reports = []
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        calibration = calibrate(
            SHIPPED_DATA,
            series=series,
            budget=budget,
            workers=workers,
            out=out,
            on_generation=reports.append,
        )
    seconds = time.perf_counter() - began
    generations = [
        {
            "t": r.t,
            "epsilon": r.epsilon,
            "accepted": r.accepted,
            "simulations": r.evaluations,
            "acceptance_rate": r.acceptance_rate,
            "seconds": r.seconds,
            "simulations_per_s": r.evaluations / r.seconds if r.seconds else 0.0,
            "complete": r.complete,
        }
        for r in reports
    ]
    sampling = sum(r.seconds for r in reports)
    counted = sum(r.evaluations for r in reports)
    return {
        "series": series,
        "workers": workers,
        "budget": budget,
        "wall_seconds": seconds,
        "sampling_seconds": sampling,
        "simulations_counted": counted,
        "simulations_run": calibration.simulations_run,
        "simulations_per_s": calibration.simulations_run / sampling,
        "generations": generations,
        "final_epsilon": float(calibration.generations["epsilon"].iloc[-1]),
        "fit_rmse": calibration.rmse(),
        "bass_rmse": calibration.bass.rmse,
        "summary": calibration.summary.to_dict(orient="records"),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def markdown(result: dict, one: dict | None) -> str:
    lines = [
        "# Calibration benchmark",
        "",
        f"Series `{result['series']}`, default keys and priors, budget "
        f"{result['budget']} simulations, {result['workers']} worker process(es); "
        f"{platform.python_version()} on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), load average "
        f"{result['load_before']:.2f} before and {result['load_after']:.2f} after.",
        "",
        f"- wall time: **{result['wall_seconds']:.0f} s** (target: at most "
        f"{TARGET_SECONDS} s), of which sampling {result['sampling_seconds']:.0f} s",
        f"- simulations run: {result['simulations_run']} "
        f"({result['simulations_counted']} counted; the rest were evaluated past a "
        "generation's last acceptance and discarded)",
        f"- simulations per second while sampling: {result['simulations_per_s']:.0f}",
        f"- final epsilon (RMSE): {result['final_epsilon']:.4f}; fit RMSE of the "
        f"predictive median {result['fit_rmse']:.4f}, Bass {result['bass_rmse']:.4f}",
        "",
        "| generation | epsilon | accepted | simulations | acceptance rate | seconds | "
        "simulations/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in result["generations"]:
        name = "prior" if g["t"] < 0 else str(g["t"])
        name += "" if g["complete"] else " (cut off)"
        lines.append(
            f"| {name} | {g['epsilon']:.4g} | {g['accepted']} | {g['simulations']} | "
            f"{g['acceptance_rate']:.2f} | {g['seconds']:.1f} | {g['simulations_per_s']:.0f} |"
        )
    if one is not None:
        lines += [
            "",
            f"One worker, budget {one['budget']}: {one['simulations_per_s']:.0f} simulations/s "
            f"while sampling (load {one['load_before']:.2f} before); {result['workers']} "
            f"workers: {result['simulations_per_s'] / one['simulations_per_s']:.2f}x that.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="colour_tv")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--compare-one", type=int, default=0, metavar="BUDGET")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    args = parser.parse_args()
    one = calibrate_once(args.series, 1, args.compare_one) if args.compare_one else None
    result = calibrate_once(args.series, args.workers, args.budget)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_calibration.json").write_text(
        json.dumps({"result": result, "one_worker": one}, indent=2, default=str) + "\n"
    )
    text = markdown(result, one)
    (out / "bench_calibration.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
