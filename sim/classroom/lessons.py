"""Lessons: presets of the page's controls, each with a paragraph and notice / try / ask.

A lesson is data (:class:`Lesson`): its settings are keywords of
:class:`~sim.classroom.controls.ClassroomModel`. On the page a lesson sets the
controls; ``python run.py lesson NAME`` renders its figures as PNGs for slides and
handouts (no browser needed) and prints the numbers its text quotes, measured again.

Lessons 1–3 use one firm that launches one release at step 0 into a market of
customers on a legacy product: a clear quality gain (+0.3), and losses (switching
and relearning) of about 0.14 on average, so its gains are about 2.3 times its losses.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..paths import RESULTS
from . import figures
from .controls import OFF, ClassroomModel

__all__ = ["LESSONS", "Lesson", "lesson_command", "lesson_numbers", "render_lesson"]


#: One release at step 0 with a clear gain, and no surprise after it (lessons 1-3).
ONE_RELEASE: dict[str, Any] = {
    "first_release": 0,
    "cadence": 1_000_000,
    "quality_step_mean": 0.3,
    "quality_step_sd": 0.0,
    "risk": 0.0,
}
ONE_FIRM: dict[str, Any] = {
    "firm_a": "differentiated",
    "firm_b": OFF,
    "firm_c": OFF,
    "start": "legacy",
    "release": ONE_RELEASE,
}


@dataclass(frozen=True)
class Lesson:
    """A preset of the page's controls, with one paragraph for the class."""

    name: str
    title: str
    #: what the lesson is about and what its panels show, to read aloud
    paragraph: str
    settings: dict[str, Any]
    #: the lesson's button on the page
    short: str = ""
    #: what to look at, what to change, what to ask the class
    notice: str = ""
    try_this: str = ""
    ask: str = ""
    #: steps the lesson's figures run the model for
    steps: int = 40
    #: what-ifs drawn together: (label, settings that change)
    variants: tuple[tuple[str, dict[str, Any]], ...] = ()
    #: for the market-regime lesson: regimes compared over ``seeds`` seeds
    regimes: tuple[tuple[str, dict[str, Any]], ...] = ()
    seeds: tuple[int, ...] = tuple(range(1, 9))

    def model(self, **changes: Any) -> ClassroomModel:
        """A fresh model of this lesson's settings (with ``changes``)."""
        return ClassroomModel(**{**self.settings, **changes})


LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson(
            "kink",
            "1. The kink: losses loom larger than gains",
            "Customers judge an innovation against what they have now. Gains feel good, "
            "but an equal loss (switching, relearning, the risk of it not working) hurts "
            "about λ times as much (λ ≈ 2.25 for most people), so the value curve bends at "
            "zero: the kink. One firm launches a clearly better release into a market "
            "where everyone uses an old product. Adoption shows the share of customers on "
            "it; in the network each dot is a customer, coloured by what they use.",
            {
                **ONE_FIRM,
                "loss_aversion_mean": 2.25,
                "initial_trust": 0.8,
                "cocreation": 0.05,
                "n_customers": 1000,
            },
            short="1. The kink",
            notice="At λ̄ = 2.25 only 29 % clear the bar at launch and 65 % have adopted "
            "by step 40, though the release's gains are about twice its losses.",
            try_this="Move λ̄ to 1, press Reset, then Play: the same offer sweeps the "
            "market (99.7 % by step 40). Then try λ̄ = 4.",
            ask="Which losses does a customer feel when switching to something better? "
            "What could the firm do about each one?",
            variants=(
                ("λ̄ = 1", {"loss_aversion_mean": 1.0}),
                ("λ̄ = 2.25", {"loss_aversion_mean": 2.25}),
                ("λ̄ = 4", {"loss_aversion_mean": 4.0}),
            ),
        ),
        Lesson(
            "breakeven",
            "2. Break-even: an offer needs gains about λ times its losses",
            "Here gains and losses count at face value (α = β = 1), trust is full and "
            "customers decide without noise: a customer adopts exactly when the gain G "
            "beats λ·L. In the break-even panel each dot is a customer not yet on the "
            "release: felt loss across, felt gain up; dots above the line clear the bar "
            "and adopt once they hear of the release. Part of the gain is social proof: "
            "the more of a customer's neighbours use the release, the more it is worth "
            "to them. So as neighbours adopt, felt gains rise and dots cross the line.",
            {
                **ONE_FIRM,
                "loss_aversion_mean": 2.25,
                "initial_trust": 1.0,
                "cocreation": 0.05,
                "n_customers": 1000,
                "extra": {"alpha": 1.0, "beta": 1.0, "temperature": 0.0},
            },
            short="2. Break-even",
            notice="At λ̄ = 2.25, 54 % of the customers clear the bar at launch, yet "
            "84 % have adopted by step 40: social proof lifted the others over the bar "
            "as their neighbours adopted. Compare 'clears the bar at launch' with "
            "'adopted now' under the break-even panel.",
            try_this="λ̄ = 1.5 (83 % clear the bar at launch, 99 % adopt by step 40) and "
            "λ̄ = 3 (34 % and 53 %).",
            ask="Gains about 2.3 times the losses: is that enough? Which customers "
            "never adopt, and what would it take to win them?",
            variants=(
                ("λ̄ = 1.5", {"loss_aversion_mean": 1.5}),
                ("λ̄ = 2.25", {"loss_aversion_mean": 2.25}),
                ("λ̄ = 3", {"loss_aversion_mean": 3.0}),
            ),
        ),
        Lesson(
            "trust",
            "3. Trust and co-creation lower the bar",
            "A promised gain counts only as much as customers trust the firm (T·G), while "
            "losses are certain. Co-creators helped shape the product, so they relearn less "
            "(half the learning cost) and their trust grows. The break-even panel shows "
            "felt gains shrunk by low trust: almost no dot clears the bar.",
            {
                **ONE_FIRM,
                "loss_aversion_mean": 2.25,
                "initial_trust": 0.3,
                "cocreation": 0.0,
                "n_customers": 1000,
            },
            short="3. Trust",
            notice="With trust 0.3 and no co-creation nobody clears the bar at launch "
            "and the good release stalls (1 % by step 40).",
            try_this="Raise trust to 0.9, press Reset (19 % clear the bar, 40 % adopt by "
            "step 40), then co-creation to 0.3 as well (46 % and 85 %).",
            ask="How does a firm earn trust before its first release? Why might "
            "co-creators become its best salespeople?",
            variants=(
                ("T = 0.3, c = 0", {"initial_trust": 0.3, "cocreation": 0.0}),
                ("T = 0.9, c = 0", {"initial_trust": 0.9, "cocreation": 0.0}),
                ("T = 0.9, c = 0.3", {"initial_trust": 0.9, "cocreation": 0.3}),
            ),
        ),
        Lesson(
            "winner",
            "4. Which innovation wins, and when",
            "Three firms share a market: A improves a little every 4 steps (incremental), "
            "B makes a bigger, co-created step every 12 (differentiated), C leaps every 36 "
            "steps toward where needs are going (radical). Adoption shows each firm's "
            "share (solid) and its share on its latest release (dashed); ▼ marks a "
            "release. Press Play and watch 200 steps.",
            {
                "firm_a": "incremental",
                "firm_b": "differentiated",
                "firm_c": "radical",
                "start": "spread",
                "loss_aversion_mean": 2.25,
                "initial_trust": 0.5,
                "cocreation": 0.05,
                "market_dynamism": 0.0,
                "n_customers": 2000,
            },
            short="4. Who wins",
            notice="In our runs the differentiated firm wins most often in a stable "
            "market. Raising λ̄ helps the small steps and hurts the leaps, which ask "
            "customers to relearn the most.",
            try_this="Set market dynamism ρ to 0.01 and Reset: when needs drift the "
            "radical firm, aiming where needs are going, takes the largest share on "
            "average and wins about half the runs. Try several seeds.",
            ask="Single runs differ: how many seeds would convince you? Which kind of "
            "market is your own industry?",
            steps=200,
            regimes=(
                ("λ̄ = 1\nstable", {"loss_aversion_mean": 1.0, "market_dynamism": 0.0}),
                ("λ̄ = 1\nρ = 0.01", {"loss_aversion_mean": 1.0, "market_dynamism": 0.01}),
                ("λ̄ = 2.25\nstable", {"loss_aversion_mean": 2.25, "market_dynamism": 0.0}),
                ("λ̄ = 2.25\nρ = 0.01", {"loss_aversion_mean": 2.25, "market_dynamism": 0.01}),
            ),
        ),
    )
}
#: The lesson the page opens with.
FIRST_LESSON = "kink"


