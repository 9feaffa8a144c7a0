"""The report's sections on scenario discovery and the robust choice.

Every number in their sentences is read from the table printed beside them
(``boxes.csv``, ``feature_scores.csv``, ``regret.csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .discovery import NOISE_COLUMNS, NOISE_FLOOR
from .experiment import Experiment
from .robust import Criterion
from .text import fmt, level_text, md_table, percent

__all__ = ["discovery_section", "robust_section"]


def discovery_section(
    boxes: pd.DataFrame,
    scores: pd.DataFrame,
    n_runs: int,
    no_winner: int,
    figures: dict[str, Path],
    target: str = "winner",
) -> list[str]:
    """Where each strategy wins (or each option is the best choice): PRIM boxes as
    rules, runs without a winner counted apart, and what matters most beside the noise
    floor; every number from ``boxes.csv`` and ``feature_scores.csv``."""
    choice = target == "choice"
    unit = "world" if choice else "run"
    if choice:
        intro = (
            f"Each of the {n_runs} worlds below is one sampled future (every uncertainty "
            "drawn at once) and a replicate, in which every option of the focal firm was "
            "run; its outcome is the option that did best there. For each option, PRIM "
            "(Friedman & Fisher 1999; EMA Workbench) looks for a box of conditions where it "
            "is often the best choice: *density* is the share of the box's worlds where it "
            "is, *coverage* the share of all the worlds where it is that fall in the box."
        )
        apart = (
            f"In {no_winner} of the {n_runs} worlds no option leads every other by the "
            "no-winner gap: they count for no option."
        )
    else:
        intro = (
            f"Each of the {n_runs} runs below is one sampled future (every uncertainty drawn "
            "at once) with one winner, the firm that leads the others by the no-winner gap "
            "or more. For each strategy, PRIM (Friedman & Fisher 1999; EMA Workbench) looks "
            "for a box of conditions where it wins often: *density* is the share of the "
            "box's runs it wins, *coverage* the share of all its wins that fall in the box."
        )
        apart = (
            f"{no_winner} of the {n_runs} runs have no winner (the leader leads by less than "
            "the no-winner gap): they count as wins for no strategy."
        )
    parts = [
        "",
        "## Where each option is the best choice" if choice else "## Where each strategy wins",
        "",
        intro + " The box chosen on PRIM's trade-off holds many cases at a rate well above the "
        "average; restrictions the data do not support (quasi-p value of 0.05 or more) are "
        "dropped, and the box reported (and ringed in the figures) is the rule as written, "
        "counted on the data. " + apart,
        "",
    ]
    for row in boxes.to_dict("records"):
        parts.append(
            f"- {row['rule']} ({row['n_runs']} {unit}s in the box; "
            f"{row['wins']} of all {row['runs']} {unit}s)."
        )
    if not boxes.empty:
        table = boxes[["strategy", "coverage", "density", "n_runs", "mass", "wins", "restricted"]]
        parts += [
            "",
            md_table(table.rename(columns={"strategy": "option" if choice else "strategy"})),
        ]
    if "boxes" in figures:
        parts += ["", f"![where each wins]({figures['boxes'].name})"]
    if "tradeoff" in figures:
        parts += [
            "",
            f"![coverage and density]({figures['tradeoff'].name})",
            "",
            "How to read the trade-off: PRIM shrinks a box step by step; each step raises "
            "the density and lowers the coverage. The ring marks the rule as written above "
            "(after unsupported restrictions are dropped), a cross the peeled box it came "
            "from. A rule is worth acting on when its density is well above the overall "
            "rate and its coverage is not small.",
        ]
    floor_row = scores[scores["parameter"] == NOISE_FLOOR]
    floor = float(floor_row["score"].iloc[0]) if not floor_row.empty else float("nan")
    real = scores[scores["parameter"] != NOISE_FLOOR]
    above = real[~real["below_noise"].astype(bool)]
    below = real[real["below_noise"].astype(bool)]
    parts += [
        "",
        "### What matters most" + (" for the best choice" if choice else " for who wins"),
        "",
        "Feature scores of a classifier of the outcome (extra trees; they sum to 1 with "
        f"{NOISE_COLUMNS} random columns scored beside the uncertainties): the larger, the "
        f"more the outcome depends on that uncertainty. The *noise floor* ({floor:.3f}) is "
        "the largest random column's score: an uncertainty at or below it matters no more "
        "than noise. "
        + (
            "Above the floor: "
            + ", ".join(f"{r.label} ({r.score:.3f})" for r in above.itertuples(index=False))
            + ". "
            if not above.empty
            else "No uncertainty scores above the floor. "
        )
        + (
            f"At or below it ({len(below)}): "
            + ", ".join(r.label for r in below.itertuples(index=False))
            + "."
            if not below.empty
            else "None is at or below it."
        ),
        "",
        md_table(scores[["label", "parameter", "score", "below_noise"]]),
    ]
    if "features" in figures:
        parts += ["", f"![feature scores]({figures['features'].name})"]
    return parts


def robust_section(
    table: pd.DataFrame,
    verdicts: list[dict],
    picks: list[Criterion],
    experiment: Experiment,
    figures: dict[str, Path],
) -> list[str]:
    """Which option of its levers the focal firm should take: the verdict among the
    options and, with several levers, per lever; then each criterion with its interval,
    and whether they agree; every number from ``regret.csv`` (``table``) and
    ``lever_verdict.csv`` (``verdicts``)."""
    focal, metric = experiment.focal, experiment.metric_label
    worlds = int(table["worlds"].iloc[0])
    levers = ", ".join(f.title for f in experiment.levers)
    parts = [
        "",
        f"## A robust choice for {focal} (by {metric})",
        "",
        f"{focal} took each option of its levers ({levers}) against the same rivals in "
        f"the same sampled futures, with the same seeds: {worlds} worlds (futures × "
        "replicates), each run once per option. In each world an option's *regret* is "
        f"the best {metric} any option reached there minus its own (Savage 1951; "
        "Lempert, Popper & Bankes 2003).",
        "",
        "**" + lever_verdict_sentence(verdicts[0], experiment) + "**",
        "",
        *(
            [
                "Lever by lever (each lever's levels compared with the firm's other choices "
                "held fixed, paired by world):",
                "",
                *(f"- {lever_verdict_sentence(v, experiment)}" for v in verdicts[1:]),
                "",
            ]
            if len(verdicts) > 1
            else []
        ),
        md_table(_choice_rows(table)),
        "",
        f"`gap`: mean {metric} minus the best option's, with its paired 95 % CI (`tie`: "
        f"the CI reaches within ±{fmt(experiment.rules().equivalence)} of 0, so the option "
        "cannot be told from the best); `best in`: share of worlds where the option leads "
        f"every other by {fmt(experiment.rules().gap)} or more (Wilson 95 % CI); regret "
        "statistics with 95 % paired-bootstrap CIs over the worlds.",
        "",
    ]
    no_best = float(table["no_single_best"].iloc[0])
    if no_best > 0:
        parts += [
            f"In {percent(no_best)} of the worlds no option leads by "
            f"{fmt(experiment.rules().gap)} or more (for instance {focal} ends with "
            "nothing whatever it does): they count for no option in `best in`, and for "
            "every tied option in `best or tied`, which is why that column can sum past "
            "100 %.",
            "",
        ]
    for criterion in picks:
        parts.append("- " + criterion_sentence(criterion, table))
    parts += ["", agreement_sentence(picks)]
    if "regret" in figures:
        parts += ["", f"![regret]({figures['regret'].name})"]
    return parts


def _choice_rows(table: pd.DataFrame) -> pd.DataFrame:
    def ci(column: str, sign: bool = False) -> list[str]:
        form = "{:+.3f}" if sign else "{:.3f}"
        return [
            f"{form.format(v)} [{form.format(lo)}, {form.format(hi)}]"
            for v, lo, hi in zip(
                table[column], table[f"{column}_low"], table[f"{column}_high"], strict=True
            )
        ]

    return pd.DataFrame(
        {
            "option": table["option"],
            "mean": ci("mean"),
            "gap": [
                "best" if g == 0 and not t else text + (" tie" if t else "")
                for g, t, text in zip(table["gap"], table["gap_tie"], ci("gap", True), strict=True)
            ],
            "best in": [
                f"{percent(p)} [{percent(lo)}, {percent(hi)}]"
                for p, lo, hi in zip(
                    table["p_best"], table["p_best_low"], table["p_best_high"], strict=True
                )
            ],
            "best or tied": [percent(p) for p in table["best_or_tied"]],
            "mean regret": ci("mean_regret"),
            "90th pct regret": ci("p90_regret"),
            "worst regret": ci("max_regret"),
        }
    )


def lever_verdict_sentence(verdict: dict, experiment: Experiment) -> str:
    """A verdict of lever_verdict.csv in words: among all the focal firm's options
    (``scope`` "all options"), or among one lever's levels, the other levers held fixed."""
    focal, metric = experiment.focal, experiment.metric_label
    scope = str(verdict.get("scope", "all options"))
    every = scope == "all options"
    head = "Verdict" if every else f"{scope.capitalize()}"
    fixed = "" if every else ", whatever else it chooses"
    what = "options" if every else "levels"
    kind = verdict["verdict"]
    if kind == "clear":
        return (
            f"{head}: clear. {verdict['winner']} is the best choice for {focal}{fixed}: "
            f"{verdict['margin']:+.3f} {metric} over {verdict['runner_up']} "
            f"({level_text(verdict['level'])} CI {verdict['margin_ci_low']:+.3f} to "
            f"{verdict['margin_ci_high']:+.3f}), and the best in "
            f"{percent(verdict['wins'])} of the comparisons."
        )
    if kind == "tie":
        return (
            f"{head}: tie. {' and '.join(str(verdict['tied']).split(', '))} are equivalent "
            f"for {focal}{fixed} within ±{fmt(experiment.rules().equivalence)} {metric}: "
            "choose between them on what the model leaves out."
        )
    if kind == "coin flip":
        contenders = [c for c in str(verdict["contenders"]).split(", ") if c]
        return (
            f"{head}: coin flip. "
            + ", ".join(
                f"{c} is the best choice in {percent(verdict[f'p_win_{c}'])}" for c in contenders
            )
            + " of the comparisons, and none is clearly better on average: which one pays "
            "off depends on the future."
        )
    return (
        f"{head}: undecided. {verdict['winner']} leads {verdict['runner_up']} by "
        f"{verdict['margin']:+.3f} {metric} (CI {verdict['margin_ci_low']:+.3f} to "
        f"{verdict['margin_ci_high']:+.3f}): not clearly ahead, not equivalent within "
        f"±{fmt(experiment.rules().equivalence)}, and not a coin flip (no two {what} each "
        "best in a quarter of the comparisons). More futures would tell."
    )


