"""``report.md``: a sweep's question, design, figures, verdicts and how to reproduce it.

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
from .text import duration_text, dynamism_text, fmt, level_text, md_table, percent

__all__ = [
    "headline",
    "verdict_tally",
    "winners_pivot",
    "winners_text",
    "write_report",
]

#: How the map and the terminal mark each verdict.
MARKS = {"clear": "", "tie": " (tie)", "coin flip": " (coin flip)", "undecided": " (?)"}


def cell_text(row: dict[str, Any]) -> str:
    """One condition in a map cell: "radical +0.21", "coin flip: radical 45 %,
    differentiated 45 %", "tie: radical = differentiated", "radical +0.05 (?)"."""
    verdict = row["verdict"]
    if verdict == "coin flip":
        contenders = [c for c in str(row["contenders"]).split(", ") if c]
        return "coin flip: " + ", ".join(
            f"{c} {percent(row[f'p_win_{c}'])}" for c in contenders if f"p_win_{c}" in row
        )
    if verdict == "tie":
        return "tie: " + " = ".join(str(row["tied"]).split(", "))
    return f"{row['winner']} {row['margin']:+.2f}{MARKS[verdict]}"


def winners_pivot(winners: pd.DataFrame, experiment: Experiment) -> pd.DataFrame | None:
    """The verdict by the two map factors, as a table; None without a map."""
    axes = experiment.report.get("map")
    if not axes or winners.empty:
        return None
    x_name, y_name = axes
    mask, _ = experiment.others_fixed([x_name, y_name])
    frame = winners[mask[winners["point"].to_numpy()]].copy()
    frame["cell"] = [cell_text(row) for row in frame.to_dict("records")]
    pivot = frame.pivot(index=y_name, columns=x_name, values="cell")
    pivot = pivot.reindex(index=experiment.levels(y_name), columns=experiment.levels(x_name))
    pivot.index = [f"{experiment.factor(y_name).title} = {fmt(v)}" for v in pivot.index]
    pivot.columns = [f"{experiment.factor(x_name).title} = {fmt(v)}" for v in pivot.columns]
    return pivot


