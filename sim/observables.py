"""The one table of a run's output columns, and how each per-step observable is counted.

Per step (the time series, docs/ODD.md section 8): :data:`FIRM_OBSERVABLES` per firm,
:data:`MARKET_OBSERVABLES` for the whole market, ``share_strategy_<kind>`` per
strategy. Per run and firm (the summary): :data:`RUN_METRICS`. :func:`observe` counts a
step's observables from a market's state arrays; the fast model and the idiomatic-Mesa
reference both call it, so the two report the same columns, computed the same way.

Adding a per-step observable: name it here and count it in :func:`observe` (one file;
a second, :mod:`sim.model`, only if it needs state the arrays do not hold). Adding a
per-run metric: name it in :data:`RUN_METRICS` and compute it in
:func:`sim.analysis.firm_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import kernels
from .configuration import DEFAULT_MARKET
from .strategies import chooses_among

__all__ = [
    "FIRM_OBSERVABLES",
    "MARKET_OBSERVABLES",
    "RUN_METRICS",
    "book_margins",
    "firm_observables",
    "observable_names",
    "observe",
    "release_kinds",
]

#: Per firm and step, by column pattern: what it is.
FIRM_OBSERVABLES: dict[str, str] = {
    "share_{firm}": "share of all customers using any of the firm's products",
    "share_latest_{firm}": "share of all customers using the firm's latest release",
    "trust_{firm}": "mean trust of all customers in the firm",
    "cocreators_{firm}": "number of the firm's co-creators",
    "profit_{firm}": "the firm's profit so far: discounted margins minus release costs",
}
#: For the market, per step.
MARKET_OBSERVABLES: dict[str, str] = {
    "share_legacy": "share of customers on the legacy product",
    "share_strategy_{kind}": "share of customers with firms whose latest release is of this kind",
    "new_adoptions": "customers who adopted a release this step",
    "cocreators": "co-creators of all firms",
}

#: Per run and firm (the summary), the metrics sweeps aggregate, with how reports name them.
RUN_METRICS: dict[str, str] = {
    "final_share": "final customer share",
    "cum_share": "cumulative share (sum of shares over the steps)",
    "profit": "profit (discounted margins minus release costs)",
    "release_costs": "release costs (discounted)",
    "releases": "releases",
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


def firm_observables(name: str) -> tuple[str, ...]:
    """A firm's per-step columns, in :data:`FIRM_OBSERVABLES` order."""
    return tuple(pattern.format(firm=name) for pattern in FIRM_OBSERVABLES)


def release_kinds(firms: Sequence[dict[str, Any]]) -> list[str]:
    """Strategies whose share is reported: the default market's, then any other a firm
    follows or chooses among (a firm counts under the strategy of its latest release)."""
    kinds = list(DEFAULT_MARKET)
    for firm in firms:
        for kind in chooses_among(firm["strategy"]) or (firm["strategy"],):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def observable_names(firms: Sequence[dict[str, Any]]) -> list[str]:
    """The time series' columns (after ``step``) for checked firms, without a model."""
    names = ["share_legacy"]
    for firm in firms:
        names += firm_observables(firm["name"])
    names += [f"share_strategy_{kind}" for kind in release_kinds(firms)]
    return [*names, "new_adoptions", "cocreators"]


def observe(
    names: Sequence[tuple[str, ...]],
    firm_kinds: Sequence[str],
    kinds: Sequence[str],
    firm_of: np.ndarray,
    product: np.ndarray,
    cocreation_firm: np.ndarray,
    trust: np.ndarray,
    latest: np.ndarray,
    new_adoptions: int,
) -> dict[str, float]:
    """One step's observables from a market's state.

    ``names`` are each firm's :func:`firm_observables`, ``firm_kinds`` the strategy of
    each firm's latest release, ``kinds`` the reported strategies
    (:func:`release_kinds`); the arrays are per customer (``firm_of``: -1 on the legacy
    product; ``cocreation_firm``: -1 for none), ``trust`` customers x firms and
    ``latest`` each firm's latest release.
    """
    n = firm_of.size
    n_firms = len(names)
    counts, on_latest, cocreators, trust_sum = kernels.tally(
        firm_of, product, cocreation_firm, trust, latest
    )
    # = trust.mean(axis=0), which NumPy sums pairwise when K = 1, else in row order
    mean_trust = (trust_sum / n if n_firms > 1 else trust.mean(axis=0)).tolist()
    counts, on_latest, cocreators = counts.tolist(), on_latest.tolist(), cocreators.tolist()
    obs: dict[str, float] = {"share_legacy": counts[0] / n}
    by_kind = dict.fromkeys(kinds, 0.0)
    for k, ((share, share_latest, trust_name, cocreators_name, *_), kind) in enumerate(
        zip(names, firm_kinds, strict=True)
    ):
        obs[share] = counts[k + 1] / n
        obs[share_latest] = on_latest[k] / n
        obs[trust_name] = mean_trust[k]
        obs[cocreators_name] = cocreators[k + 1]
        by_kind[kind] = by_kind.get(kind, 0.0) + counts[k + 1] / n
    for kind, value in by_kind.items():
        obs[f"share_strategy_{kind}"] = value
    obs["new_adoptions"] = new_adoptions
    obs["cocreators"] = sum(cocreators[1:])
    return obs


def book_margins(
    observed: dict[str, float],
    names: Sequence[tuple[str, ...]],
    firms: Sequence[Any],
    step: int,
) -> dict[str, float]:
    """Book each firm's margin of ``step`` (its share, from ``observed``) in its ledger
    and add its profit so far to the observables. Step 0 is the start: no margin yet,
    only the cost of a release at step 0."""
    for firm, (share, *_, profit) in zip(firms, names, strict=True):
        if step > 0:
            firm.ledger.book_step(step, observed[share])
        observed[profit] = firm.ledger.profit
    return observed
