"""``report.md``: a sweep's question, design, figures, winners and how to reproduce it.

Written for a strategist who does not read code: every figure has a sentence on how
to read it, and every table says what its numbers are.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..files import write_atomic
from .columns import METRICS, metric_label
from .experiment import Experiment
from .text import fmt, level_text, md_table

__all__ = ["winners_pivot", "winners_sentence", "winners_tally", "winners_text", "write_report"]


def winners_pivot(winners: pd.DataFrame, experiment: Experiment) -> pd.DataFrame | None:
    """Winner (margin) by the two map factors, as a table; None without a map."""
    axes = experiment.report.get("map")
    if not axes or winners.empty:
        return None
    x_name, y_name = axes
    mask, _ = experiment.others_fixed([x_name, y_name])
    frame = winners[mask[winners["point"].to_numpy()]].copy()
    frame["cell"] = [
        f"{w} +{m:.2f}{'' if c else ' (?)'}"
        for w, m, c in zip(frame["winner"], frame["margin"], frame["clear"], strict=True)
    ]
    pivot = frame.pivot(index=y_name, columns=x_name, values="cell")
    pivot = pivot.reindex(index=experiment.levels(y_name), columns=experiment.levels(x_name))
    pivot.index = [f"{experiment.factor(y_name).title} = {fmt(v)}" for v in pivot.index]
    pivot.columns = [f"{experiment.factor(x_name).title} = {fmt(v)}" for v in pivot.columns]
    return pivot


def winners_text(winners: pd.DataFrame, experiment: Experiment) -> str:
    """The winners table for the terminal."""
    if winners.empty:
        return "(no finished runs)"
    pivot = winners_pivot(winners, experiment)
    if pivot is not None:
        text = pivot.to_string()
    else:
        names = experiment.factor_names
        cols = [*names, "winner", "winner_share", "runner_up", "margin", "clear"]
        text = winners[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    return (
        "winner by condition (highest mean final share; +margin over the runner-up; "
        f"(?) = margin's {level_text(experiment.decision_level)} CI includes 0)\n" + text
    )


def _design_section(experiment: Experiment, outcome: Any) -> str:
    params = experiment.base.resolved_parameters()
    rows = []
    for f in experiment.factors:
        if f.is_range:
            how = f"range [{f.low:g}, {f.high:g}]" + (" (log scale)" if f.scale == "log" else "")
            if experiment.design == "grid":
                how += ": " + ", ".join(fmt(v) for v in f.grid_levels())
        else:
            how = ", ".join(fmt(f.level_value(v)) for v in f.values or ())
        rows.append({"factor": f.title, "scenario keys": ", ".join(f.keys), "levels": how})
    seeds = (
        f"- **Seeds**: {experiment.seed_rule}; results do not depend on the number of "
        "workers or machines."
    )
    lines = [
        f"- **Base scenario**: {experiment.base.name} "
        f"({experiment.base.description.rstrip('.') or 'see the manifest'}); "
        f"N = {params['n_customers']:,} customers, network {params['network']}, "
        f"firms: {', '.join(experiment.firm_names)}.",
        f"- **Design**: {experiment.describe()}.",
        seeds,
    ]
    if experiment.rule:
        lines.append(
            f"- **Replicates until clear**: each round doubles the replicates of the points "
            f"still undecided; each look calls a point decided at the "
            f"{level_text(experiment.decision_level)} level (95 % over the "
            f"{len(experiment.rule.schedule())} looks, Bonferroni), so looking repeatedly "
            "does not make a tie look like a win."
        )
    if outcome is not None:
        lines.append(
            f"- **Runs**: {outcome.used} used, of {outcome.total} the design asks for"
            f"{f', {len(outcome.failures)} failed' if outcome.failures else ''}"
            f"{f' ({outcome.unused} stored runs beyond it not used)' if outcome.unused else ''}; "
            f"this session ran {outcome.finished} in {outcome.seconds:.0f} s."
        )
    if experiment.notes:
        lines.append(
            "- **Keys used at some design points only** (the mechanism they belong to is "
            "absent at the others): " + "; ".join(experiment.notes) + "."
        )
    if rows:
        lines += ["", md_table(pd.DataFrame(rows))]
    return "\n".join(lines)


def write_report(
    experiment: Experiment,
    out: Path,
    *,
    winners: pd.DataFrame,
    summary: pd.DataFrame,
    figures: dict[str, Path],
    sobol: pd.DataFrame | None = None,
    notes: list[str] | None = None,
    bass: pd.DataFrame | None = None,
    sections: list[str] | None = None,
    outcome: Any = None,
    versions: dict[str, str] | None = None,
) -> Path:
    """Write ``out/report.md`` and return its path; ``sections`` are further markdown
    lines (scenario discovery, the robust choice) placed after the answer."""
    path = out / "report.md"
    parts = [
        f"# {experiment.name}" + (" (quick size)" if experiment.quick else ""),
        "",
        f"*Generated {time.strftime('%Y-%m-%d %H:%M')} by `{experiment.command()}`.*",
        "",
        "## The question",
        "",
        experiment.question or "(the experiment file states no question)",
    ]
    if experiment.description:
        parts += ["", experiment.description]
    parts += ["", "## The design", "", _design_section(experiment, outcome)]

    if experiment.report.get("analysis") == "bass" and bass is not None and not bass.empty:
        parts += _bass_section(bass, figures)
    elif experiment.design == "grid":
        parts += _winners_section(experiment, winners, figures)
    parts += sections or []
    factor_name = experiment.report.get(
        "metric_factor", experiment.factor_names[0] if experiment.factors else ""
    )
    for key, figure in figures.items():
        if not key.startswith("metric:"):
            continue
        metric = key.split(":", 1)[1]
        parts += [
            "",
            f"### {metric_label(metric).capitalize()} against "
            f"{experiment.factor(factor_name).title}",
            "",
            f"![{metric}]({figure.name})",
            "",
            "Each line is the mean over replicates, with its 95 % confidence band.",
        ]
    if "curves" in figures:
        parts += [
            "",
            "### Adoption curves",
            "",
            f"![adoption curves]({figures['curves'].name})",
            "",
            "Each panel is one condition; lines are each firm's customer share over time "
            "(mean over replicates) with a 95 % confidence band.",
        ]
    if sobol is not None and "sobol" in figures:
        parts += _sobol_section(sobol, figures, notes or [])
    parts += [
        "",
        "## Files",
        "",
        "- `summary.csv` / `summary.parquet`: per design point, firm and metric: mean, sd, "
        "n, 95 % CI (`ci_low`, `ci_high`) across replicates. Metrics: "
        + ", ".join(f"`{m}`" for m in METRICS)
        + ".",
        "- `winners.csv`: winner, runner-up and margin (with its CI) per design point.",
        "- `runs/summary/*.parquet`, `runs/timeseries/*.parquet`: every run, one part each.",
        "- `manifest.json`: the experiment, design table, seeds and package versions.",
        "",
        "## Reproduce",
        "",
        "```",
        experiment.command(),
        "```",
        "",
        "Running it again resumes: finished runs are kept and not run twice. "
        "Add `--workers W` or `--scheduler tcp://HOST:8786` (Dask) to change where it "
        "runs; the results stay identical.",
    ]
    if versions:
        parts += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "."]
    write_atomic(path, ("\n".join(parts) + "\n").encode("utf-8"))
    return path


def _winners_section(
    experiment: Experiment, winners: pd.DataFrame, figures: dict[str, Path]
) -> list[str]:
    parts = ["", "## The answer: which strategy wins where", ""]
    if winners.empty:
        return [*parts, "No finished runs."]
    level = level_text(experiment.decision_level)
    parts.append(
        "The winner of a condition is the firm with the highest mean final customer share; "
        "its *margin* is how many share points (as a fraction) it leads the runner-up by. "
        f"A margin marked (?) has a {level} confidence interval that includes 0: more "
        "replicates are needed before calling that cell."
    )
    pivot = winners_pivot(winners, experiment)
    if "map" in figures:
        parts += ["", f"![strategy map]({figures['map'].name})"]
    if pivot is not None:
        parts += ["", md_table(pivot.reset_index(names=""))]
    names = experiment.factor_names
    table = winners[[*names, "winner", "winner_share", "runner_up", "runner_up_share"]].copy()
    table[f"margin ({level} CI)"] = [
        f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
        for m, lo, hi in zip(
            winners["margin"], winners["margin_ci_low"], winners["margin_ci_high"], strict=True
        )
    ]
    table["replicates won"] = [f"{w:.0%}" for w in winners["wins"]]
    table["replicates"] = winners["n"]
    table = table.rename(columns={n: experiment.factor(n).title for n in names})
    parts += ["", "### Winners by condition", "", md_table(table)]
    parts += ["", "In short: " + winners_sentence(winners, experiment.decision_level)]
    if experiment.rule:
        parts += ["", undecided_at_max(winners, experiment)]
    return parts


def undecided_at_max(winners: pd.DataFrame, experiment: Experiment) -> str:
    """Which conditions stay undecided after the most replicates the rule allows."""
    assert experiment.rule is not None
    most = experiment.rule.max
    stuck = winners[(~winners["clear"].astype(bool)) & (winners["n"] >= most)]
    if stuck.empty:
        return f"No condition is still undecided at {most} replicates."
    names = experiment.factor_names
    cells = [
        ", ".join(f"{experiment.factor(n).title} = {fmt(row[n])}" for n in names)
        for row in stuck.to_dict("records")
    ]
    return (
        f"Still undecided at {most} replicates ({len(stuck)} of {len(winners)} conditions; "
        "the leaders are too close to call with this many runs): " + "; ".join(cells) + "."
    )


def winners_tally(winners: pd.DataFrame) -> pd.DataFrame:
    """Per winning firm, from the winners table: conditions won, how many of them with a
    clear margin (``clear``: its CI above 0) and how many undecided (CI includes 0)."""
    rows = []
    for firm, cells in winners.groupby("winner", sort=False):
        clear = int(cells["clear"].astype(bool).sum())
        rows.append(
            {"winner": firm, "won": len(cells), "clear": clear, "undecided": len(cells) - clear}
        )
    tally = pd.DataFrame(rows, columns=["winner", "won", "clear", "undecided"])
    return tally.sort_values("won", ascending=False, kind="stable").reset_index(drop=True)


def winners_sentence(winners: pd.DataFrame, level: float = 0.95) -> str:
    """The report's summary sentence, every number counted from the winners table
    (``clear``: the margin's CI at ``level`` is above 0)."""
    tally = winners_tally(winners)
    total = len(winners)
    clauses = [
        f"**{row.winner}** wins {row.won} of {total} conditions "
        f"({row.clear} with a clear margin, {row.undecided} undecided)"
        for row in tally.itertuples(index=False)
    ]
    undecided = int(tally["undecided"].sum())
    tail = (
        f" In {undecided} of {total} conditions the winner's margin has a {level_text(level)} "
        "CI that includes 0: more replicates are needed before calling them."
        if undecided
        else " Every condition has a clear winner."
    )
    return "; ".join(clauses) + "." + tail


def _bass_section(bass: pd.DataFrame, figures: dict[str, Path]) -> list[str]:
    parts = ["", "## The answer: does the agent-based model reproduce Bass diffusion?", ""]
    if "bass" in figures:
        parts += [f"![Bass check]({figures['bass'].name})", ""]
    parts.append(
        "Dashed: the discrete Bass recursion F(t+1) = F + (1 − (1 − p)(1 − qF))(1 − F), the "
        "exact expectation of the model's per-step hazard under complete mixing. Dotted: the "
        "continuous Bass curve, which runs slightly ahead of any step-by-step process. "
        "Coloured: the agent-based model's mean share adopted with its 95 % CI."
    )
    table = bass[
        [
            "p",
            "q",
            "graph",
            "F5_abm",
            "F5_recursion",
            "F5_closed_form",
            "rmse_recursion",
            "max_gap_recursion",
            "max_gap_closed_form",
            "recursion_in_ci",
            "above_complete",
            "above_complete_significant",
        ]
    ]
    parts += ["", md_table(table), ""]
    complete = bass[bass["graph"] == "complete"]
    networked = bass[bass["graph"] != "complete"]
    parts.append(
        f"Complete mixing: largest gap to the recursion {complete['max_gap_recursion'].max():.3f}"
        f" (share of steps where the recursion lies within the 95 % CI: "
        f"{complete['recursion_in_ci'].min():.0%} at worst); the closed form is up to "
        f"{complete['max_gap_closed_form'].max():.3f} ahead or behind."
        if not complete.empty
        else "No complete-mixing condition."
    )
    if not networked.empty:
        above = networked["above_complete_significant"].astype(bool)
        parts.append(
            ""
            if above.empty
            else (
                "Networked curves never rise significantly above complete mixing "
                f"(largest mean excess {networked['above_complete'].max():.3f})."
                if not above.any()
                else "WARNING: a networked curve rises significantly above complete mixing in "
                f"{int(above.sum())} condition(s); see `above_complete_significant`."
            )
        )
    return parts


def _sobol_section(sobol: pd.DataFrame, figures: dict[str, Path], notes: list[str]) -> list[str]:
    parts = [
        "",
        "## Sensitivity: which parameters matter",
        "",
        f"![Sobol indices]({figures['sobol'].name})",
        "",
        "First-order index S1: the share of the output's variance due to that parameter "
        "alone; total index ST: including all its interactions. Bars show 95 % bootstrap "
        "intervals. A parameter with ST near 0 can be fixed without changing the answer.",
    ]
    if not sobol.empty:
        table = sobol.copy()
        for col in ("S1", "S1_conf", "ST", "ST_conf"):
            table[col] = table[col].round(3)
        top = (
            table.sort_values("ST", ascending=False)
            .groupby(["metric", "firm"], sort=False)
            .head(2)
            .sort_values(["metric", "firm", "ST"], ascending=[True, True, False])
        )
        parts += [
            "",
            "The two most influential parameters for each output:",
            "",
            md_table(top[["metric", "firm", "factor", "S1", "S1_conf", "ST", "ST_conf"]]),
        ]
        noise = sobol.groupby(["metric", "firm"], sort=False)["noise_share"].first()
        if noise.notna().any():
            parts += [
                "",
                "Replicate noise: the share of the variance of the design points' means that "
                "is run-to-run randomness rather than the parameters (indices are only "
                "meaningful when it is well below 1): "
                + "; ".join(f"{m} of {f}: {v:.0%}" for (m, f), v in noise.items())
                + ".",
            ]
        else:
            parts += [
                "",
                "With one replicate per point, replicate noise cannot be separated "
                "from the parameters' effects: read the indices as an upper bound on "
                "what the parameters explain plus noise.",
            ]
    if notes:
        parts += ["", "Not analysed: " + "; ".join(notes) + "."]
    return parts