def lesson_numbers(lesson: Lesson) -> list[str]:
    """The numbers the lesson's text quotes, measured again: for each what-if, the share
    of customers that clears the bar at launch and the share adopted at the last step."""
    lines = []
    for label, changes in lesson.variants:
        model = lesson.model(**changes)
        launch = float((model.offer_terms(0)["value"] > 0).mean())
        model.run(lesson.steps)
        adopted = model.firm_shares()[0]
        lines.append(
            f"{label}: {launch:.1%} clear the bar at launch, "
            f"{adopted:.1%} adopted by step {lesson.steps}"
        )
    return lines


def render_lesson(lesson: Lesson, out: Path) -> list[Path]:
    """Write the lesson's figures (PNG) and a handout (Markdown) to ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    name = lesson.name
    model = lesson.model()
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
    if lesson.variants:
        runs = [
            (label, lesson.model(**changes).run(lesson.steps)) for label, changes in lesson.variants
        ]
        paths.append(
            figures.save(
                figures.comparison_figure(runs, "The same release, different customers"),
                out / f"{name}_compare.png",
            )
        )
    if lesson.regimes:
        results = []
        for label, changes in lesson.regimes:
            shares = [
                lesson.model(**changes, seed=seed).run(lesson.steps).firm_shares()
                for seed in lesson.seeds
            ]
            results.append(
                (
                    label,
                    [f.name + f" ({f.strategy.name})" for f in model.firms],
                    np.mean(shares, axis=0),
                )
            )
        paths.append(
            figures.save(
                figures.winners_figure(
                    results, f"Who wins after {lesson.steps} steps ({len(lesson.seeds)} seeds)"
                ),
                out / f"{name}_compare.png",
            )
        )
    handout = out / f"{name}.md"
    images = "\n".join(f"![{p.stem}]({p.name})" for p in paths)
    blocks = [
        f"# {lesson.title}",
        lesson.paragraph,
        f"**Notice.** {lesson.notice}",
        f"**Try.** {lesson.try_this}",
        f"**Ask.** {lesson.ask}",
        images,
    ]
    handout.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return [*paths, handout]


def lesson_command(args: argparse.Namespace) -> int:
    """``python run.py lesson [NAME] [--out DIR] [--list] [--numbers]``."""
    allowed = ", ".join(LESSONS)
    if args.list:
        for lesson in LESSONS.values():
            print(f"{lesson.name:<10} {lesson.title}")
        return 0
    if not args.name:
        print(f"error: lesson: give a lesson NAME, one of {allowed} (or --list)", file=sys.stderr)
        return 2
    lesson = LESSONS.get(args.name)
    if lesson is None:
        print(f"error: lesson = {args.name!r}: expected one of {allowed}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else RESULTS / "lessons" / lesson.name
    if getattr(args, "numbers", False):
        for line in lesson_numbers(lesson) or [f"{lesson.name}: no what-ifs to measure"]:
            print(line)
        return 0
    for path in render_lesson(lesson, out):
        print(path)
    return 0
