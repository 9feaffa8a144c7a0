"""Lessons: presets of the page's controls, each with a paragraph and notice / try / ask.

A lesson is data (:class:`Lesson`): its settings are keywords of
:class:`~sim.classroom.controls.ClassroomModel`, its *variants* are the what-ifs its
text talks about, and its notice / try / ask are *templates*: every number in them is
a placeholder (see :mod:`.wording`) filled from the lesson measured over 100 seeds
(:mod:`.claims`), never typed. Each lesson also lists its *checks*: the qualitative
statements of its text ("social proof lifts adoption above the launch"), which the
measured numbers must bear out (``python run.py lesson NAME --numbers`` says whether
they do; a slow test fails if one does not).

Lessons 1–3 use one firm that launches one release at step 0 into a market of
customers on a legacy product: a clear quality gain (+0.3) against switching and
relearning losses (the ratio is measured: ``gain_loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .controls import OFF, ClassroomModel, full_settings

if TYPE_CHECKING:  # pragma: no cover
    from .claims import LessonClaims

__all__ = ["FIRST_LESSON", "LESSONS", "Check", "Lesson", "Variant"]

#: One release at step 0 with a clear gain, and no surprise after it (lessons 1-3).
ONE_RELEASE: dict[str, Any] = {
    "first_release": 0,
    "cadence": 1_000_000,
    "launch_step": 0.3,
    "risk_ratio": 0.0,
}
ONE_FIRM: dict[str, Any] = {
    "firm_a": "differentiated",
    "firm_b": OFF,
    "firm_c": OFF,
    "start": "legacy",
    "release": ONE_RELEASE,
}


@dataclass(frozen=True)
class Variant:
    """A what-if of a lesson: a key its text refers to, a label and the settings changed."""

    key: str
    label: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class Check:
    """A qualitative statement of a lesson's text, and the test of it on the claims."""

    says: str
    holds: Callable[[LessonClaims], bool]


@dataclass(frozen=True)
class Lesson:
    """A preset of the page's controls, with one paragraph for the class."""

    name: str
    title: str
    #: what the lesson is about and what its panels show, to read aloud (a template)
    paragraph: str
    settings: dict[str, Any]
    #: the lesson's button on the page
    short: str = ""
    #: what to look at, what to change, what to ask the class (templates)
    notice: str = ""
    try_this: str = ""
    ask: str = ""
    #: steps the lesson runs for (on the page and when measured)
    steps: int = 40
    #: the what-ifs its text talks about; the first with no changes is the page's
    variants: tuple[Variant, ...] = ()
    #: "release": one firm's release is measured; "market": who ends with what share
    kind: str = "release"
    checks: tuple[Check, ...] = ()

    def model(self, **changes: Any) -> ClassroomModel:
        """A fresh model of this lesson's settings (with ``changes``)."""
        return ClassroomModel(**{**self.settings, **changes})

    def variant(self, key: str) -> Variant:
        for variant in self.variants:
            if variant.key == key:
                return variant
        raise KeyError(f"lesson {self.name!r} has no variant {key!r}")

    def firm_labels(self) -> list[tuple[str, str]]:
        """(name, strategy) of the lesson's firms, as the page names them."""
        settings = full_settings(self.settings)
        return [
            (name, settings[key])
            for name, key in zip("ABC", ("firm_a", "firm_b", "firm_c"), strict=True)
            if settings[key] != OFF
        ]


def _typical(claims: LessonClaims, variant: str, metric: str) -> float:
    return claims.spread(variant, metric).median


def _mean(claims: LessonClaims, variant: str, metric: str) -> float:
    return claims.spread(variant, metric).mean


def _paired(claims: LessonClaims, first: str, second: str, metric: str) -> tuple[float, float]:
    """95 % CI of ``metric`` in ``second`` minus in ``first``, paired by seed."""
    return claims.difference(first, second, metric).mean_ci