def criterion_sentence(criterion: Criterion, table: pd.DataFrame) -> str:
    """One criterion: its pick, or who ties with its best, or that it cannot tell."""
    head = criterion.words[0].upper() + criterion.words[1:]
    if not criterion.discriminates:
        return (
            f"{head}: does not discriminate ({criterion.best} {criterion.value:.3f}, every "
            "other option not told apart from it); not used to pick."
        )
    if criterion.tied:
        return (
            f"{head}: {criterion.best} ({criterion.value:.3f}), not told apart from "
            + ", ".join(criterion.tied)
            + " (the 95 % CI of the difference reaches within the equivalence margin of 0); "
            "it picks none of them."
        )
    return f"{head}: **{criterion.best}** ({criterion.value:.3f}), ahead of every other option."


def agreement_sentence(picks: list[Criterion]) -> str:
    """Whether the criteria that pick an option pick the same one."""
    chosen = {c.words: c.picks for c in picks if c.picks is not None}
    if not chosen:
        leaders = [c for c in picks if c.discriminates]
        if not leaders:
            return "No criterion tells the options apart: the choice does not matter here."
        lead = leaders[0]
        return (
            f"No criterion picks a single option. By {lead.words}, "
            + " and ".join([lead.best, *lead.tied])
            + " cannot be told apart; the other options fall behind them."
        )
    options = set(chosen.values())
    if len(options) == 1:
        option = options.pop()
        others = [c.words for c in picks if c.picks is None]
        return f"The criteria that pick agree: {option}" + (
            f" ({', '.join(chosen)}; {' and '.join(others)} cannot tell)." if others else "."
        )
    return (
        "The criteria disagree: "
        + "; ".join(f"{words} picks {option}" for words, option in chosen.items())
        + ". Choose by how much a bad future would cost."
    )
