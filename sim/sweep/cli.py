"""``python run.py sweep EXPERIMENT [--workers W] [--scheduler ADDRESS] [--out DIR] [--quick]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..runner import package_versions
from .experiment import ROOT, Experiment, ExperimentError, load_experiment
from .store import RunStore

__all__ = ["analyse", "default_out", "run_sweep", "sweep_command"]


def default_out(experiment: Experiment) -> Path:
    """results/NAME, or results/NAME_quick for the quick size."""
    return ROOT / "results" / f"{experiment.name}{'_quick' if experiment.quick else ''}"


def manifest_for(experiment: Experiment) -> dict[str, Any]:
    """Everything needed to know what was run and to run it again."""
    table = experiment.table.copy()
    table.insert(0, "point", range(len(table)))
    return {
        "experiment": experiment.name,
        "source": experiment.source,
        "quick": experiment.quick,
        "describe": experiment.describe(),
        "fingerprint": experiment.fingerprint(),
        "question": experiment.question,
        "design": experiment.design,
        "samples": experiment.samples,
        "replicates": experiment.replicates,
        "steps": experiment.steps,
        "seed": experiment.seed,
        "seed_rule": "run (point i, replicate r) uses sim.runner.derive_seed(seed, i, r)",
        "keep": list(experiment.keep),
        "factors": [
            {
                "name": f.name,
                "keys": list(f.keys),
                "values": list(f.values) if f.values is not None else None,
                "low": f.low,
                "high": f.high,
                "levels": f.levels,
                "scale": f.scale,
            }
            for f in experiment.factors
        ],
        "design_table": table.to_dict(orient="records"),
        "point_overrides": experiment.point_overrides,
        "base_scenario": experiment.base.to_dict(),
        "experiment_file": experiment.raw,
        "versions": package_versions(),
        "command": experiment.command(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def run_sweep(
    experiment: Experiment,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> Any:
    """Run every unfinished (point x replicate) of ``experiment`` into the store at ``out``."""
    from .executor import run_dask, run_local

    store = RunStore(out)
    store.prepare(experiment, manifest_for(experiment))
    done = store.done()
    tasks = [t for t in experiment.tasks() if (t.point, t.replicate) not in done]
    if scheduler is not None:
        outcome = run_dask(
            tasks,
            store.write,
            scheduler=scheduler,
            total=experiment.n_runs,
            progress=progress,
            prefix=f"{experiment.name}-{experiment.fingerprint()}",
        )
    else:
        outcome = run_local(
            tasks, store.write, workers=workers, total=experiment.n_runs, progress=progress
        )
    if not outcome.interrupted:
        store.write_failures(outcome.failures)
    return outcome


def analyse(experiment: Experiment, out: str | Path, outcome: Any = None) -> dict[str, Any]:
    """Aggregate the store at ``out``, draw the figures and write ``report.md``."""
    from . import aggregate, figures
    from .report import write_report

    out = Path(out)
    store = RunStore(out)
    runs = store.summary()
    if runs.empty:
        return {"report": None, "winners": None}
    summary = aggregate.aggregate(runs, experiment)
    summary.to_parquet(out / "summary.parquet", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    winners = aggregate.winners(runs, experiment)
    winners.to_csv(out / "winners.csv", index=False)
    timeseries = store.timeseries()
    share_columns = [c for c in timeseries.columns if c.startswith("share_")]
    bands = aggregate.curves(timeseries, share_columns) if share_columns else None
    paths: dict[str, Path] = {}
    report = experiment.report
    sobol = bass = None
    notes: list[str] = []
    if report.get("analysis") == "bass" and bands is not None:
        bass = aggregate.bass_check(bands, experiment)
        bass.to_csv(out / "bass_check.csv", index=False)
        paths["bass"] = figures.plot_bass(bands, experiment, out / "bass_check.png")
    elif experiment.design == "sobol":
        sobol, notes = aggregate.sobol_indices(runs, experiment, report.get("metrics"))
        sobol.to_csv(out / "sobol_indices.csv", index=False)
        if not sobol.empty:
            paths["sobol"] = figures.plot_sobol(sobol, experiment, out / "sobol_indices.png")
    else:
        if "map" in report:
            paths["map"] = figures.plot_strategy_map(winners, experiment, out / "strategy_map.png")
        if experiment.factors and experiment.design == "grid":
            factor = report.get("metric_factor", experiment.factor_names[0])
            metrics = report.get("metrics") or [report.get("metric", "final_share")]
            for metric in metrics:
                paths[f"metric:{metric}"] = figures.plot_metric(
                    summary, experiment, metric, factor, out / f"{metric}_by_{factor}.png"
                )
        if bands is not None and experiment.design == "grid":
            paths["curves"] = figures.plot_curves(bands, experiment, out / "adoption_curves.png")
    path = write_report(
        experiment,
        out,
        winners=winners,
        summary=summary,
        figures=paths,
        sobol=sobol,
        notes=notes,
        bass=bass,
        outcome=outcome,
        versions=_short_versions(),
    )
    return {
        "report": path,
        "winners": winners,
        "summary": summary,
        "figures": paths,
        "sobol": sobol,
        "bass": bass,
    }


def _short_versions() -> dict[str, str]:
    versions = package_versions()
    keys = ("python", "innovation-adoption", "mesa", "numpy")
    return {k: versions[k] for k in keys if k in versions}


def sweep_command(args: argparse.Namespace) -> int:
    """Entry point of ``run.py sweep``: run (or resume), aggregate, report."""
    from .report import winners_text

    experiment = load_experiment(args.experiment, quick=bool(getattr(args, "quick", False)))
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise ExperimentError(f"--workers = {workers}: expected an integer >= 1")
    scheduler = getattr(args, "scheduler", None)
    out = Path(args.out) if getattr(args, "out", None) else default_out(experiment)
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
    ):
        print(winners_text(result["winners"], experiment))
    if result["report"] is None:
        print("no finished runs, so no report", file=sys.stderr)
    else:
        print(f"\nreport: {result['report']}")
    return 1 if outcome.failures else 0


def _resume_command(args: argparse.Namespace, experiment: Experiment) -> str:
    parts = [experiment.command().replace(" --quick", "")]
    if getattr(args, "quick", False):
        parts.append("--quick")
    for flag in ("workers", "scheduler", "out"):
        value = getattr(args, flag, None)
        if value is not None:
            parts.append(f"--{flag} {value}")
    return " ".join(parts)
