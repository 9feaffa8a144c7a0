#!/usr/bin/env python3
"""What a calibration costs: simulations per second, acceptance rates and wall time;
and what the backtest and the calibration check cost per case.

Calibrates one shipped series (colour TV by default) with the command's defaults
(three keys: Bass p and q of awareness, mean loss aversion, plus the observation
noise; budget 10,000; 200 particles) on W worker processes, and records per
generation its temperature, simulations, acceptance rate, seconds and simulations per
second, and for the whole run the wall time and the machine's load average before and
after (other users of a shared machine slow it down; the load says how much). With
``--compare-one`` it first times the same calibration on one worker with a smaller
budget, for the speed-up. ``--backtest-series NAME`` times the backtest of one series
(its three origins: calibrations and baselines); ``--check-datasets N`` times N
datasets of the calibration check (at its default budget, 4,000). Both are a sample of
the full commands, whose time is their per-case time times their cases. ``--seeds N``
calibrates the series again with ABC seeds 1 to N and tabulates each key's interval:
how much a posterior moves with the seed alone.

    python benchmarks/bench_calibration.py [--series colour_tv] [--workers 2]
        [--budget 10000] [--compare-one 2000] [--backtest-series NAME]
        [--check-datasets N] [--seeds N]

Writes results/benchmarks/bench_calibration.json and bench_calibration.md. Not a
timed test: the target (at most 5 minutes on 2 cores for one calibration) is judged
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

TARGET_SECONDS = 300  # one shipped series, default budget, 2 cores


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
    coverage = calibration.coverage()
    return {
        "series": series,
        "workers": workers,
        "budget": budget,
        "wall_seconds": seconds,
        "sampling_seconds": sampling,
        "simulations": calibration.spent,
        "simulations_run": calibration.simulations_run,
        "simulations_per_s": calibration.simulations_run / sampling,
        "stopped": calibration.stopped,
        "pooled": calibration.pooled,
        "ess": calibration.ess,
        "generations": generations,
        "final_temperature": float(calibration.generations["epsilon"].iloc[-1]),
        "fit_rmse": calibration.rmse(),
        "coverage90_in": coverage["coverage90_in"],
        "bass_rmse": calibration.bass.rmse,
        "summary": calibration.summary.to_dict(orient="records"),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def seed_spread(series: str, workers: int, budget: int, seeds: int) -> list[dict]:
    """The same calibration with ABC seeds 1 .. ``seeds``: each key's q05, q50, q95."""
    from sim.calibration import SHIPPED_DATA
    from sim.calibration.api import calibrate

    rows = []
    for seed in range(1, seeds + 1):
        calibration = calibrate(
            SHIPPED_DATA, series=series, budget=budget, workers=workers, seed=seed
        )
        for row in calibration.summary.itertuples():
            rows.append(
                {"seed": seed, "key": row.key, "q05": row.q05, "q50": row.q50, "q95": row.q95}
            )
        launch = calibration.launch_quantiles()
        rows.append(
            {"seed": seed, "key": "launch", "q05": launch[0], "q50": launch[1], "q95": launch[2]}
        )
    return rows


