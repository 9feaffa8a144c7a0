"""The one table of a sweep's result columns: run metrics and their labels, and the
names a factor may not take because a result column has them."""

from __future__ import annotations

__all__ = [
    "METRICS",
    "OBJECTIVES",
    "OBJECTIVE_LABELS",
    "RESERVED",
    "RESERVED_PREFIXES",
    "metric_label",
]

#: Per-run, per-firm metrics that are aggregated, with how figures and reports name them.
METRICS: dict[str, str] = {
    "final_share": "final customer share",
    "final_trust": "final mean trust",
    "first_t10": "steps to 10 % of first release's adopters",
    "first_t50": "steps to 50 % of first release's adopters",
    "first_t90": "steps to 90 % of first release's adopters",
    "first_peak_rate": "peak adoption rate of first release",
    "first_peak_step": "step of peak adoption (first release)",
    "bass_p": "fitted Bass p (first release)",
    "bass_q": "fitted Bass q (first release)",
    "bass_m": "fitted Bass m (first release)",
}

#: What winning can be judged on (an experiment's ``metric``): the run-summary column.
OBJECTIVES: dict[str, str] = {"share": "final_share", "profit": "profit"}
#: How tables and sentences name each.
OBJECTIVE_LABELS: dict[str, str] = {"share": "final share", "profit": "profit"}

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
        "verdict",
        "level",
        "tied",
        "tost_p",
        "contenders",
        "confirmed",
        "replicates",
        "reported",
        "looks",
        "future",
        "option",
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
    "p_win_",
    "p_no_winner",
)


def metric_label(metric: str) -> str:
    """How figures and reports name a metric."""
    return METRICS.get(metric, metric)
