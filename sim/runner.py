"""Run a scenario's seeded replicates and store tidy results with their provenance."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model import InnovationModel
from .scenario import Scenario

__all__ = [
    "RunResults",
    "derive_seed",
    "package_versions",
    "run_model",
    "run_scenario",
    "write_results",
]


def derive_seed(base: int, *keys: int) -> int:
    """A 63-bit seed for run ``keys`` of an experiment seeded ``base``.

    Seeds depend only on (base, keys), never on the order runs execute in, so results
    are the same with one worker or many.
    """
    sequence = np.random.SeedSequence(base, spawn_key=tuple(int(k) for k in keys))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages results depend on."""
    versions = {"python": platform.python_version()}
    for name in ("innovation-adoption", "mesa", "numpy", "scipy", "pandas", "networkx"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_model(kwargs: dict[str, Any], steps: int, seed: int) -> InnovationModel:
    """Build one model with ``seed`` and run it ``steps`` steps."""
    return InnovationModel(**kwargs, rng=seed).run(steps)


@dataclass
class RunResults:
    """Tidy outputs of a set of replicates."""

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    releases: pd.DataFrame
    manifest: dict[str, Any]
    firm_names: list[str]


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
    kwargs = scenario.model_kwargs()
    seeds = [derive_seed(seed, r) for r in range(replicates)]
    series, summaries, releases = [], [], []
    firm_names: list[str] = []
    bar = _progress(replicates, f"{scenario.name}", progress)
    for r, run_seed in enumerate(seeds):
        model = run_model(kwargs, steps, run_seed)
        firm_names = [f.name for f in model.firms]
        for frame, store in (
            (model.timeseries(), series),
            (model.summary(), summaries),
            (model.release_summary(), releases),
        ):
            frame.insert(0, "seed", run_seed)
            frame.insert(0, "replicate", r)
            store.append(frame)
        bar.update(1)
    bar.close()
    manifest = {
        "scenario": scenario.name,
        "source": scenario.source,
        "description": scenario.description,
        "steps": steps,
        "replicates": replicates,
        "base_seed": seed,
        "seeds": seeds,
        "seed_rule": "replicate r uses sim.runner.derive_seed(base_seed, r)",
        "parameters": scenario.resolved_parameters(),
        "firms": scenario.firms,
        "scenario_tables": scenario.to_dict(),
        "versions": package_versions(),
        "command": " ".join(sys.argv),
    }
    return RunResults(
        timeseries=pd.concat(series, ignore_index=True),
        summary=pd.concat(summaries, ignore_index=True),
        releases=pd.concat(releases, ignore_index=True),
        manifest=manifest,
        firm_names=firm_names,
    )


def _progress(total: int, label: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=label, unit="run", disable=not enabled or total < 2, file=sys.stderr
    )


def write_results(results: RunResults, out: str | Path) -> dict[str, Path]:
    """Write timeseries (Parquet and CSV), summary, releases, manifest and figure to ``out``."""
    from .plots import plot_adoption

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "timeseries.parquet": out / "timeseries.parquet",
        "timeseries.csv": out / "timeseries.csv",
        "summary.csv": out / "summary.csv",
        "releases.csv": out / "releases.csv",
        "manifest.json": out / "manifest.json",
        "adoption.png": out / "adoption.png",
    }
    results.timeseries.to_parquet(paths["timeseries.parquet"], index=False)
    results.timeseries.to_csv(paths["timeseries.csv"], index=False)
    results.summary.to_csv(paths["summary.csv"], index=False)
    results.releases.to_csv(paths["releases.csv"], index=False)
    paths["manifest.json"].write_text(json.dumps(results.manifest, indent=2, default=str) + "\n")
    plot_adoption(
        results.timeseries,
        results.firm_names,
        paths["adoption.png"],
        title=f"{results.manifest['scenario']}: customer share by firm "
        f"({results.manifest['replicates']} replicates)",
    )
    return paths
