"""``report.html``: the one-page brief of a sweep, self-contained and offline.

The page holds everything it shows: ECharts (the copy vendored for the classroom,
inlined), its own script and style, and the data, read back from the CSV files written
beside it (``winners.csv``, ``runs.csv``, ``tornado.csv``, ``boxes.csv``,
``feature_scores.csv``, ``tree.csv``, ``regret.csv``, ``lever_verdict.csv``), so every
number on the page is a number of those files. A Content-Security-Policy forbids any
request: the page opens from a USB stick on a laptop without a network.

It shows the headline verdict; the win-probability map (a grid with a ``map``) or the
decision tree (a random design); the PRIM boxes; a tornado chart of a firm's metric
(the focal firm's with levers) against each uncertainty; the robust choice among the
focal firm's options; and an interactive filter of the runs.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..files import write_atomic
from ..style import NO_WINNER_COLOUR, firm_colours, strategy_colours
from .discovery import parameter_columns
from .discovery_report import lever_verdict_sentence
from .experiment import Experiment
from .report import headline, verdict_tally
from .text import fmt, percent
from .verdicts import NO_WINNER

__all__ = ["ECHARTS", "write_brief"]

STATIC = Path(__file__).resolve().parent / "static"
#: The vendored ECharts (Apache-2.0), shared with the classroom's pages.
ECHARTS = Path(__file__).resolve().parents[1] / "classroom" / "static" / "vendor" / "echarts.min.js"
#: Runs embedded for the filter at most (a sample, seeded, beyond it; the page says so).
MAX_RUNS = 20_000
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)


def write_brief(experiment: Experiment, out: str | Path) -> tuple[Path, str]:
    """Write ``out/report.html`` from the CSV files in ``out``; return its path and the
    headline it leads with."""
    out = Path(out)
    data = _clean(brief_data(experiment, out))
    values = {
        "CSP": CSP,
        "TITLE": _escape(data["meta"]["title"]),
        "STYLE": (STATIC / "brief.css").read_text(encoding="utf-8"),
        "ECHARTS": _script(ECHARTS.read_text(encoding="utf-8")),
        "APP": _script((STATIC / "brief.js").read_text(encoding="utf-8")),
        # "<" as \u003c: the JSON can close no element and open no comment
        "DATA": json.dumps(data, allow_nan=False, default=_plain).replace("<", "\\u003c"),
    }
    template = (STATIC / "brief.html").read_text(encoding="utf-8")
    page = re.sub(r"/\*\{\{(\w+)\}\}\*/|\{\{(\w+)\}\}", lambda m: values[m[1] or m[2]], template)
    path = out / "report.html"
    write_atomic(path, page.encode("utf-8"))
    return path, " ".join(data["meta"]["headline"])


def brief_data(experiment: Experiment, out: Path) -> dict[str, Any]:
    """Everything the page shows, read from the CSV files in ``out``."""
    tables = {
        name: _read(out / f"{name}.csv")
        for name in (
            "winners",
            "runs",
            "tornado",
            "boxes",
            "feature_scores",
            "tree",
            "regret",
            "lever_verdict",
        )
    }
    strategies = sorted(
        {str(s) for s in tables["runs"].get("winner_strategy", pd.Series(dtype=str))} - {NO_WINNER}
        | {f["strategy"] for f in experiment.base.firms}
    )
    options = list(tables["regret"]["option"]) if "option" in tables["regret"] else []
    colours = {
        **strategy_colours([*strategies, *options]),
        **firm_colours(experiment.base.firms),
        NO_WINNER: NO_WINNER_COLOUR,
    }
    return {
        "meta": {
            "title": experiment.name + (" (quick size)" if experiment.quick else ""),
            "question": experiment.question,
            "design": experiment.describe(),
            "metric": experiment.metric_label,
            "command": experiment.command(out),
            "generated": time.strftime("%Y-%m-%d %H:%M"),
            "focal": experiment.focal,
            "firms": experiment.firm_names,
            "headline": _headline(experiment, tables),
            "gap": experiment.rules().gap,
            "unit": "worlds" if experiment.target == "choice" else "runs",
            "lead": (
                str(tables["lever_verdict"]["winner"].iloc[0])
                if not tables["lever_verdict"].empty
                else ""
            ),
            "equivalence": experiment.rules().equivalence,
        },
        "colours": colours,
        "map": _map(experiment, tables["winners"]),
        "tree": _records(tables["tree"]),
        "boxes": _records(tables["boxes"]),
        "scores": _records(tables["feature_scores"]),
        "tornado": _records(tables["tornado"]),
        "choice": {
            "table": _records(tables["regret"]),
            "verdict": _records(tables["lever_verdict"]),
        },
        "runs": _runs(experiment, tables["runs"]),
    }


def _headline(experiment: Experiment, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The answer, from the tables: the verdict among the focal firm's options (and per
    lever), the verdicts by condition, or who wins how many runs; one sentence each."""
    if experiment.levers and not tables["lever_verdict"].empty:
        rows = tables["lever_verdict"].to_dict("records")
        return [lever_verdict_sentence(row, experiment) for row in rows]
    winners = tables["winners"]
    if experiment.design == "grid" and "verdict" in winners and len(experiment.firm_names) > 1:
        return [headline(verdict_tally(winners), len(winners), experiment.metric_label)]
    runs = tables["runs"]
    if "winner_strategy" in runs and len(runs):
        shares = runs["winner_strategy"].astype(str).value_counts(normalize=True)
        return [
            f"Over {len(runs)} runs: "
            + ", ".join(
                f"{'no winner' if s == NO_WINNER else s + ' wins'} {percent(p)}"
                for s, p in shares.items()
            )
            + f" (by {experiment.metric_label})."
        ]
    return ["No verdict: the sweep has one firm or no finished runs."]