def _lower(claims: LessonClaims, metric: str, first: str, second: str) -> bool:
    """``metric`` is clearly lower in ``second`` than in ``first`` (paired 95 % CI < 0)."""
    return _paired(claims, first, second, metric)[1] < 0


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
            notice="At λ̄ = 2.25 only {typical:l225:launch} of customers clear the bar at "
            "launch and {typical:l225:adopted} have adopted by step {steps}, though the "
            "release's gains are {typical:l225:gain_loss} times its losses.",
            try_this="Move λ̄ to 1, press Reset, then Play: the same offer sweeps the "
            "market, {typical:l1:adopted} by step {steps}. Then try λ̄ = 4: "
            "{typical:l4:adopted}.",
            ask="Which losses does a customer feel when switching to something better? "
            "What could the firm do about each one?",
            variants=(
                Variant("l1", "λ̄ = 1", {"loss_aversion_mean": 1.0}),
                Variant("l225", "λ̄ = 2.25", {"loss_aversion_mean": 2.25}),
                Variant("l4", "λ̄ = 4", {"loss_aversion_mean": 4.0}),
            ),
            checks=(
                Check(
                    "at λ̄ = 2.25 only a minority clears the bar at launch",
                    lambda c: c.spread("l225", "launch").run_range[1] < 0.5,
                ),
                Check(
                    "the release's gains are clearly larger than its losses",
                    lambda c: c.spread("l225", "gain_loss").run_range[0] > 1.5,
                ),
                Check(
                    "at λ̄ = 1 the same offer sweeps the market (over 90 % in 9 runs of 10)",
                    lambda c: c.spread("l1", "adopted").run_range[0] > 0.9,
                ),
                Check(
                    "each step up in λ̄ lowers adoption",
                    lambda c: (
                        _lower(c, "adopted", "l1", "l225") and _lower(c, "adopted", "l225", "l4")
                    ),
                ),
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
            notice="At λ̄ = 2.25, {typical:l225:launch} of the customers clear the bar at "
            "launch, yet {typical:l225:adopted} have adopted by step {steps}: social proof "
            "lifted the others over the bar as their neighbours adopted. Compare 'clears "
            "the bar at launch' with 'adopted now' under the break-even panel.",
            try_this="λ̄ = 1.5: {typical:l15:launch} clear the bar at launch and "
            "{typical:l15:adopted} adopt by step {steps}. Then λ̄ = 3: "
            "{typical:l3:launch} and {typical:l3:adopted}.",
            ask="Gains {typical:l225:gain_loss} times the losses: is that enough? Which "
            "customers never adopt, and what would it take to win them?",
            variants=(
                Variant("l15", "λ̄ = 1.5", {"loss_aversion_mean": 1.5}),
                Variant("l225", "λ̄ = 2.25", {"loss_aversion_mean": 2.25}),
                Variant("l3", "λ̄ = 3", {"loss_aversion_mean": 3.0}),
            ),
            checks=(
                Check(
                    "social proof lifts adoption by step 40 above the share that clears "
                    "the bar at launch, in 9 runs of 10 and more (λ̄ = 1.5, 2.25, 3)",
                    lambda c: all(
                        c.spread(v, "adopted").run_range[0] > c.spread(v, "launch").run_range[1]
                        for v in ("l15", "l225", "l3")
                    ),
                ),
                Check(
                    "a higher λ̄ lowers both the launch share and adoption",
                    lambda c: all(
                        _lower(c, m, "l15", "l225") and _lower(c, m, "l225", "l3")
                        for m in ("launch", "adopted")
                    ),
                ),
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
            notice="With trust 0.3 and no co-creation {typical:t03:launch} of customers "
            "clear the bar at launch, and the good release stalls: {typical:t03:adopted} "
            "by step {steps}.",
            try_this="Raise trust to 0.9 and press Reset: {typical:t09:launch} clear the "
            "bar and {typical:t09:adopted} adopt by step {steps}. Then raise co-creation "
            "to 0.3 as well: {typical:t09c03:launch} and {typical:t09c03:adopted}.",
            ask="How does a firm earn trust before its first release? Why might "
            "co-creators become its best salespeople?",
            variants=(
                Variant("t03", "T = 0.3, c = 0", {"initial_trust": 0.3, "cocreation": 0.0}),
                Variant("t09", "T = 0.9, c = 0", {"initial_trust": 0.9, "cocreation": 0.0}),
                Variant("t09c03", "T = 0.9, c = 0.3", {"initial_trust": 0.9, "cocreation": 0.3}),
            ),
            checks=(
                Check(
                    "with trust 0.3 almost nobody clears the bar at launch (under 1 % in "
                    "9 runs of 10) and the release stalls (under 5 % in the median run, "
                    "under 20 % in 9 runs of 10)",
                    lambda c: (
                        c.spread("t03", "launch").run_range[1] < 0.01
                        and c.spread("t03", "adopted").median < 0.05
                        and c.spread("t03", "adopted").run_range[1] < 0.2
                    ),
                ),
                Check(
                    "trust raises adoption, and co-creation raises it further",
                    lambda c: (
                        _lower(c, "adopted", "t09", "t03") and _lower(c, "adopted", "t09c03", "t09")
                    ),
                ),
            ),
        ),
        Lesson(
            "winner",
            "4. Which innovation wins, and when",
            "Three firms share a market: A improves a little every {cadence:A} steps "
            "(incremental), B makes a bigger, co-created step every {cadence:B} "
            "(differentiated), C leaps every {cadence:C} steps toward where needs are "
            "going (radical). Adoption shows each firm's share (solid) and its share on "
            "its latest release (dashed); ▼ marks a release. Press Play and watch {steps} "
            "steps.",
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
            notice="In a stable market {leader:s225}. The radical firm C ends with "
            "{mean:s225:C} on average.",
            try_this="Set market dynamism ρ to 0.01 and Reset: when needs drift, C's share "
            "{change:s225:d225:C}, and {leader:d225}. Then λ̄ = 1 with ρ = 0: C's share "
            "{change:s225:s1:C}. Try several seeds: single runs differ widely.",
            ask="Loss aversion weighs on the leaps, which ask customers to relearn the "
            "most: in which markets would you bet on a leap? How many seeds would "
            "convince you?",
            steps=200,
            kind="market",
            variants=(
                Variant("s1", "λ̄ = 1\nstable", {"loss_aversion_mean": 1.0, "market_dynamism": 0.0}),
                Variant(
                    "d1", "λ̄ = 1\nρ = 0.01", {"loss_aversion_mean": 1.0, "market_dynamism": 0.01}
                ),
                Variant(
                    "s225", "λ̄ = 2.25\nstable", {"loss_aversion_mean": 2.25, "market_dynamism": 0.0}
                ),
                Variant(
                    "d225",
                    "λ̄ = 2.25\nρ = 0.01",
                    {"loss_aversion_mean": 2.25, "market_dynamism": 0.01},
                ),
            ),
            checks=(
                Check(
                    "when needs drift (ρ = 0.01) the radical firm's share rises",
                    lambda c: _lower(c, "share_C", "d225", "s225"),
                ),
                Check(
                    "loss aversion weighs on the leaps: C's share is lower at λ̄ = 2.25 "
                    "than at λ̄ = 1 (stable market)",
                    lambda c: _lower(c, "share_C", "s1", "s225"),
                ),
            ),
        ),
    )
}
#: The lesson the page opens with.
FIRST_LESSON = "kink"