def winners_text(winners: pd.DataFrame, experiment: Experiment) -> str:
    """The verdicts for the terminal: the headline, then the map (or the table)."""
    if winners.empty:
        return "(no finished runs)"
    pivot = winners_pivot(winners, experiment)
    if pivot is not None:
        text = pivot.to_string()
    else:
        names = experiment.factor_names
        cols = [*names, "verdict", "winner", "winner_mean", "runner_up", "margin"]
        text = winners[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    return (
        headline(verdict_tally(winners), len(winners), experiment.metric_label)
        + "\n\nverdict by condition (+x: the leader's mean "
        f"{experiment.metric_label} minus the runner-up's; (?) = undecided)\n" + text
    )


def _overrides_lines(experiment: Experiment) -> list[str]:
    """The experiment's own changes to the base scenario ([base] and [set])."""
    lines = []
    for origin, values in experiment.overrides.items():
        if values:
            lines.append(
                f"- **{origin}** (every run): "
                + ", ".join(f"`{k} = {v!r}`" for k, v in values.items())
                + "."
            )
    return lines


def _dynamism_lines(experiment: Experiment) -> list[str]:
    """What the market-dynamism levels mean in business time."""
    unit = experiment.step_unit
    lines = []
    for f in experiment.factors:
        if "market.market_dynamism" not in f.keys:
            continue
        levels = f.grid_levels() if not f.sampled or f.values else [f.low, f.high]
        levels = [v for v in levels if isinstance(v, int | float) and v > 0]
        if levels:
            lines.append(
                f"- **What {f.title} means**: "
                + "; ".join(dynamism_text(float(v), unit) for v in levels)
                + "."
            )
    rho = experiment.base.resolved_parameters().get("market_dynamism", 0.0)
    if not lines and rho > 0:
        lines.append(f"- **Market dynamism**: {dynamism_text(float(rho), unit)}.")
    return lines


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
            if f.categorical and experiment.design != "grid":
                how += " (one drawn per future)"
        role = {"lever": "lever", "uncertainty": "uncertainty"}.get(f.role, "factor")
        rows.append(
            {"factor": f.title, "role": role, "scenario keys": ", ".join(f.keys), "levels": how}
        )
    seeds = (
        f"- **Seeds**: {experiment.seed_rule}; results do not depend on the number of "
        "workers or machines."
    )
    lines = [
        f"- **Base scenario**: {experiment.base.name} "
        f"({experiment.base.description.rstrip('.') or 'see the manifest'}); "
        f"N = {params['n_customers']:,} customers, network {params['network']}, "
        f"firms: {', '.join(experiment.firm_names)}.",
        *_overrides_lines(experiment),
        f"- **Design**: {experiment.describe()}; each run lasts "
        f"{duration_text(experiment.steps, experiment.step_unit)}.",
        f"- **Metric**: {experiment.metric_label}: a firm wins a run when it leads it by "
        f"{fmt(experiment.rules().gap)} or more (else the run has no winner); two firms "
        f"tie when their mean {experiment.metric_label}s are equivalent within "
        f"±{fmt(experiment.rules().equivalence)}.",
        *_dynamism_lines(experiment),
        seeds,
    ]
    if experiment.focal:
        lines.append(
            f"- **Levers and uncertainties**: {experiment.focal} chooses its "
            + ", ".join(f.title for f in experiment.levers)
            + " (the levers); every combination of them (an option) meets the same futures "
            "with the same seeds. Everything else is what it faces."
        )
    if experiment.rule and experiment.rule.until == "winner":
        lines.append(
            f"- **Replicates until a verdict**: each round doubles the replicates of the "
            f"conditions still open; each look reaches its verdict at the "
            f"{level_text(experiment.decision_level)} level (95 % over the "
            f"{len(experiment.rule.schedule())} looks, Bonferroni). A verdict stands only "
            "when the next batch of fresh replicates, which the stopping rule never saw, "
            "gives the same verdict on its own; the numbers reported are that batch's, so "
            "stopping early cannot inflate them."
        )
    elif experiment.rule:
        lines.append(f"- **Replicates until precise**: {experiment.rule.describe()}.")
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
    command = experiment.command(out)
    parts = [
        f"# {experiment.name}" + (" (quick size)" if experiment.quick else ""),
        "",
        f"*Generated {time.strftime('%Y-%m-%d %H:%M')} by `{command}`. The one-page "
        "brief: [report.html](report.html).*",
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
    elif experiment.design == "grid" and not experiment.levers:
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
        "- `report.html`: the one-page brief (opens offline in a browser; its numbers are "
        "read from the CSV files here).",
        "- `summary.csv` / `summary.parquet`: per design point, firm and metric: mean, sd, "
        "n, 95 % CI (`ci_low`, `ci_high`) across replicates. Metrics: "
        + ", ".join(f"`{m}`" for m in METRICS)
        + ".",
        "- `winners.csv`: per design point, the verdict, the winner, runner-up and margin "
        "(with its CI), each firm's win probability with its 95 % Wilson interval "
        "(`p_win_FIRM`, `_low`, `_high`), and which replicates the numbers come from.",
        "- `runs.csv`: one row per run: its parameters, winner and every firm's metric.",
        "- `tornado.csv`: each firm's mean metric at the low and high end of every factor.",
        "- `runs/summary/*.parquet`, `runs/timeseries/*.parquet`: every run, one part each.",
        "- `manifest.json`: the experiment, design table, seeds and package versions.",
        "",
        "## Reproduce",
        "",
        "```",
        command,
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
    tally = verdict_tally(winners)
    metric = experiment.metric_label
    level = level_text(experiment.decision_level)
    parts += [
        "**" + headline(tally, len(winners), metric) + "**",
        "",
        md_table(tally),
        "",
        f"Each condition gets one verdict, judged on {metric}. A run is won by the firm "
        f"that leads it by {fmt(experiment.rules().gap)} or more. **Clear**: the leader's "
        f"margin over the runner-up (mean paired difference) has a {level} confidence "
        "interval above 0, and it wins more runs than any other firm. **Tie**: the two "
        f"leaders are equivalent within ±{fmt(experiment.rules().equivalence)} (two "
        "one-sided tests). **Coin flip**: two or more firms each win at least a quarter of "
        "the runs and none is clear: runs tip one way or the other, and more replicates "
        "would not change that. **Undecided**: none of these with the replicates allowed.",
    ]
    pivot = winners_pivot(winners, experiment)
    if "map" in figures:
        parts += ["", f"![strategy map]({figures['map'].name})"]
    if pivot is not None:
        parts += ["", md_table(pivot.reset_index(names=""))]
    names = experiment.factor_names
    firms = [f for f in experiment.firm_names if f"p_win_{f}" in winners]
    table = winners[[*names, "verdict", "winner"]].copy()
    table[f"margin ({level} CI)"] = [
        f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        for m, lo, hi in zip(
            winners["margin"], winners["margin_ci_low"], winners["margin_ci_high"], strict=True
        )
    ]
    for firm in firms:
        table[f"{firm} wins (95 % CI)"] = [
            f"{percent(p)} [{percent(lo)}, {percent(hi)}]"
            for p, lo, hi in zip(
                winners[f"p_win_{firm}"],
                winners[f"p_win_{firm}_low"],
                winners[f"p_win_{firm}_high"],
                strict=True,
            )
        ]
    table["no winner"] = [percent(p) for p in winners["p_no_winner"]]
    table["runs (reported)"] = [
        f"{r} ({rep})" for r, rep in zip(winners["replicates"], winners["reported"], strict=True)
    ]
    table["confirmed"] = winners["confirmed"]
    table = table.rename(columns={n: experiment.factor(n).title for n in names})
    parts += ["", "### Verdicts by condition", "", md_table(table)]
    parts += [
        "",
        "`runs (reported)`: the runs made for the condition, and which replicates the "
        "numbers come from. A verdict `confirmed` by fresh replicates was reached on the "
        "replicates before them and held on them alone.",
    ]
    if experiment.rule:
        parts += ["", undecided_at_max(winners, experiment)]
    return parts


def undecided_at_max(winners: pd.DataFrame, experiment: Experiment) -> str:
    """Which conditions stay undecided after the most replicates the rule allows."""
    assert experiment.rule is not None
    stuck = winners[winners["verdict"] == "undecided"]
    most = experiment.rule.max
    if stuck.empty:
        return f"No condition is undecided at {most} replicates."
    names = experiment.factor_names
    cells = [
        ", ".join(f"{experiment.factor(n).title} = {fmt(row[n])}" for n in names)
        for row in stuck.to_dict("records")
    ]
    return (
        f"Undecided at {most} replicates ({len(stuck)} of {len(winners)} conditions; the "
        "leaders are neither clearly apart, equivalent, nor each winning a quarter of the "
        "runs): " + "; ".join(cells) + "."
    )


def verdict_tally(winners: pd.DataFrame) -> pd.DataFrame:
    """Per firm, from the winners table: conditions it wins clearly, leads in a coin flip,
    ties for the lead, or leads undecided; one row per firm that leads any condition."""
    rows = []
    for firm, cells in winners.groupby("winner", sort=False):
        counts = cells["verdict"].value_counts()
        rows.append(
            {
                "leader": firm,
                "clear": int(counts.get("clear", 0)),
                "coin flip": int(counts.get("coin flip", 0)),
                "tie": int(counts.get("tie", 0)),
                "undecided": int(counts.get("undecided", 0)),
                "conditions led": len(cells),
            }
        )
    tally = pd.DataFrame(
        rows, columns=["leader", "clear", "coin flip", "tie", "undecided", "conditions led"]
    )
    return tally.sort_values(
        ["clear", "conditions led"], ascending=False, kind="stable"
    ).reset_index(drop=True)


def headline(tally: pd.DataFrame, total: int, metric: str) -> str:
    """The answer in one sentence, clear wins first, every number from ``tally``."""
    clear = [r for r in tally.itertuples(index=False) if r.clear]
    wins = (
        "; ".join(f"{r.leader} wins {r.clear} of {total} clearly" for r in clear)
        if clear
        else f"no strategy wins any of the {total} conditions clearly"
    )
    flips, ties, undecided = (int(tally[c].sum()) for c in ("coin flip", "tie", "undecided"))
    rest = [
        f"{flips} {'is a coin flip' if flips == 1 else 'are coin flips'}" if flips else "",
        f"{ties} {'is a tie' if ties == 1 else 'are ties'}" if ties else "",
        f"{undecided} undecided" if undecided else "",
    ]
    rest = [r for r in rest if r]
    tail = "; " + ", ".join(rest) if rest else ""
    return f"By {metric}: {wins}{tail}."


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
