"""What a lesson's text states, measured: every number over 100 seeds, with its interval.

A lesson (:mod:`.lessons`) runs its market under a few *variants* (λ̄ = 1, 2.25, 4 ...).
Every variant is run on every seed of :data:`SEEDS` (:func:`.measured.measure`), and
each run keeps what the page shows of it (:func:`run_metrics`): for a one-release
lesson the share of customers that clears the bar at launch and the share adopted at
the end; for a market lesson each firm's final share and the winner.
:class:`LessonClaims` summarizes them:

- a *typical* number: the median run, with the middle 90 % of runs (5th-95th
  percentile) as its interval;
- a *mean*: the mean over seeds with its 95 % t-interval, and differences between
  variants paired by seed;
- a *share of runs* (a firm wins): with its 95 % Wilson interval.

The lesson opens on the *most typical* seed (:meth:`LessonClaims.opening_seed`): the
measured seed whose numbers sit closest to the middle of every interval, so what the
class sees on the page is a run the text describes. Nothing here knows the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import stats as sps

from ..analysis import NO_WINNER_MARGIN
from ..stats import t_half_width
from .views import offer_cloud

__all__ = [
    "CI_LEVEL",
    "NO_WINNER",
    "RUN_RANGE",
    "SEEDS",
    "LessonClaims",
    "RunShare",
    "Spread",
    "percent",
    "run_metrics",
    "winner",
]

#: The seeds every claim is measured on (the page's seed control covers them).
SEEDS: tuple[int, ...] = tuple(range(100))
#: The interval of a typical number: these quantiles of the runs (the middle 90 %).
RUN_RANGE = (0.05, 0.95)
#: Confidence level of means and shares of runs.
CI_LEVEL = 0.95
#: A market lesson's run has no winner (the firm index -1) when the leader leads by less
#: than the model's margin (MODEL.md, innovation economics point 5).
NO_WINNER = -1


class Lesson(Protocol):
    """What measuring needs of a lesson (:class:`.lessons.Lesson` has it)."""

    name: str
    kind: str
    steps: int

    def model(self, **changes: Any) -> Any: ...

    def firm_labels(self) -> list[tuple[str, str]]: ...


# --------------------------------------------------------------------- one run
def run_metrics(lesson: Lesson, changes: dict[str, Any], seed: int) -> dict[str, Any]:
    """What the page shows of one run of ``lesson`` with ``changes`` on ``seed``.

    One-release lessons: ``launch`` (share of all customers whose value of the release
    is positive at launch: "clears the bar at launch"), ``gain_loss`` (mean gain G over
    mean loss L at launch), ``adopted`` (share on the first firm at the last step) and
    ``series`` (that share at every step). Market lessons: ``share_NAME`` per firm at
    the last step, and ``winner`` (the leader's index, or :data:`NO_WINNER`).
    """
    model = lesson.model(**changes, seed=seed)
    if lesson.kind == "release":
        cloud = offer_cloud(model, 0)
        launch = cloud.share_clearing
        gain_loss = float(cloud.gain.mean() / cloud.loss.mean()) if cloud.loss.size else math.nan
        model.run(lesson.steps)
        name = model.firms[0].name
        series = [float(x) for x in model.datacollector.model_vars[f"share_{name}"]]
        return {"launch": launch, "gain_loss": gain_loss, "adopted": series[-1], "series": series}
    model.run(lesson.steps)
    shares = model.firm_shares()
    metrics: dict[str, Any] = {
        f"share_{firm.name}": float(share) for firm, share in zip(model.firms, shares, strict=True)
    }
    metrics["winner"] = winner(shares)
    return metrics


def winner(shares: Sequence[float]) -> int:
    """Index of the firm with the largest share, or :data:`NO_WINNER` when it leads the
    next by less than :data:`NO_WINNER_MARGIN` (never broken by list order)."""
    order = np.argsort(shares)[::-1]
    if len(order) > 1 and shares[order[0]] - shares[order[1]] < NO_WINNER_MARGIN:
        return NO_WINNER
    return int(order[0])


# ------------------------------------------------------------------ summaries
def percent(share: float) -> str:
    """A share as a percentage: whole numbers, one decimal near 0 and 100 % ("99.7 %")."""
    value = 100 * share
    if value in (0, 100) or 1 <= value <= 99:
        return f"{value:.0f}"
    return f"{value:.1f}"


@dataclass(frozen=True)
class Spread:
    """One number measured on every seed: its runs' median and middle 90 %, its mean and
    the mean's 95 % confidence interval."""

    values: np.ndarray

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    @property
    def run_range(self) -> tuple[float, float]:
        low, high = np.quantile(self.values, RUN_RANGE)
        return float(low), float(high)

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def mean_ci(self) -> tuple[float, float]:
        half = float(t_half_width(self.values.std(ddof=1), self.n, CI_LEVEL))
        return self.mean - half, self.mean + half

    def contains(self, value: float) -> bool:
        """Whether one run's value lies in the middle 90 % of runs."""
        low, high = self.run_range
        return low - 1e-12 <= value <= high + 1e-12

    def typical_text(self, unit: str = "%") -> str:
        """The median run and the middle 90 % of runs: "29 % (26–32 %)"."""
        low, high = self.run_range
        if unit == "%":
            middle = f"{percent(self.median)} %"
            if percent(low) == percent(high):
                return f"{middle} (at least 9 runs in 10)"
            return f"{middle} ({percent(low)}–{percent(high)} %)"
        return f"{self.median:.1f} ({low:.1f}–{high:.1f})"

    def mean_text(self) -> str:
        """The mean share and its 95 % confidence interval: "57 % (CI 52–62 %)"."""
        low, high = self.mean_ci
        return f"{percent(self.mean)} % (CI {percent(max(low, 0))}–{percent(min(high, 1))} %)"


@dataclass(frozen=True)
class RunShare:
    """How many of ``n`` runs something happened in, with a 95 % Wilson interval."""

    count: int
    n: int

    @property
    def share(self) -> float:
        return self.count / self.n

    @property
    def ci(self) -> tuple[float, float]:
        interval = sps.binomtest(self.count, self.n).proportion_ci(CI_LEVEL, method="wilson")
        return float(interval.low), float(interval.high)

    def text(self) -> str:
        low, high = self.ci
        return f"{percent(self.share)} % of runs (CI {percent(low)}–{percent(high)} %)"


@dataclass
class LessonClaims:
    """A lesson's runs on every seed, by variant, and what they say."""

    lesson: str
    seeds: list[int]
    #: variant key -> metric -> one value per seed (in the order of ``seeds``)
    metrics: dict[str, dict[str, np.ndarray]]
    #: variant key -> (seeds x steps + 1) share on the first firm (one-release lessons)
    series: dict[str, np.ndarray] = field(default_factory=dict)
    #: firm names and strategies (market lessons), for the text
    firms: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_runs(
        cls, lesson: Lesson, seeds: list[int], runs: dict[str, list[dict[str, Any]]]
    ) -> LessonClaims:
        metrics, series = {}, {}
        for key, per_seed in runs.items():
            names = [m for m in per_seed[0] if m != "series"]
            metrics[key] = {m: np.array([run[m] for run in per_seed], dtype=float) for m in names}
            if "series" in per_seed[0]:
                series[key] = np.array([run["series"] for run in per_seed], dtype=float)
        return cls(lesson.name, seeds, metrics, series, lesson.firm_labels())

    # ----------------------------------------------------------- numbers
    def spread(self, variant: str, metric: str) -> Spread:
        try:
            return Spread(self.metrics[variant][metric])
        except KeyError:
            raise KeyError(
                f"lesson {self.lesson!r} measures no {metric!r} in {variant!r}"
            ) from None

    def firm_index(self, name: str) -> int:
        names = [n for n, _ in self.firms]
        if name not in names:
            raise KeyError(f"lesson {self.lesson!r} has no firm {name!r}")
        return names.index(name)

    def wins(self, variant: str, firm: str) -> RunShare:
        winners = self.metrics[variant]["winner"]
        return RunShare(int((winners == self.firm_index(firm)).sum()), winners.size)

    def no_winner(self, variant: str) -> RunShare:
        winners = self.metrics[variant]["winner"]
        return RunShare(int((winners == NO_WINNER).sum()), winners.size)

    def difference(self, first: str, second: str, metric: str) -> Spread:
        """``metric`` in ``second`` minus in ``first``, paired by seed."""
        return Spread(self.metrics[second][metric] - self.metrics[first][metric])

    def numeric(self) -> list[tuple[str, str]]:
        """Every (variant, metric) that the opening seed must show typically."""
        return [
            (variant, metric)
            for variant, by_metric in self.metrics.items()
            for metric in by_metric
            if metric != "winner"
        ]

    # ------------------------------------------------------- the opening seed
    def _modal_winners(self) -> dict[str, float]:
        out = {}
        for variant, by_metric in self.metrics.items():
            if "winner" in by_metric:
                values, counts = np.unique(by_metric["winner"], return_counts=True)
                out[variant] = float(values[np.argmax(counts)])
        return out

    def opening_seed(self) -> int:
        """The most typical seed: inside the middle 90 % of runs for every number, with
        the most common winner in as many variants as possible, and then the closest to
        the median (the largest distance from the middle, in ranks, is the smallest).
        Raises :class:`LookupError` if no seed is inside every interval."""
        keys = self.numeric()
        n = len(self.seeds)
        ranks = np.array(
            [sps.rankdata(self.metrics[v][m]) / n - 0.5 / n for v, m in keys]
        )  # (numbers x seeds), in (0, 1)
        distance = np.abs(ranks - 0.5).max(axis=0) if keys else np.zeros(n)
        modal = self._modal_winners()
        off = np.zeros(n)
        for variant, value in modal.items():
            off += self.metrics[variant]["winner"] != value
        inside = np.array(
            [
                all(self.spread(v, m).contains(self.metrics[v][m][i]) for v, m in keys)
                for i in range(n)
            ]
        )
        if not inside.any():
            raise LookupError(f"lesson {self.lesson!r}: no seed is typical in every number")
        order = np.lexsort((np.array(self.seeds), distance, off, ~inside))
        return int(self.seeds[order[0]])

    def opening_values(self) -> dict[tuple[str, str], float]:
        """The opening seed's own numbers."""
        i = self.seeds.index(self.opening_seed())
        return {(v, m): float(self.metrics[v][m][i]) for v, m in self.numeric()}

    # -------------------------------------------------------------- storage
    def to_json(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "seeds": self.seeds,
            "firms": self.firms,
            "metrics": {
                v: {m: [float(x) for x in values] for m, values in by.items()}
                for v, by in self.metrics.items()
            },
            "series": {v: s.tolist() for v, s in self.series.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LessonClaims:
        return cls(
            data["lesson"],
            list(data["seeds"]),
            {
                v: {m: np.array(values, dtype=float) for m, values in by.items()}
                for v, by in data["metrics"].items()
            },
            {v: np.array(s, dtype=float) for v, s in data["series"].items()},
            [tuple(f) for f in data["firms"]],
        )
