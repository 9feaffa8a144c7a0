"""A sweep from start to report: run every unfinished run into the store, then
aggregate, draw and report. Data flows one way: experiment -> executor -> store ->
aggregate -> figures and report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..files import OutputSet
from ..provenance import manifest, package_versions
from . import aggregate, discovery, discovery_figures, effects, figures, robust
from .brief import write_brief
from .discovery_report import discovery_section, robust_section
from .executor import SweepOutcome, make_runner, task_key
from .experiment import Experiment, ExperimentError
from .loader import load_experiment
from .report import winners_text, write_report
from .store import RunStore
from .tornado import tornado_table
from .tree import decision_tree
from .verdicts import NO_WINNER, judge

__all__ = [
    "OUTPUTS_MARKER",
    "Experiment",
    "ExperimentError",
    "analyse",
    "default_out",
    "load_experiment",
    "manifest_for",
    "replicate_plan",
    "run_sweep",
    "used_runs",
    "winners_text",
]

#: Written last by the analysis: its tables, figures and report are complete.
OUTPUTS_MARKER = "outputs.json"


def default_out(experiment: Experiment) -> Path:
    """results/NAME, or results/NAME_quick for the quick size."""
    return experiment.default_out


def manifest_for(experiment: Experiment, out: str | Path | None = None) -> dict[str, Any]:
    """Everything needed to know what was run and to run it again (into ``out``)."""
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
        step_unit=experiment.step_unit,
        metric=experiment.metric,
        verdict_rules=vars(experiment.rules()),
        focal=experiment.focal,
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
                "role": f.role,
            }
            for f in experiment.factors
        ],
        design_table=table.to_dict(orient="records"),
        point_overrides=[p.overrides for p in experiment.points],
        notes=experiment.notes,
        base_scenario=experiment.base.to_dict(),
        experiment_file=experiment.raw,
        overrides=experiment.overrides,
        command=experiment.command(out),
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

    The store checks every stored run against the experiment first (see
    :class:`~.store.RunStore`). With a replicate rule the runs come in rounds: every
    point's first ``min`` replicates, then more for the points still undecided (see
    :class:`~.experiment.ReplicateRule`). The decision after a round reads exactly the
    replicates of that round and the earlier ones, whatever else is stored (an
    interrupted session may have stored some of a later round), and runs are seeded by
    point and replicate, so the rounds, and the results, are the same whatever the
    workers and however often the sweep is interrupted and resumed. Finished runs are
    written in batches; however the sweep stops (done, a failure, Ctrl-C), the runs
    finished so far are written before this returns.
    """
    store = RunStore(out, experiment)
    done = store.prepare(manifest_for(experiment, out))
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
        settled = _settled(store.summary(), experiment, active, count) | failed
        active, have = [p for p in active if p not in settled], count
        if not active:
            break
    return total


def _settled(runs: Any, experiment: Experiment, points: list[int], count: int) -> set[int]:
    """Which of ``points`` the rule calls decided with ``count`` replicates: it reads
    replicates 0 .. count - 1 only, never a later round's."""
    if runs.empty:
        return set()
    return aggregate.decided(runs[runs["replicate"] < count], experiment, points)


def replicate_plan(experiment: Experiment, runs: Any) -> dict[int, int]:
    """Replicates each design point gets, as the design and the stored runs decide.

    Without a rule: the experiment's replicates. With one, each point's rounds are
    replayed from its stored runs (a point's decision depends on its own runs only): a
    point keeps the count of the first round it is decided at, or whose runs are not
    all stored yet, or the rule's ``max``.
    """
    points = range(experiment.n_points)
    if experiment.rule is None:
        return dict.fromkeys(points, experiment.replicates)
    stored = runs.groupby("point")["replicate"].agg(set) if not runs.empty else {}
    plan: dict[int, int] = {}
    active = list(points)
    for count in experiment.rule.schedule():
        plan.update(dict.fromkeys(active, count))
        have = [p for p in active if p in stored and set(range(count)) <= stored[p]]
        settled = _settled(runs, experiment, have, count) if have else set()
        active = [p for p in have if p not in settled]
        if not active:
            break
    return plan


def used_runs(experiment: Experiment, store: RunStore) -> tuple[Any, Any, int]:
    """The stored runs the design asks for (summary and time series) and how many
    stored runs it does not ask for (beyond a point's replicates under the rule)."""
    runs = store.summary()
    if runs.empty:
        return runs, store.timeseries(), 0
    plan = replicate_plan(experiment, runs)

    def wanted(frame: Any) -> Any:
        if frame.empty:
            return frame
        return frame[frame["replicate"] < frame["point"].map(plan)].reset_index(drop=True)

    used = wanted(runs)
    unused = runs[["point", "replicate"]].drop_duplicates().shape[0]
    unused -= used[["point", "replicate"]].drop_duplicates().shape[0]
    return used, wanted(store.timeseries()), unused


