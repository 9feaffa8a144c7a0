"""Innovation economics (MODEL.md, "Innovation economics"): what a release is worth
developing, and a firm's accounts.

A firm's R&D buys an expected true-quality gain of ``capacity`` per step; a strategy
packages it into releases, so a release after ``c`` steps has an expected quality step
of ``capacity * c`` (:func:`expected_step`), whatever the cadence. Each customer using
a firm's product yields margin 1 per step (a firm's revenue in a step is its share),
each release costs a fixed amount, and a :class:`Ledger` keeps the sums, discounted by
``discount`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Ledger", "expected_step"]


def expected_step(capacity: float, steps_behind: int, launch_step: float) -> float:
    """Expected quality step of a release ``steps_behind`` steps after the firm's last
    one (or the start): ``capacity * steps_behind``; a release with no steps behind it
    (a first release at step 0) gains ``launch_step``, which the scenario sets."""
    return launch_step if steps_behind == 0 else capacity * steps_behind


@dataclass
class Ledger:
    """A firm's accounts over a run.

    ``cum_share`` sums its share over the steps run (undiscounted), ``revenue`` the same
    discounted by ``discount`` per step, ``releases`` counts its releases and
    ``release_costs`` sums their discounted costs; ``profit`` is revenue minus costs:
    pi = sum_t delta^t share(t) - sum_releases delta^t F.
    """

    discount: float = 1.0
    cum_share: float = 0.0
    revenue: float = 0.0
    releases: int = 0
    release_costs: float = 0.0

    @property
    def profit(self) -> float:
        return self.revenue - self.release_costs

    def book_step(self, step: int, share: float) -> None:
        """The margin of step ``step`` (t >= 1): the firm's share of the market."""
        self.cum_share += share
        self.revenue += self.discount**step * share

    def book_release(self, step: int, cost: float) -> None:
        """A release at step ``step`` that cost ``cost``."""
        self.releases += 1
        self.release_costs += self.discount**step * cost
