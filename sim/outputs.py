"""What one run produces: the one definition used by ``run.py run`` and by sweeps.

A run is a pure function of its :class:`RunSpec` (checked model parameters and firms,
steps, seed), so it gives the same output wherever and in whatever order it runs. Its
output is tidy: a time series (one row per step), a summary (one row per firm: final
share and trust, the first release's diffusion and a Bass fit of it) and every
release's diffusion metrics, each prefixed with the run's labels (its seed, and for a
sweep its design point, replicate and factor values).
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .analysis import firm_rows, first_release_fits
from .model import InnovationModel
from .provenance import package_versions

__all__ = ["RunOutput", "RunSpec", "execute", "kept_columns"]

#: Package versions stamped on every summary row (``version_<short name>``).
VERSION_COLUMNS = {"model": "innovation-adoption", "mesa": "mesa", "numpy": "numpy"}


@dataclass(frozen=True)
class RunSpec:
    """One run: checked model parameters, firms and strategies' parameters, steps, seed.

    ``labels`` (ordered) prefix every output row, e.g. ``{"replicate": 3, "seed": ...}``;
    ``keep`` lists glob patterns of the observables kept per step (None: all, (): none);
    ``releases`` asks for every release's diffusion metrics, not only each firm's first.
    """

    params: dict[str, Any]
    firms: list[dict[str, Any]]
    steps: int
    seed: int
    labels: dict[str, Any] = field(default_factory=dict)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)
    keep: tuple[str, ...] | None = None
    releases: bool = True

    def build(self) -> InnovationModel:
        """The run's model, before its first step."""
        return InnovationModel.from_checked(
            self.params, self.firms, self.strategies, rng=self.seed, customer_agents=False
        )


@dataclass
class RunOutput:
    """A run's tidy outputs and how long it took."""

    labels: dict[str, Any]
    timeseries: pd.DataFrame | None
    summary: pd.DataFrame
    releases: pd.DataFrame | None
    seconds: float


def kept_columns(columns: list[str], keep: tuple[str, ...] | None) -> list[str]:
    """The observables among ``columns`` that match a ``keep`` pattern (all for None)."""
    if keep is None:
        return list(columns)
    return [c for c in columns if any(fnmatch.fnmatchcase(c, p) for p in keep)]


def execute(spec: RunSpec) -> RunOutput:
    """Build, run and summarise one model."""
    began = time.perf_counter()
    model = spec.build().run(spec.steps)
    versions = package_versions()
    stamp = {f"version_{k}": versions.get(package, "") for k, package in VERSION_COLUMNS.items()}
    rows = [
        {**spec.labels, "firm": row.pop("firm"), "firm_index": index, **row, **fit, **stamp}
        for index, (row, fit) in enumerate(
            zip(firm_rows(model), first_release_fits(model), strict=True)
        )
    ]
    timeseries = None
    if spec.keep != ():
        observed = model.datacollector.model_vars
        columns = kept_columns(list(observed), spec.keep)
        steps = len(observed[columns[0]]) if columns else model.steps + 1
        timeseries = pd.DataFrame(
            {
                **{k: np.full(steps, v) for k, v in spec.labels.items()},
                "step": np.arange(steps),
                **{c: observed[c] for c in columns},
            }
        )
    return RunOutput(
        labels=dict(spec.labels),
        timeseries=timeseries,
        summary=pd.DataFrame(rows),
        releases=_label(model.release_summary(), spec.labels) if spec.releases else None,
        seconds=time.perf_counter() - began,
    )


def _label(frame: pd.DataFrame, labels: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with the run's labels as its first columns."""
    frame = frame.copy()
    for i, (key, value) in enumerate(labels.items()):
        frame.insert(i, key, value)
    return frame