def analyse(
    experiment: Experiment, out: str | Path, outcome: SweepOutcome | None = None
) -> dict[str, Any]:
    """Aggregate the runs the design asks for, write the tables, draw the figures, and
    write ``report.md`` and the one-page brief ``report.html`` (read from the tables).

    Every file is written whole; ``outputs.json``, the marker that they belong together,
    is removed first and written last (a folder without it holds an unfinished
    analysis, never a mix of two).
    """
    out = Path(out)
    store = RunStore(out, experiment)
    runs, timeseries, unused = used_runs(experiment, store)
    if runs.empty:
        return {"report": None, "winners": None}
    used = runs[["point", "replicate"]].drop_duplicates().shape[0]
    if outcome is not None:
        outcome.used, outcome.unused = used, unused
    files = OutputSet(out, OUTPUTS_MARKER)
    summary = aggregate.aggregate(runs, experiment)
    files.parquet("summary.parquet", summary)
    files.csv("summary.csv", summary)
    winners = aggregate.winners(runs, experiment)
    files.csv("winners.csv", winners)
    table = discovery.runs_table(runs, experiment)
    files.parquet("runs.parquet", table)
    files.csv("runs.csv", table)
    files.csv("tornado.csv", tornado_table(table, experiment))
    share_columns = [c for c in timeseries.columns if c.startswith("share_")]
    bands = aggregate.curves(timeseries, share_columns) if share_columns else None
    paths: dict[str, Path] = {}
    report = experiment.report
    sobol = bass = None
    notes: list[str] = []
    if report.get("analysis") == "bass" and bands is not None:
        bass = aggregate.bass_check(bands, experiment)
        files.csv("bass_check.csv", bass)
        paths["bass"] = figures.plot_bass(bands, experiment, out / "bass_check.png")
    elif experiment.design == "sobol":
        sobol, notes = aggregate.sobol_indices(runs, experiment, report.get("metrics"))
        files.csv("sobol_indices.csv", sobol)
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
        files.csv("effects.csv", moves)
        sections += effects.effects_section(moves, experiment)
    explained = _outcomes(table, experiment)
    if experiment.discovery and explained is not None:
        sections += _discover(explained, experiment, files, paths)
    if explained is not None:
        frame, column, _ = explained
        tree = decision_tree(
            discovery.sampled_frame(frame, experiment),
            frame[column].to_numpy(),
            discovery.parameter_labels(experiment),
            experiment.seed,
        )
        files.csv("tree.csv", tree)
    if experiment.levers:
        sections += _choices(runs, experiment, files, paths)
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
    brief, headline = write_brief(experiment, out)
    files.add(path, brief, *paths.values())
    files.finish(
        {
            "experiment": experiment.name,
            "fingerprint": experiment.fingerprint(),
            "runs_used": used,
            "stored_runs_not_used": unused,
        }
    )
    return {
        "report": path,
        "brief": brief,
        "headline": headline,
        "winners": winners,
        "summary": summary,
        "figures": paths,
        "sobol": sobol,
        "bass": bass,
    }


def _outcomes(table: pd.DataFrame, experiment: Experiment) -> tuple[pd.DataFrame, str, str] | None:
    """What discovery and the decision tree explain, from the runs table: (rows, the
    outcome column, the target). ``winner``: who wins each run (with levers, the runs
    where every lever takes the base scenario's value); ``choice``: the focal firm's best
    option in each world. None when nothing is sampled."""
    if not any(f.sampled for f in experiment.factors) or experiment.design == "grid":
        return None
    target = experiment.target
    if target == "choice":
        return discovery.worlds_table(table, experiment), "best", target
    if experiment.levers:
        base = experiment.base_options()
        mask = np.ones(len(table), dtype=bool)
        for name, level in base.items():
            column = discovery.parameter_columns(experiment)[name]
            mask &= (table[column] == level).to_numpy()
        table = table[mask]
    return table, "winner_strategy", target


def _discover(
    explained: tuple[pd.DataFrame, str, str],
    experiment: Experiment,
    files: OutputSet,
    paths: dict[str, Path],
) -> list[str]:
    """boxes.csv, trajectory.csv, feature_scores.csv, their figures, and the report's
    section."""
    out = files.directory
    frame, column, target = explained
    boxes, trajectory, scores = discovery.discover(frame, experiment, column)
    files.csv("boxes.csv", boxes)
    files.csv("trajectory.csv", trajectory)
    files.csv("feature_scores.csv", scores)
    if not trajectory.empty:
        paths["tradeoff"] = discovery_figures.plot_tradeoff(
            trajectory, boxes, experiment, out / "tradeoff.png"
        )
    if not boxes.empty:
        paths["boxes"] = discovery_figures.plot_boxes(
            frame, boxes, scores, experiment, out / "boxes.png", outcome=column
        )
    paths["features"] = discovery_figures.plot_feature_scores(
        scores, experiment, out / "feature_scores.png"
    )
    no_winner = int((frame[column].astype(str) == NO_WINNER).sum())
    return discovery_section(boxes, scores, len(frame), no_winner, paths, target)


def _choices(
    runs: Any, experiment: Experiment, files: OutputSet, paths: dict[str, Path]
) -> list[str]:
    """regret.csv (every option against the futures), lever_verdict.csv (the verdict
    among the options), the regret figure and the report's section."""
    values = robust.focal_values(runs, experiment)
    rules = experiment.rules(level=0.95)
    table = robust.choice_table(values, rules, experiment.bootstrap, experiment.seed)
    files.csv("regret.csv", table)
    verdicts = [{"scope": "all options", **judge(values, rules).row()}]
    if len(experiment.levers) > 1:
        for lever in experiment.levers:
            levels = robust.lever_values(runs, experiment, lever.name)
            verdicts.append({"scope": lever.title, **judge(levels, rules).row()})
    verdicts = [{"metric": experiment.metric_label, **v} for v in verdicts]
    files.csv("lever_verdict.csv", pd.DataFrame(verdicts))
    picks = robust.criteria(values, table, experiment.bootstrap, experiment.seed)
    paths["regret"] = discovery_figures.plot_regret(
        values, table, experiment, files.directory / "regret.png"
    )
    return robust_section(table, verdicts, picks, experiment, paths)
