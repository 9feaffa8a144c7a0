"""``python run.py sweep EXPERIMENT [--workers W] [--scheduler ADDRESS] [--out DIR] [--quick]``:
the options, what the terminal shows, and the exit code."""

from __future__ import annotations

import argparse
import json
import sys

from ..files import writable_directory
from ..memory import plan_workers, run_bytes
from .pipeline import (
    Experiment,
    ExperimentError,
    analyse,
    default_out,
    load_experiment,
    manifest_for,
    run_sweep,
    winners_text,
)
from .store import RunStore

__all__ = ["sweep_command"]


def sweep_command(args: argparse.Namespace) -> int:
    """Entry point of ``run.py sweep``: run (or resume), aggregate, report."""
    quick = bool(getattr(args, "quick", False))
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise ExperimentError("--workers", workers, "an integer >= 1")
    experiment = load_experiment(args.experiment, quick=quick)
    scheduler = getattr(args, "scheduler", None)
    if scheduler is None:
        workers = local_workers(experiment, workers)
    out = writable_directory(args.out if getattr(args, "out", None) else default_out(experiment))
    RunStore(out, experiment).check(manifest_for(experiment, out))  # another experiment's folder?
    print(f"{experiment.name}: {experiment.describe()}", file=sys.stderr)
    print(f"results in {out}/", file=sys.stderr)
    try:
        outcome = run_sweep(
            experiment,
            out,
            workers=workers,
            scheduler=scheduler,
            progress=not getattr(args, "quiet", False),
        )
    except (OSError, TimeoutError) as err:
        if scheduler is None:
            raise
        print(
            f"error: --scheduler {scheduler}: cannot reach the Dask scheduler ({err})",
            file=sys.stderr,
        )
        return 2
    if outcome.interrupted:
        saved = outcome.skipped + outcome.finished
        print(
            f"\ninterrupted: {saved} of {outcome.total} runs are saved in {out}/; "
            f"run the same command again to resume:\n  {_resume_command(args, experiment)}",
            file=sys.stderr,
        )
        return 130
    print(
        f"{outcome.finished} runs in {outcome.seconds:.1f} s"
        f"{f', {outcome.skipped} already done' if outcome.skipped else ''}"
        f"{f', {len(outcome.failures)} FAILED (see failures.json)' if outcome.failures else ''}",
        file=sys.stderr,
    )
    for failure in outcome.failures[:10]:
        print(f"  failed: {json.dumps(failure, default=str)}", file=sys.stderr)
    if len(outcome.failures) > 10:
        print(f"  ... {len(outcome.failures) - 10} more in {out}/failures.json", file=sys.stderr)
    result = analyse(experiment, out, outcome)
    if (
        result["winners"] is not None
        and experiment.report.get("analysis") != "bass"
        and experiment.design == "grid"
        and len(experiment.firm_names) > 1
        and not experiment.levers
    ):
        print(winners_text(result["winners"], experiment))
    elif result.get("headline"):
        print(result["headline"])
    if result["report"] is None:
        print("no finished runs, so no report", file=sys.stderr)
    else:
        print(f"\nreport: {result['report']}\nbrief:  {result['brief']} (open it in a browser)")
    return 1 if outcome.failures else 0


def local_workers(experiment: Experiment, workers: int | None) -> int:
    """The worker processes to run on, as many as fit in the free memory beside each
    other for the experiment's largest design point (see :func:`sim.memory.plan_workers`)."""
    point = max(
        range(experiment.n_points),
        key=lambda i: run_bytes(experiment.points[i].params, experiment.points[i].firms, 1),
    )
    design = experiment.points[point]
    chosen, note = plan_workers(
        design.params,
        design.firms,
        experiment.steps,
        workers,
        source=f"{experiment.source} (design point {point})",
    )
    if note:
        print(note, file=sys.stderr)
    return chosen


def _resume_command(args: argparse.Namespace, experiment: Experiment) -> str:
    parts = [experiment.command().replace(" --quick", "")]
    if getattr(args, "quick", False):
        parts.append("--quick")
    for flag in ("workers", "scheduler", "out"):
        value = getattr(args, flag, None)
        if value is not None:
            parts.append(f"--{flag} {value}")
    return " ".join(parts)
