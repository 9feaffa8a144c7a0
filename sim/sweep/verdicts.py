"""Verdicts: which contestant wins, said in one of four words that survive fresh runs.

Contestants are the firms of one condition (a design point, one row per replicate) or
the options of a focal firm's levers (one row per sampled future and replicate, with
common random numbers). Each row is one run's ``metric`` (final share or profit) per
contestant. A run is *won* by the contestant that leads it by at least ``gap`` (0.01
share: a run whose leader leads by less has no winner, and no tie is broken by the
order contestants are listed in). Over the rows:

- ``p_win``: each contestant's share of runs won, with a Wilson 95 % interval;
- the *leader* has the highest mean metric; its *margin* over the runner-up is the mean
  of the paired per-run difference, with a t-interval at ``level``;
- the verdict, in this order:

  ``tie``        the leader and runner-up are equivalent within ``equivalence`` (two
                 one-sided t-tests, Schuirmann 1987, at 1 - ``level``): a lead that is
                 sure but smaller than the margin of equivalence decides nothing;
  ``clear``      otherwise, the margin's interval excludes 0 and the leader also wins
                 more runs than any other contestant;
  ``coin flip``  two or more contestants each win at least a quarter of the runs, and
                 none is clear: the condition is a lottery, not a lack of runs;
  ``undecided``  none of these.

:func:`settle` applies a replicate rule's looks: a verdict reached on the first n
replicates is *proposed*, and stands only if the next batch (fresh replicates, seeded
apart, that the stopping rule never saw) gives the same verdict on its own; the numbers
reported are the fresh batch's, so stopping when the data look good cannot inflate
them. A verdict the fresh batch does not confirm is dropped and the point goes on with
all its replicates. At the rule's last look no batch is left to confirm with: the
verdict on all replicates is reported, marked unconfirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..analysis import NO_WINNER, NO_WINNER_MARGIN
from ..stats import t_half_width, wilson_interval

__all__ = [
    "NO_WINNER",
    "NO_WINNER_GAP",
    "VERDICTS",
    "Judgement",
    "Rules",
    "Settlement",
    "judge",
    "run_winners",
    "settle",
]

VERDICTS = ("clear", "tie", "coin flip", "undecided")
#: Share of runs each of two contestants must win for a coin flip.
COIN_FLIP = 0.25
#: A run's leader must lead by this share to win it (profit: this share for every step);
#: the model's own rule (:data:`sim.analysis.NO_WINNER_MARGIN`), and what a run
#: without a winner is called.
NO_WINNER_GAP = NO_WINNER_MARGIN


@dataclass(frozen=True)
class Rules:
    """How a verdict is reached.

    ``level``: confidence level of the margin's interval and of the equivalence test
    (a replicate rule's per-look level); ``equivalence``: the margin within which two
    contestants are a tie, in the metric's units; ``gap``: how far a run's leader must
    lead to win it, in the same units.
    """

    level: float = 0.95
    equivalence: float = 0.02
    gap: float = 0.01


@dataclass(frozen=True)
class Judgement:
    """The verdict on one set of runs, and every number behind it."""

    verdict: str
    leader: str
    runner_up: str
    means: dict[str, float]
    margin: float
    margin_low: float
    margin_high: float
    tost_p: float
    tied: tuple[str, ...]
    contenders: tuple[str, ...]
    wins: dict[str, int]
    no_winner: int
    n: int
    level: float

    def p_win(self, name: str) -> float:
        """Share of the runs that ``name`` won."""
        return self.wins.get(name, 0) / self.n if self.n else float("nan")

    def row(self) -> dict[str, Any]:
        """The judgement as table columns (see docs/sweeps.md, winners.csv)."""
        names = list(self.means)
        low, high = wilson_interval([self.wins[c] for c in names], [self.n] * len(names))
        row: dict[str, Any] = {
            "verdict": self.verdict,
            "winner": self.leader,
            "winner_mean": self.means.get(self.leader, np.nan),
            "runner_up": self.runner_up,
            "runner_up_mean": self.means.get(self.runner_up, np.nan),
            "margin": self.margin,
            "margin_ci_low": self.margin_low,
            "margin_ci_high": self.margin_high,
            "level": self.level,
            "clear": self.verdict == "clear",
            "tied": ", ".join(self.tied),
            "tost_p": self.tost_p,
            "contenders": ", ".join(self.contenders),
            "wins": self.p_win(self.leader),
        }
        for name, lo, hi in zip(names, low, high, strict=True):
            row[f"p_win_{name}"] = self.p_win(name)
            row[f"p_win_{name}_low"] = float(lo)
            row[f"p_win_{name}_high"] = float(hi)
        row["p_no_winner"] = self.no_winner / self.n if self.n else np.nan
        row["n"] = self.n
        return row


def run_winners(values: pd.DataFrame, gap: float) -> np.ndarray:
    """Each row's winner: the column that leads the row by at least ``gap``, else
    :data:`NO_WINNER` (exact ties included, so no tie is broken by column order)."""
    array = values.to_numpy(dtype=float)
    names = np.asarray(values.columns, dtype=object)
    if array.shape[1] == 1:
        return np.where(np.isfinite(array[:, 0]), names[0], NO_WINNER).astype(object)
    ordered = np.sort(array, axis=1)
    lead = ordered[:, -1] - ordered[:, -2]
    best = np.argmax(array, axis=1)
    return np.where(lead >= gap, names[best], NO_WINNER).astype(object)


def judge(values: pd.DataFrame, rules: Rules) -> Judgement:
    """The verdict on ``values`` (one row per run, one column per contestant)."""
    values = values.dropna()
    names = [str(c) for c in values.columns]
    values.columns = names
    n = len(values)
    winners = run_winners(values, rules.gap) if n else np.array([], dtype=object)
    wins = {c: int((winners == c).sum()) for c in names}
    means = {c: float(values[c].mean()) if n else float("nan") for c in names}
    # leader: highest mean; equal means are ordered by runs won, then by name (never by
    # the order the contestants are listed in)
    order = sorted(names, key=lambda c: (-np.nan_to_num(means[c], nan=-np.inf), -wins[c], c))
    leader = order[0]
    runner_up = order[1] if len(order) > 1 else ""
    margin = low = high = float("nan")
    tost_p = float("nan")
    tied: list[str] = []
    if runner_up and n:
        diff = (values[leader] - values[runner_up]).to_numpy()
        margin = float(diff.mean())
        sd = float(diff.std(ddof=1)) if n > 1 else 0.0
        half = float(t_half_width(sd, n, rules.level)) if sd > 0 else 0.0
        low, high = margin - half, margin + half
        alpha = 1 - rules.level
        tied = [c for c in order[1:] if _equivalent(values[leader] - values[c], rules) < alpha]
        tost_p = _equivalent(values[leader] - values[runner_up], rules)
    contenders = tuple(c for c in order if n and wins[c] / n >= COIN_FLIP)
    most = wins[leader] > max((wins[c] for c in names if c != leader), default=-1)
    if n > 1 and runner_up in tied:
        verdict = "tie"
    elif n > 1 and runner_up and low > 0 and most:
        verdict = "clear"
    elif len(contenders) >= 2:
        verdict = "coin flip"
    else:
        verdict = "undecided"
    return Judgement(
        verdict=verdict,
        leader=leader,
        runner_up=runner_up,
        means={c: means[c] for c in names},
        margin=margin,
        margin_low=low,
        margin_high=high,
        tost_p=tost_p,
        tied=(leader, *tied) if tied else (),
        contenders=contenders,
        wins=wins,
        no_winner=int((winners == NO_WINNER).sum()),
        n=n,
        level=rules.level,
    )


def _equivalent(diff: pd.Series, rules: Rules) -> float:
    """p value of the two one-sided tests that the mean of ``diff`` lies within
    ±equivalence (small: equivalent). With no spread: 0 inside, 1 outside."""
    x = diff.to_numpy(dtype=float)
    n = len(x)
    if n < 2:
        return 1.0
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    bound = rules.equivalence
    if sd == 0:
        return 0.0 if abs(mean) < bound else 1.0
    se = sd / np.sqrt(n)
    above = stats.t.sf((mean + bound) / se, n - 1)  # H0: mean <= -bound
    below = stats.t.cdf((mean - bound) / se, n - 1)  # H0: mean >= +bound
    return float(max(above, below))


@dataclass(frozen=True)
class Settlement:
    """Where a replicate rule's looks leave one design point.

    ``settled``: no more replicates are wanted; ``judgement``: the verdict on the
    replicates ``reported`` (a half-open range); ``confirmed``: True when a fresh batch
    confirmed a proposed verdict, False at the last look or when the rule did not
    apply; ``proposed``: the verdict awaiting its fresh batch (unsettled points only).
    """

    settled: bool
    judgement: Judgement
    reported: tuple[int, int]
    replicates: int
    confirmed: bool = False
    proposed: str = ""
    looks: list[str] = field(default_factory=list)


def _batch(values: pd.DataFrame, start: int, stop: int) -> pd.DataFrame | None:
    """Rows of replicates start..stop-1 (the index is the replicate), or None when
    some are not there yet."""
    part = values.loc[(values.index >= start) & (values.index < stop)]
    return part if len(part) == stop - start else None


def settle(values: pd.DataFrame, schedule: Sequence[int], rules: Rules) -> Settlement:
    """Replay a replicate rule's looks on one point's runs (index: replicate).

    ``schedule`` is the replicates after each round (min, 2 min, ..., max). At each look
    the verdict on every replicate so far is proposed unless undecided; the next round's
    replicates, on their own, confirm it (same verdict, and for ``clear`` the same
    leader) or not. Returns as soon as a verdict is confirmed, or at the last look, or
    where the runs stop (a point still running).
    """
    have = len(values)
    looks: list[str] = []
    for i, count in enumerate(schedule):
        seen = _batch(values, 0, count)
        if seen is None:
            return Settlement(False, judge(values, rules), (0, have), have, looks=looks)
        screen = judge(seen, rules)
        looks.append(f"{count}: {screen.verdict}")
        last = i + 1 == len(schedule)
        if last:
            return Settlement(True, screen, (0, count), count, looks=looks)
        if screen.verdict == "undecided":
            continue
        fresh_values = _batch(values, count, schedule[i + 1])
        if fresh_values is None:
            return Settlement(False, screen, (0, count), have, proposed=screen.verdict, looks=looks)
        fresh = judge(fresh_values, rules)
        looks[-1] += f", fresh {count}-{schedule[i + 1] - 1}: {fresh.verdict}"
        same = fresh.verdict == screen.verdict and (
            screen.verdict != "clear" or fresh.leader == screen.leader
        )
        if same:
            return Settlement(
                True, fresh, (count, schedule[i + 1]), schedule[i + 1], True, looks=looks
            )
    raise AssertionError("unreachable: the last look returns")  # pragma: no cover