def _map(experiment: Experiment, winners: pd.DataFrame) -> dict[str, Any] | None:
    """The win-probability map: the two map factors' levels, and per cell the verdict
    and every firm's share of runs won (others held at their first level)."""
    axes = experiment.report.get("map")
    if not axes or winners.empty or "verdict" not in winners:
        return None
    x_name, y_name = axes
    mask, note = experiment.others_fixed([x_name, y_name])
    cells = []
    for row in winners[mask[winners["point"].to_numpy()]].to_dict("records"):
        cells.append(
            {
                "x": fmt(row[x_name]),
                "y": fmt(row[y_name]),
                "verdict": row["verdict"],
                "tied": row.get("tied", ""),
                "winner": row["winner"],
                "margin": row["margin"],
                "low": row["margin_ci_low"],
                "high": row["margin_ci_high"],
                "n": row["n"],
                "replicates": row["replicates"],
                "p_win": {
                    f: row[f"p_win_{f}"] for f in experiment.firm_names if f"p_win_{f}" in row
                },
                "p_low": {
                    f: row[f"p_win_{f}_low"]
                    for f in experiment.firm_names
                    if f"p_win_{f}_low" in row
                },
                "p_high": {
                    f: row[f"p_win_{f}_high"]
                    for f in experiment.firm_names
                    if f"p_win_{f}_high" in row
                },
                "p_none": row.get("p_no_winner", 0.0),
            }
        )
    return {
        "x": [fmt(v) for v in experiment.levels(x_name)],
        "y": [fmt(v) for v in experiment.levels(y_name)],
        "x_label": experiment.factor(x_name).title,
        "y_label": experiment.factor(y_name).title,
        "note": note,
        "cells": cells,
    }


def _runs(experiment: Experiment, runs: pd.DataFrame) -> dict[str, Any]:
    """The runs for the filter, column by column: the factors (numeric: a range;
    categorical: levels), the outcome and every firm's metric."""
    if runs.empty:
        return {"n": 0, "shown": 0, "columns": {}, "filters": []}
    total = len(runs)
    if total > MAX_RUNS:
        runs = runs.sample(MAX_RUNS, random_state=experiment.seed % 2**32).sort_index()
    names = parameter_columns(experiment)
    filters = []
    for factor in experiment.factors:
        column = names[factor.name]
        if column not in runs:
            continue
        numeric = pd.api.types.is_numeric_dtype(runs[column])
        entry: dict[str, Any] = {"column": column, "label": factor.title, "numeric": numeric}
        if numeric:
            entry |= {"min": float(runs[column].min()), "max": float(runs[column].max())}
        else:
            entry["levels"] = sorted(runs[column].astype(str).unique())
        filters.append(entry)
    metric = experiment.metric if experiment.metric != "share" else "share"
    wanted = [f["column"] for f in filters] + [
        c for c in ("option", "winner", "winner_strategy") if c in runs
    ]
    wanted += [f"{metric}_{firm}" for firm in experiment.firm_names if f"{metric}_{firm}" in runs]
    columns = {c: [_plain(v) for v in runs[c].tolist()] for c in wanted}
    return {
        "n": total,
        "shown": len(runs),
        "columns": columns,
        "filters": filters,
        "metric_prefix": f"{metric}_",
    }


def _read(path: Path) -> pd.DataFrame:
    """A CSV beside the page, or an empty table when this sweep has none."""
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _clean(value: Any) -> Any:
    """``value`` with every nested NumPy scalar, NaN and infinity made JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    """JSON-safe: NumPy scalars as Python ones, NaN and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _script(text: str) -> str:
    """Script text safe inside a <script> element: it may not close the element or open
    an HTML comment (the vendored ECharts and brief.js have neither; refused if so)."""
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ValueError("a script to inline closes a <script> element or opens a comment")
    return text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
