"""``python run.py lesson NAME``: a lesson's figures and handout, and its numbers.

The handout's text and its comparison figure come from the lesson's claims
(:mod:`.measured`): the same runs over 100 seeds that fill the page's text. The
figures of one run (value function, break-even, adoption, network) show the seed the
page opens on, a typical run. ``--numbers`` measures every claim again and prints it
with its interval, the checks of the lesson's statements and the texts it fills.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..paths import RESULTS
from . import figures
from .claims import LessonClaims, percent
from .lessons import LESSONS, Lesson
from .measured import lesson_claims
from .wording import lesson_texts

__all__ = ["lesson_command", "numbers_report", "render_lesson"]


def render_lesson(lesson: Lesson, out: Path, claims: LessonClaims) -> list[Path]:
    """Write the lesson's figures (PNG) and a handout (Markdown) to ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    name = lesson.name
    model = lesson.model(seed=claims.opening_seed())
    p = model.params
    paths = [
        figures.save(
            figures.value_function_figure(p["loss_aversion_mean"], p["alpha"], p["beta"]),
            out / f"{name}_value_function.png",
        ),
        figures.save(figures.breakeven_figure(model), out / f"{name}_breakeven.png"),
    ]
    model.run(lesson.steps)
    paths.append(figures.save(figures.adoption_figure(model), out / f"{name}_adoption.png"))
    paths.append(figures.save(figures.network_figure(model), out / f"{name}_network.png"))
    n = len(claims.seeds)
    if lesson.kind == "release":
        runs = [(v.label, claims.series[v.key]) for v in lesson.variants]
        title = "The same release, different customers"
        figure = figures.comparison_figure(runs, title, model.firm_colours[0])
    else:
        figure = figures.winners_figure(
            [(v.label, claims, v.key) for v in lesson.variants],
            f"Who ends with what after {lesson.steps} steps ({n} seeds)",
        )
    paths.append(figures.save(figure, out / f"{name}_compare.png"))
    texts = lesson_texts(lesson, claims)
    handout = out / f"{name}.md"
    images = "\n".join(f"![{p.stem}]({p.name})" for p in paths)
    blocks = [
        f"# {lesson.title}",
        texts["paragraph"],
        f"**Notice.** {texts['notice']}",
        f"**Try.** {texts['try']}",
        f"**Ask.** {texts['ask']}",
        f"*{texts['measured']}*",
        images,
    ]
    handout.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return [*paths, handout]


METRIC_NAMES = {
    "launch": "clears the bar at launch",
    "adopted": "adopted at the last step",
    "gain_loss": "gains over losses at launch (G / L)",
}


def numbers_report(lesson: Lesson, claims: LessonClaims) -> list[str]:
    """Every number the lesson's text can state, with its intervals; the opening seed and
    its own numbers; the checks of its statements; the filled texts."""
    seed = claims.opening_seed()
    own = claims.opening_values()
    lines = [f"{lesson.title}: {len(claims.seeds)} seeds per variant, {lesson.steps} steps"]
    for variant in lesson.variants:
        for metric in claims.metrics[variant.key]:
            label = variant.label.replace("\n", ", ")
            if metric == "winner":
                wins = [
                    f"{name} {claims.wins(variant.key, name).text()}" for name, _ in claims.firms
                ]
                wins.append(f"no winner {claims.no_winner(variant.key).text()}")
                lines.append(f"  {label}: wins: " + "; ".join(wins))
                continue
            spread = claims.spread(variant.key, metric)
            ratio = metric == "gain_loss"
            show = (lambda x: f"{x:.2f}") if ratio else (lambda x: f"{percent(x)} %")
            low, high = spread.run_range
            mean_low, mean_high = spread.mean_ci
            name = METRIC_NAMES.get(metric, metric.replace("share_", "final share of "))
            lines.append(
                f"  {label}: {name}: median {show(spread.median)} (middle 90 % of runs "
                f"{show(low)} to {show(high)}), mean {show(spread.mean)} (95 % CI "
                f"{show(mean_low)} to {show(mean_high)}); seed {seed}: "
                f"{show(own[(variant.key, metric)])}"
            )
    lines.append(f"Opening seed: {seed} (inside the middle 90 % of runs in every number)")
    for check in lesson.checks:
        lines.append(f"{'holds' if check.holds(claims) else 'FAILS'}: {check.says}")
    texts = lesson_texts(lesson, claims)
    lines += [f"Notice: {texts['notice']}", f"Try: {texts['try']}", f"Ask: {texts['ask']}"]
    return lines


def lesson_command(args: argparse.Namespace) -> int:
    """``python run.py lesson [NAME] [--out DIR] [--list] [--numbers]``."""
    allowed = ", ".join(LESSONS)
    if args.list:
        for lesson in LESSONS.values():
            print(f"{lesson.name:<10} {lesson.title}")
        return 0
    if not args.name:
        raise InputError("lesson", reason=f"give a lesson NAME, one of {allowed} (or --list)")
    lesson = LESSONS.get(args.name)
    if lesson is None:
        raise InputError("lesson", args.name, f"one of {allowed}")
    out = Path(args.out) if args.out else RESULTS / "lessons" / lesson.name
    if out.exists() and not out.is_dir():
        raise InputError("--out", args.out, "a folder (this is a file)")
    numbers = getattr(args, "numbers", False)
    claims = lesson_claims([lesson.name], refresh=numbers)[lesson.name]
    if numbers:
        for line in numbers_report(lesson, claims):
            print(line)
        return 0 if all(check.holds(claims) for check in lesson.checks) else 1
    for path in render_lesson(lesson, out, claims):
        print(path)
    return 0
