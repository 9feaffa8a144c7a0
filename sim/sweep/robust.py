"""A robust choice for one firm: which option of its levers to take when the future is
uncertain (robust decision making: levers against uncertainties, Lempert, Popper &
Bankes 2003; the XLRM framing the EMA Workbench follows).

Every combination of the focal firm's levers (an *option*) meets the same sampled
futures with the same seeds (common random numbers), so each run of a future is one
*world* in which every option was tried. In each world an option's *regret* is the best
metric any option reached there minus its own (Savage 1951). Per option this module
gives the mean metric and its gap to the best option, the share of worlds where it is
the single best choice, and the regret's mean, 90th percentile and maximum, each with a
95 % interval (paired t for means and gaps, Wilson for shares, a paired bootstrap over
worlds for the regret statistics). A criterion only picks an option when its interval
of the difference to every other option excludes 0; otherwise it says who ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..stats import t_half_width, wilson_interval
from .experiment import Experiment
from .text import fmt
from .verdicts import Rules, run_winners

__all__ = [
    "CRITERIA",
    "Criterion",
    "choice_table",
    "criteria",
    "focal_values",
    "lever_values",
    "option_labels",
]

#: The criteria a choice can be made by: column, whether larger is better, words.
CRITERIA = {
    "mean": (True, "best mean"),
    "p90_regret": (False, "smallest 90th-percentile regret"),
    "max_regret": (False, "smallest worst-case regret"),
}


def option_labels(experiment: Experiment) -> list[str]:
    """Each design point's option: its levers' levels, a word as itself and a number
    after its lever's name ("radical"; "radical, cocreation 0.25")."""
    levers = experiment.levers
    labels = []
    for point in range(experiment.n_points):
        values = experiment.table.iloc[point]
        parts = []
        for lever in levers:
            value = values[lever.name]
            named = len(levers) > 1 and not isinstance(value, str)
            parts.append(
                f"{lever.name.removeprefix('focal_')} {fmt(value)}" if named else fmt(value)
            )
        labels.append(", ".join(parts))
    return labels


def lever_values(runs: pd.DataFrame, experiment: Experiment, lever: str) -> pd.DataFrame:
    """One lever's levels compared with the focal firm's other choices held fixed: index
    (future, replicate, the other levers' levels), one column per level of ``lever``.
    Its verdict says which level is better whatever else the firm chooses (paired)."""
    mine = runs[runs["firm"] == experiment.focal]
    others = [f.name for f in experiment.levers if f.name != lever]
    points = mine["point"].to_numpy()
    frame = pd.DataFrame(
        {
            "future": experiment.futures[points],
            "replicate": mine["replicate"].to_numpy(),
            **{name: experiment.table[name].to_numpy()[points] for name in others},
            "level": [fmt(v) for v in experiment.table[lever].to_numpy()[points]],
            "value": mine[experiment.metric_column].to_numpy(dtype=float),
        }
    )
    table = frame.pivot_table(
        index=["future", "replicate", *others], columns="level", values="value", aggfunc="first"
    )
    order = [fmt(v) for v in experiment.levels(lever) if fmt(v) in table.columns]
    return table[order].dropna()


