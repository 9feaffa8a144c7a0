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

__all__ = ["choices", "focal_shares", "regret_table"]


def focal_shares(runs: pd.DataFrame, focal: str, factor: str, futures: np.ndarray) -> pd.DataFrame:
    """The focal firm's final share, one row per future and column per strategy it took
    (the mean over replicates of that future and strategy)."""
    mine = runs[runs["firm"] == focal].copy()
    mine["future"] = futures[mine["point"].to_numpy()]
    return mine.pivot_table(index="future", columns=factor, values="final_share", aggfunc="mean")


def regret_table(shares: pd.DataFrame) -> pd.DataFrame:
    """Per strategy (a column of ``shares``, one row per future): mean share, and its
    regret's mean, 90th percentile and maximum over the futures.

    Futures where some strategy has no share (a failed run) are left out, so that every
    strategy is judged on the same futures.
    """
    shares = shares.dropna()
    regret = shares.max(axis=1).to_numpy()[:, None] - shares.to_numpy()
    table = pd.DataFrame(
        {
            "strategy": list(shares.columns),
            "mean_share": shares.mean().to_numpy(),
            "mean_regret": regret.mean(axis=0),
            "p90_regret": np.quantile(regret, 0.9, axis=0),
            "max_regret": regret.max(axis=0),
            "best_in": (regret == 0).mean(axis=0),
            "futures": len(shares),
        }
    )
    return table.reset_index(drop=True)


def choices(table: pd.DataFrame) -> dict[str, str]:
    """The strategy each criterion picks: best mean share, smallest worst-case regret,
    smallest 90th-percentile regret (ties: the first in the table's order)."""
    return {
        "mean_share": str(table.loc[table["mean_share"].idxmax(), "strategy"]),
        "max_regret": str(table.loc[table["max_regret"].idxmin(), "strategy"]),
        "p90_regret": str(table.loc[table["p90_regret"].idxmin(), "strategy"]),
    }
