"""Run a scenario's seeded replicates and store tidy results with their provenance.

Each replicate is one :class:`~sim.outputs.RunSpec` executed by
:func:`sim.outputs.execute`, the same definition of a run that sweeps use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .files import OutputSet
from .outputs import RunSpec, execute
from .progress import progress_bar
from .provenance import derive_seed, manifest
from .scenario import Scenario

__all__ = ["RunResults", "run_scenario", "write_results"]


@dataclass
class RunResults:
    """Tidy outputs of a set of replicates."""

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    releases: pd.DataFrame
    manifest: dict[str, Any]
    firm_names: list[str]


def replicate_specs(scenario: Scenario, steps: int, replicates: int, seed: int) -> list[RunSpec]:
    """One run per replicate r, seeded ``derive_seed(seed, r)``."""
    specs = []
    for r in range(replicates):
        run_seed = derive_seed(seed, r)
        specs.append(
            RunSpec(
                params=scenario.params,
                firms=scenario.firms,
                strategies=scenario.strategies,
                steps=steps,
                seed=run_seed,
                labels={"replicate": r, "seed": run_seed},
            )
        )
    return specs


def run_scenario(
    scenario: Scenario,
    *,
    steps: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> RunResults:
    """Run ``replicates`` seeded replicates of a scenario; replicate r uses derive_seed(seed, r)."""
    steps = scenario.run["steps"] if steps is None else steps
    replicates = scenario.run["replicates"] if replicates is None else replicates
    seed = scenario.run["seed"] if seed is None else seed
    specs = replicate_specs(scenario, steps, replicates, seed)
    outputs = []
    bar = progress_bar(replicates, scenario.name, enabled=progress and replicates > 1)
    for spec in specs:
        outputs.append(execute(spec))
        bar.update(1)
    bar.close()
    record = manifest(
        scenario=scenario.name,
        source=scenario.source,
        description=scenario.description,
        steps=steps,
        step_unit=scenario.run.get("step", "step"),
        replicates=replicates,
        base_seed=seed,
        seeds=[spec.seed for spec in specs],
        seed_rule="replicate r uses sim.provenance.derive_seed(base_seed, r)",
        parameters=scenario.resolved_parameters(),
        firms=scenario.firms,
        strategies=scenario.strategies,
        scenario_tables=scenario.to_dict(),
    )
    return RunResults(
        timeseries=pd.concat([o.timeseries for o in outputs], ignore_index=True),
        summary=pd.concat([o.summary for o in outputs], ignore_index=True),
        releases=pd.concat([o.releases for o in outputs], ignore_index=True),
        manifest=record,
        firm_names=[f["name"] for f in scenario.firms],
    )


def write_results(results: RunResults, out: str | Path) -> dict[str, Path]:
    """Write timeseries (Parquet and CSV), summary, releases, figure and manifest to
    ``out``, each whole; the manifest, removed first, is written last and lists the
    files (a folder without it holds unfinished results)."""
    from .plots import plot_adoption

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = OutputSet(out, "manifest.json")
    paths = {
        "timeseries.parquet": files.parquet("timeseries.parquet", results.timeseries),
        "timeseries.csv": files.csv("timeseries.csv", results.timeseries),
        "summary.csv": files.csv("summary.csv", results.summary),
        "releases.csv": files.csv("releases.csv", results.releases),
    }
    paths["adoption.png"] = plot_adoption(
        results.timeseries,
        results.manifest["firms"],
        files.path("adoption.png"),
        title=f"{results.manifest['scenario']}: customer share by firm "
        f"({results.manifest['replicates']} replicates)",
        step=results.manifest.get("step_unit", "step"),
    )
    paths["manifest.json"] = files.finish(results.manifest)
    return paths
