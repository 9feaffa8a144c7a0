"""A sweep from start to report: run every unfinished run into the store, then
aggregate, draw and report. Data flows one way: experiment -> executor -> store ->
aggregate -> figures and report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..paths import RESULTS
from ..provenance import manifest, package_versions
from . import aggregate, discovery, discovery_figures, effects, figures, robust
from .discovery_report import discovery_section, robust_section
from .executor import SweepOutcome, make_runner, task_key
from .experiment import Experiment, ExperimentError
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
    return RESULTS / f"{experiment.name}{'_quick' if experiment.quick else ''}"


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
        seed_rule=experiment.seed_rule + " (sim.provenance.derive_seed)",
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

    With a replicate rule the runs come in rounds: every point's first ``min``
    replicates, then more for the points still undecided (see
    :class:`~.experiment.ReplicateRule`). Decisions read only the stored runs of earlier
    rounds, which are seeded by point and replicate, so the rounds, and the results, are
    the same whatever the workers and however often the sweep is interrupted and resumed.
    Finished runs are written in batches; however the sweep stops (done, a failure,
    Ctrl-C), the runs finished so far are written before this returns.
    """
    store = RunStore(out)
    store.prepare(experiment, manifest_for(experiment))
    done = store.done()
    prefix = f"{experiment.name}-{experiment.fingerprint()}"
    with make_runner(workers, scheduler, prefix) as runner:

        def execute(tasks: list[Any], total: int, label: str) -> SweepOutcome:
            try:
                return runner.run(tasks, store.add, total=total, progress=progress, label=label)
            finally:
                store.flush()

        if experiment.rule is None:
            tasks = [t for t in experiment.tasks() if task_key(t) not in done]
            outcome = execute(tasks, experiment.n_runs, "sweep")
        else:
            outcome = _run_rounds(experiment, store, done, execute)
    if not outcome.interrupted:
        store.write_failures(outcome.failures)
    return outcome


def _run_rounds(
    experiment: Experiment, store: RunStore, done: set[tuple[int, int]], execute: Any
) -> SweepOutcome:
    """The replicate rule's rounds; the outcome sums them."""
    rule = experiment.rule
    assert rule is not None
    total = SweepOutcome(total=0)
    active, have = list(range(experiment.n_points)), 0
    schedule = rule.schedule()
    for round_, count in enumerate(schedule, start=1):
        wanted = [experiment.task(p, r) for p in active for r in range(have, count)]
        tasks = [t for t in wanted if task_key(t) not in done]
        label = f"round {round_}/{len(schedule)} ({len(active)} points x {count} replicates)"
        total.add(execute(tasks, len(wanted), label))
        if total.interrupted:
            return total
        failed = {f["point"] for f in total.failures}
        settled = aggregate.decided(store.summary(), experiment, active) | failed
        active, have = [p for p in active if p not in settled], count
        if not active:
            break
    return total


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
    winners = aggregate.winners(runs, experiment, level=experiment.decision_level)
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
    moves = effects.effects(summary, experiment)
    sections: list[str] = []
    if not moves.empty:
        moves.to_csv(out / "effects.csv", index=False)
        sections += effects.effects_section(moves, experiment)
    if experiment.discovery:
        sections += _discover(runs, experiment, out, paths)
    if experiment.robust:
        sections += _robust(runs, experiment, out, paths)
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
        sections=sections,
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


def _base_variant(table: Any, experiment: Experiment) -> Any:
    """The runs where every firm follows the base scenario's strategy (with [robust],
    the focal firm takes others too: those runs answer the robust question instead)."""
    if not experiment.robust:
        return table
    key = experiment.factor("focal_strategy").keys[0]
    return table[table[key] == experiment.robust["base"]]


def _discover(runs: Any, experiment: Experiment, out: Path, paths: dict[str, Path]) -> list[str]:
    """runs.csv/.parquet, boxes.csv, trajectory.csv, feature_scores.csv, their figures,
    and the report's section."""
    table = discovery.runs_table(runs, experiment)
    table.to_parquet(out / "runs.parquet", index=False)
    table.to_csv(out / "runs.csv", index=False)
    base = _base_variant(table, experiment)
    boxes, trajectory, scores = discovery.discover(base, experiment)
    boxes.to_csv(out / "boxes.csv", index=False)
    trajectory.to_csv(out / "trajectory.csv", index=False)
    scores.to_csv(out / "feature_scores.csv", index=False)
    paths["tradeoff"] = discovery_figures.plot_tradeoff(
        trajectory, experiment, out / "tradeoff.png"
    )
    paths["boxes"] = discovery_figures.plot_boxes(
        base, boxes, scores, experiment, out / "boxes.png"
    )
    paths["features"] = discovery_figures.plot_feature_scores(
        scores, experiment, out / "feature_scores.png"
    )
    return discovery_section(boxes, scores, len(base), paths)


def _robust(runs: Any, experiment: Experiment, out: Path, paths: dict[str, Path]) -> list[str]:
    """regret.csv, its figure and the report's section."""
    assert experiment.robust is not None
    focal = experiment.robust["focal"]
    shares = robust.focal_shares(runs, focal, "focal_strategy", experiment.futures)
    shares = shares[[s for s in experiment.robust["strategies"] if s in shares.columns]]
    table = robust.regret_table(shares)
    table.to_csv(out / "regret.csv", index=False)
    paths["regret"] = discovery_figures.plot_regret(
        shares, table, focal, experiment, out / "regret.png"
    )
    return robust_section(table, focal, paths)
