"""A robust choice for one firm: which strategy to follow when the future is uncertain.

The focal firm takes each strategy in turn against the same rivals in the same sampled
futures (with the same seeds). In each future, its *regret* for a strategy is the best
share it could have had there (over the strategies it tried) minus the share that
strategy got it (Savage 1951; robust decision making, Lempert, Popper & Bankes 2003).
A strategy with the best mean share may still do badly in some futures; one with a
small worst-case or 90th-percentile regret never falls far behind the best choice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_half_width

__all__ = ["choices", "focal_shares", "regret_table"]


def focal_shares(runs: pd.DataFrame, focal: str, factor: str, futures: np.ndarray) -> pd.DataFrame:
    """The focal firm's final share, one row per future and column per strategy it took
    (the mean over replicates of that future and strategy)."""
    mine = runs[runs["firm"] == focal].copy()
    mine["future"] = futures[mine["point"].to_numpy()]
    return mine.pivot_table(index="future", columns=factor, values="final_share", aggfunc="mean")


def regret_table(shares: pd.DataFrame) -> pd.DataFrame:
    """Per strategy (a column of ``shares``, one row per future): mean share, and its
    regret's mean, 90th percentile and maximum over the futures; ``gap`` is its mean
    share minus the best strategy's, with the 95 % t-interval of that paired difference
    over the futures (``gap_low``, ``gap_high``: an interval that includes 0 is a tie
    within noise).

    Futures where some strategy has no share (a failed run) are left out, so that every
    strategy is judged on the same futures.
    """
    shares = shares.dropna()
    regret = shares.max(axis=1).to_numpy()[:, None] - shares.to_numpy()
    best = shares[shares.mean().idxmax()]
    gaps = shares.sub(best, axis=0)
    half = t_half_width(gaps.std().fillna(0.0), len(shares))
    table = pd.DataFrame(
        {
            "strategy": list(shares.columns),
            "mean_share": shares.mean().to_numpy(),
            "mean_regret": regret.mean(axis=0),
            "p90_regret": np.quantile(regret, 0.9, axis=0),
            "max_regret": regret.max(axis=0),
            "best_in": (regret == 0).mean(axis=0),
            "gap": gaps.mean().to_numpy(),
            "gap_low": gaps.mean().to_numpy() - half,
            "gap_high": gaps.mean().to_numpy() + half,
            "futures": len(shares),
        }
    )
    return table.reset_index(drop=True)


def choices(table: pd.DataFrame, tolerance: float = 1e-9) -> dict[str, list[str]]:
    """The strategies each criterion picks (several when they tie): best mean share,
    smallest worst-case regret, smallest 90th-percentile regret."""

    def best(column: str, high: bool) -> list[str]:
        values = table[column].to_numpy(dtype=float)
        target = values.max() if high else values.min()
        return [
            str(s)
            for s, v in zip(table["strategy"], values, strict=True)
            if abs(v - target) <= tolerance
        ]

    return {
        "mean_share": best("mean_share", high=True),
        "max_regret": best("max_regret", high=False),
        "p90_regret": best("p90_regret", high=False),
    }
