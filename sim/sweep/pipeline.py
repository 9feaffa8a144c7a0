"""A sweep from start to report: run every unfinished run into the store, then
aggregate, draw and report. Data flows one way: experiment -> executor -> store ->
aggregate -> figures and report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..provenance import manifest, package_versions
from . import aggregate, figures
from .executor import SweepOutcome, run_dask, run_local
from .experiment import ROOT, Experiment, ExperimentError
from .loader import load_experiment
from .report import winners_text, write_report
from .store import RunStore

__all__ = [
    "Experiment",
    "ExperimentError",
    "analyse",
    "default_out",
    "load_experiment",
    "manifest_for",
    "run_sweep",
    "winners_text",
]


def default_out(experiment: Experiment) -> Path:
    """results/NAME, or results/NAME_quick for the quick size."""
    return ROOT / "results" / f"{experiment.name}{'_quick' if experiment.quick else ''}"


def manifest_for(experiment: Experiment) -> dict[str, Any]:
    """Everything needed to know what was run and to run it again."""
    table = experiment.table.copy()
    table.insert(0, "point", range(len(table)))
    return manifest(
        experiment=experiment.name,
        source=experiment.source,
        quick=experiment.quick,
        describe=experiment.describe(),
        fingerprint=experiment.fingerprint(),
        question=experiment.question,
        design=experiment.design,
        samples=experiment.samples,
        replicates=experiment.replicates,
        steps=experiment.steps,
        seed=experiment.seed,
        seed_rule="run (point i, replicate r) uses sim.provenance.derive_seed(seed, i, r)",
        keep=list(experiment.keep),
        factors=[
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
        design_table=table.to_dict(orient="records"),
        point_overrides=[p.overrides for p in experiment.points],
        notes=experiment.notes,
        base_scenario=experiment.base.to_dict(),
        experiment_file=experiment.raw,
        command=experiment.command(),
    )


def run_sweep(
    experiment: Experiment,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run every unfinished (point x replicate) of ``experiment`` into the store at ``out``.

    Finished runs are written in batches; whatever way the sweep stops (done, a
    failure, Ctrl-C), the runs finished so far are written before this returns.
    """
    store = RunStore(out)
    store.prepare(experiment, manifest_for(experiment))
    done = store.done()
    tasks = [
        t for t in experiment.tasks() if (t.labels["point"], t.labels["replicate"]) not in done
    ]
    try:
        if scheduler is not None:
            outcome = run_dask(
                tasks,
                store.add,
                scheduler=scheduler,
                total=experiment.n_runs,
                progress=progress,
                prefix=f"{experiment.name}-{experiment.fingerprint()}",
            )
        else:
            outcome = run_local(
                tasks, store.add, workers=workers, total=experiment.n_runs, progress=progress
            )
    finally:
        store.flush()
    if not outcome.interrupted:
        store.write_failures(outcome.failures)
    return outcome


def analyse(
    experiment: Experiment, out: str | Path, outcome: SweepOutcome | None = None
) -> dict[str, Any]:
    """Aggregate the store at ``out``, draw the figures and write ``report.md``."""
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
    versions = package_versions()
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
        versions={k: versions[k] for k in ("python", "innovation-adoption", "mesa", "numpy")},
    )
    return {
        "report": path,
        "winners": winners,
        "summary": summary,
        "figures": paths,
        "sobol": sobol,
        "bass": bass,
    }
