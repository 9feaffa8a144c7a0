"""A sweep's result columns: the run metrics it aggregates (from the project's one table,
:mod:`sim.observables`) and the names a factor may not take because a column has them."""

from __future__ import annotations

from ..observables import RUN_METRICS

__all__ = ["METRICS", "RESERVED", "RESERVED_PREFIXES", "metric_label"]

#: Per-run, per-firm metrics that are aggregated, with how figures and reports name them
#: (the project's one table of output columns, :mod:`sim.observables`).
METRICS: dict[str, str] = RUN_METRICS

#: Columns of the results that a factor may not be named after.
RESERVED = frozenset(
    {
        "point",
        "replicate",
        "seed",
        "step",
        "firm",
        "firm_index",
        "strategy",
        "metric",
        "mean",
        "sd",
        "std",
        "n",
        "count",
        "low",
        "high",
        "ci_low",
        "ci_high",
        "observable",
        "cocreators",
        "releases",
        "new_adoptions",
        "winner",
        "runner_up",
        "margin",
        "clear",
        "wins",
        "graph",
        "p",
        "q",
        *METRICS,
    }
)
RESERVED_PREFIXES = (
    "share_",
    "trust_",
    "cocreators_",
    "first_",
    "version_",
    "winner_",
    "runner_up_",
    "margin_",
)


def metric_label(metric: str) -> str:
    """How figures and reports name a metric."""
    return METRICS.get(metric, metric)
