"""A lesson's words with its measured numbers: placeholders filled from its claims.

A lesson's paragraph, notice, try and ask are templates. Every number they state is a
placeholder, filled from :class:`~.claims.LessonClaims` (measured over 100 seeds):

- ``{typical:VARIANT:METRIC}``: the median run and the middle 90 % of runs,
  "29 % (26–32 %)" (``gain_loss`` as a ratio, "2.3 (2.2–2.4)");
- ``{mean:VARIANT:FIRM}``: a firm's mean final share and its 95 % CI;
- ``{wins:VARIANT:FIRM}``: the share of runs the firm wins, with its 95 % CI;
- ``{leader:VARIANT}``: who ends with the largest share on average and how often it
  wins, or that no firm clearly leads (the leader's lead has a 95 % CI that includes 0);
- ``{change:FIRST:SECOND:FIRM}``: how the firm's mean share moves from one variant to
  the other ("rises from 10 % to 40 % on average (by 25–35 points, 95 % CI)"), paired
  by seed; "does not change clearly" when the CI of the change includes 0;
- ``{steps}``, ``{seeds}``, ``{cadence:FIRM}``: the run's length, the number of seeds,
  a firm's steps between releases (the model's).

:func:`lesson_texts` fills a lesson's four texts and adds ``measured``, which says how
the numbers were measured and which seed the page opens on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .claims import LessonClaims, Spread, percent

if TYPE_CHECKING:  # pragma: no cover
    from .lessons import Lesson

__all__ = ["PLACEHOLDER", "fill", "lesson_texts"]

PLACEHOLDER = re.compile(r"\{([a-z_]+)((?::[A-Za-z0-9_.]+)*)\}")


def _points(value: float) -> str:
    """A change of share in percentage points: "12", "−3"."""
    return f"{100 * value:.0f}".replace("-", "−")


def _firm(claims: LessonClaims, name: str) -> str:
    strategy = dict(claims.firms)[name]
    return f"{name} ({strategy})"


def _leader(claims: LessonClaims, variant: str) -> str:
    names = [name for name, _ in claims.firms]
    means = {name: claims.spread(variant, f"share_{name}").mean for name in names}
    first, second = sorted(names, key=lambda n: -means[n])[:2]
    lead = (
        claims.spread(variant, f"share_{first}").values
        - claims.spread(variant, f"share_{second}").values
    )
    low, _ = Spread(lead).mean_ci
    wins_first, wins_second = claims.wins(variant, first), claims.wins(variant, second)
    if low > 0:
        return (
            f"{_firm(claims, first)} ends with the largest share on average, "
            f"{claims.spread(variant, f'share_{first}').mean_text()}, and wins "
            f"{wins_first.text()}"
        )
    return (
        f"no firm clearly leads: {first} ends with "
        f"{claims.spread(variant, f'share_{first}').mean_text()} and {second} with "
        f"{claims.spread(variant, f'share_{second}').mean_text()} on average; {first} wins "
        f"{wins_first.text()}, {second} {wins_second.text()}"
    )


def _change(claims: LessonClaims, first: str, second: str, name: str) -> str:
    metric = f"share_{name}"
    before, after = claims.spread(first, metric).mean, claims.spread(second, metric).mean
    low, high = claims.difference(first, second, metric).mean_ci
    moves = f"from {percent(before)} % to {percent(after)} % on average"
    if low > 0:
        return f"rises {moves} (CI of the rise {_points(low)} to {_points(high)} points)"
    if high < 0:
        return f"falls {moves} (CI of the fall {_points(-high)} to {_points(-low)} points)"
    span = f"{_points(low)} to {_points(high)} points"
    return f"does not change clearly, {moves} (CI of the change {span})"


def _cadence(lesson: Lesson, name: str) -> str:
    model = lesson.model(n_customers=100)
    firm = next(f for f in model.firms if f.name == name)
    return str(firm.strategy.cadence)


def fill(template: str, lesson: Lesson, claims: LessonClaims) -> str:
    """``template`` with every placeholder replaced by its measured text; raises
    :class:`KeyError` for a placeholder that names nothing measured."""

    def one(match: re.Match[str]) -> str:
        kind, args = match.group(1), match.group(2).split(":")[1:]
        if kind == "typical":
            variant, metric = args
            spread = claims.spread(variant, metric)
            return spread.typical_text("%" if metric != "gain_loss" else "ratio")
        if kind == "mean":
            return claims.spread(args[0], f"share_{args[1]}").mean_text()
        if kind == "wins":
            return claims.wins(args[0], args[1]).text()
        if kind == "leader":
            return _leader(claims, args[0])
        if kind == "change":
            return _change(claims, *args)
        if kind == "steps":
            return str(lesson.steps)
        if kind == "seeds":
            return str(len(claims.seeds))
        if kind == "cadence":
            return _cadence(lesson, args[0])
        raise KeyError(f"lesson {lesson.name!r}: unknown placeholder {match.group(0)}")

    return PLACEHOLDER.sub(one, template)


def measured_note(lesson: Lesson, claims: LessonClaims) -> str:
    """How the lesson's numbers were measured, and the seed the page opens on."""
    seeds = claims.seeds
    span = (
        f"seeds {seeds[0]}–{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[-1] + 1))
        else "seeds"
    )
    how = (
        f"Measured on {len(seeds)} runs ({span}): a percentage is the median run, with the "
        "middle 90 % of runs in brackets; one 'on average' is the mean, with its 95 % "
        "confidence interval (CI)."
    )
    return f"{how} The page opens on seed {claims.opening_seed()}, a typical run."


def lesson_texts(lesson: Lesson, claims: LessonClaims) -> dict[str, str]:
    """The lesson's paragraph, notice, try and ask filled in, and how they were measured."""
    return {
        "paragraph": fill(lesson.paragraph, lesson, claims),
        "notice": fill(lesson.notice, lesson, claims),
        "try": fill(lesson.try_this, lesson, claims),
        "ask": fill(lesson.ask, lesson, claims),
        "measured": measured_note(lesson, claims),
    }