def focal_values(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """The focal firm's metric in every world: index (future, replicate), one column per
    option in the levers' order. Worlds where some option's run is missing (a failed
    run) are left out, so that every option is judged on the same worlds."""
    labels = np.asarray(option_labels(experiment), dtype=object)
    mine = runs[runs["firm"] == experiment.focal]
    frame = pd.DataFrame(
        {
            "future": experiment.futures[mine["point"].to_numpy()],
            "replicate": mine["replicate"].to_numpy(),
            "option": labels[mine["point"].to_numpy()],
            "value": mine[experiment.metric_column].to_numpy(dtype=float),
        }
    )
    table = frame.pivot_table(
        index=["future", "replicate"], columns="option", values="value", aggfunc="first"
    )
    order = [o for o in dict.fromkeys(labels.tolist()) if o in table.columns]
    return table[order].dropna()


def choice_table(
    values: pd.DataFrame, rules: Rules, resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Per option (a column of ``values``, one row per world): mean metric (t 95 %
    interval), ``gap`` to the option with the best mean (paired t interval; ``gap_tie``:
    its interval reaches within the equivalence margin of 0, so the option cannot be
    told from the best), ``p_best`` (share of worlds where it leads every other
    option by ``rules.gap`` or more, Wilson interval), ``best_or_tied`` (share of worlds
    where it is within ``rules.gap`` of the best: ties count for every tied option, so
    this column can sum past 1), and the regret's mean, 90th percentile and maximum with
    paired-bootstrap 95 % intervals (``_low``, ``_high``)."""
    n = len(values)
    array = values.to_numpy(dtype=float)
    regret = array.max(axis=1, keepdims=True) - array
    means = array.mean(axis=0)
    best = int(np.argmax(means))
    gaps = array - array[:, [best]]
    gap_half = t_half_width(gaps.std(axis=0, ddof=1) if n > 1 else np.zeros(len(means)), n)
    mean_half = t_half_width(array.std(axis=0, ddof=1) if n > 1 else np.zeros(len(means)), n)
    winners = run_winners(values, rules.gap)
    wins = np.array([(winners == c).sum() for c in values.columns])
    p_low, p_high = wilson_interval(wins, np.full(len(wins), n))
    stats_ = _regret_stats(regret)
    boot = _bootstrap(regret, resamples, seed)
    table = pd.DataFrame(
        {
            "option": list(values.columns),
            "mean": means,
            "mean_low": means - mean_half,
            "mean_high": means + mean_half,
            "gap": gaps.mean(axis=0),
            "gap_low": gaps.mean(axis=0) - gap_half,
            "gap_high": gaps.mean(axis=0) + gap_half,
            "p_best": wins / n if n else np.nan,
            "p_best_low": p_low,
            "p_best_high": p_high,
            "best_or_tied": (regret < rules.gap).mean(axis=0),
            "worlds": n,
        }
    )
    table["gap_tie"] = table["gap_high"] >= -rules.equivalence
    table.loc[best, "gap_tie"] = False
    for name in ("mean_regret", "p90_regret", "max_regret"):
        table[name] = stats_[name]
        table[f"{name}_low"] = np.quantile(boot[name], 0.025, axis=0)
        table[f"{name}_high"] = np.quantile(boot[name], 0.975, axis=0)
    table["no_single_best"] = float(np.mean(winners == "none")) if n else np.nan
    return table


def _regret_stats(regret: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "mean_regret": regret.mean(axis=0),
        "p90_regret": np.quantile(regret, 0.9, axis=0),
        "max_regret": regret.max(axis=0),
    }


def _bootstrap(regret: np.ndarray, resamples: int, seed: int) -> dict[str, np.ndarray]:
    """Regret statistics (resamples x options) of ``resamples`` paired resamples of the
    worlds (rows), drawn in chunks to bound memory; the same seed, the same draws."""
    rng = np.random.default_rng(seed)
    n = len(regret)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("mean_regret", "p90_regret", "max_regret")
    }
    chunk = max(1, 2_000_000 // max(n * regret.shape[1], 1))
    for start in range(0, resamples, chunk):
        draws = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        sample = regret[draws]  # chunk x worlds x options
        parts["mean_regret"].append(sample.mean(axis=1))
        parts["p90_regret"].append(np.quantile(sample, 0.9, axis=1))
        parts["max_regret"].append(sample.max(axis=1))
    return {k: np.concatenate(v) for k, v in parts.items()}


@dataclass(frozen=True)
class Criterion:
    """What one criterion says: its pick, or the options it cannot tell apart."""

    name: str
    words: str
    best: str  # the option with the best value
    value: float
    tied: tuple[str, ...]  # options whose difference to the best has an interval with 0
    discriminates: bool  # False when every option ties with the best

    @property
    def picks(self) -> str | None:
        """The option this criterion picks, or None when others tie with it."""
        return self.best if not self.tied else None


def criteria(
    values: pd.DataFrame,
    table: pd.DataFrame,
    resamples: int = 1000,
    seed: int = 0,
    margin: float = 0.0,
) -> list[Criterion]:
    """Each criterion's best option, and which options it cannot tell from the best:
    those whose paired 95 % interval of the difference (t for the mean, bootstrap over
    worlds for a regret statistic) reaches within ``margin`` (the equivalence margin)
    of 0: not shown to be worse by more than a difference that matters."""
    array = values.to_numpy(dtype=float)
    options = list(values.columns)
    boot = _bootstrap(array.max(axis=1, keepdims=True) - array, resamples, seed)
    out = []
    for name, (high, words) in CRITERIA.items():
        column = table[name].to_numpy(dtype=float)
        best = int(np.argmax(column) if high else np.argmin(column))
        tied = []
        for j, option in enumerate(options):
            if j == best:
                continue
            if name == "mean":  # the gap is the option's mean minus the best's: <= 0
                includes = bool(table.loc[j, "gap_high"] >= -margin)
            else:  # the option's regret statistic minus the best's: >= 0
                diff = boot[name][:, j] - boot[name][:, best]
                includes = bool(np.quantile(diff, 0.025) <= margin)
            if includes:
                tied.append(option)
        out.append(
            Criterion(
                name=name,
                words=words,
                best=options[best],
                value=float(column[best]),
                tied=tuple(tied),
                discriminates=len(tied) < len(options) - 1,
            )
        )
    return out