def backtest_sample(series: str, workers: int) -> dict:
    """The backtest of one shipped series (every origin), timed."""
    from sim.calibration import SHIPPED_DATA
    from sim.calibration.validation import backtest

    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        table = backtest(SHIPPED_DATA, [series], workers=workers, out=Path(out))
    seconds = time.perf_counter() - began
    cases = len(table) // 4
    return {
        "series": series,
        "cases": cases,
        "wall_seconds": seconds,
        "seconds_per_case": seconds / cases,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def check_sample(datasets: int, workers: int) -> dict:
    """``datasets`` datasets of the calibration check at its defaults, timed."""
    from sim.calibration.sbc import CheckSettings, calibration_check

    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    _, _, records = calibration_check(settings=CheckSettings(datasets=datasets), workers=workers)
    seconds = time.perf_counter() - began
    return {
        "datasets": datasets,
        "wall_seconds": seconds,
        "seconds_per_dataset": seconds / datasets,
        "simulations_per_dataset": sum(r["simulations"] for r in records) / datasets,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def markdown(
    result: dict,
    one: dict | None,
    backtest: dict | None,
    check: dict | None,
    spread: list[dict] | None = None,
) -> str:
    lines = [
        "# Calibration benchmark",
        "",
        f"Series `{result['series']}`, default keys, priors and observation model, budget "
        f"{result['budget']} simulations, {result['workers']} worker process(es); "
        f"{platform.python_version()} on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), load average "
        f"{result['load_before']:.2f} before and {result['load_after']:.2f} after.",
        "",
        f"- wall time: **{result['wall_seconds']:.0f} s** (target: at most "
        f"{TARGET_SECONDS} s), of which sampling {result['sampling_seconds']:.0f} s",
        f"- simulations: {result['simulations']} (stopped: {result['stopped']}), every one "
        f"of them counted; {result['simulations_run']} run in this process",
        f"- simulations per second while sampling: {result['simulations_per_s']:.0f}",
        f"- final temperature {result['final_temperature']:.3g}; {result['pooled']} "
        f"generation(s) pooled, effective sample size {result['ess']:.0f}; fit RMSE of "
        f"the predictive median {result['fit_rmse']:.4f} (Bass {result['bass_rmse']:.4f}); "
        f"fitted points in the 90 % band {result['coverage90_in']:.0%}",
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
    if backtest is not None:
        lines += [
            "",
            f"Backtest of `{backtest['series']}`: {backtest['cases']} cases in "
            f"{backtest['wall_seconds']:.0f} s, {backtest['seconds_per_case']:.0f} s per case "
            f"(load {backtest['load_before']:.2f} before, {backtest['load_after']:.2f} after).",
        ]
    if check is not None:
        lines += [
            "",
            f"Calibration check: {check['datasets']} datasets in {check['wall_seconds']:.0f} s, "
            f"{check['seconds_per_dataset']:.0f} s and {check['simulations_per_dataset']:.0f} "
            f"simulations per dataset (load {check['load_before']:.2f} before, "
            f"{check['load_after']:.2f} after).",
        ]
    if spread:
        lines += [
            "",
            "The same calibration with other ABC seeds (q05 / q50 / q95 of each key):",
            "",
            "| key | "
            + " | ".join(f"seed {s}" for s in sorted({r["seed"] for r in spread}))
            + " |",
            "|---|" + "---|" * len({r["seed"] for r in spread}),
        ]
        for key in dict.fromkeys(r["key"] for r in spread):
            cells = [
                f"{r['q05']:.4g} / {r['q50']:.4g} / {r['q95']:.4g}"
                for r in spread
                if r["key"] == key
            ]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="colour_tv")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--compare-one", type=int, default=0, metavar="BUDGET")
    parser.add_argument("--backtest-series", metavar="NAME")
    parser.add_argument("--check-datasets", type=int, default=0, metavar="N")
    parser.add_argument("--seeds", type=int, default=0, metavar="N", help="ABC seeds to compare")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    args = parser.parse_args()
    one = calibrate_once(args.series, 1, args.compare_one) if args.compare_one else None
    result = calibrate_once(args.series, args.workers, args.budget)
    backtest = backtest_sample(args.backtest_series, args.workers) if args.backtest_series else None
    check = check_sample(args.check_datasets, args.workers) if args.check_datasets else None
    spread = seed_spread(args.series, args.workers, args.budget, args.seeds) if args.seeds else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_calibration.json").write_text(
        json.dumps(
            {
                "result": result,
                "one_worker": one,
                "backtest": backtest,
                "check": check,
                "seeds": spread,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    text = markdown(result, one, backtest, check, spread)
    (out / "bench_calibration.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
