"""Innovation strategies: one small class per strategy, found by name in a registry.

A strategy decides three things for the firm that follows it: *when* it releases
(``cadence``), *how much better* a release claims to be (``quality_step_mean`` and
``quality_step_sd``) and how reliable that claim is (``risk``: the sd of true minus
claimed quality), and *where* in attribute space the release moves (``move`` toward
``target``). A strategy that chooses among others (``Adaptive``) overrides
``choose``. A strategy reads the market only through :class:`sim.market.Market` (the
firms' shares, co-creators' needs, an estimate of needs, a forecast, the random
generator), so adding one means writing a class and decorating it with ``@register``;
neither the model nor the reference implementation changes (docs/CONTRIBUTING.md).

As the Axelrod library's strategies do, every class carries a ``classifier`` that says
what it is, so that the model, the parameter checks and the pages ask the classifier
instead of testing names:

- ``chooses``: the strategies it picks among before each release (empty: it is one);
- ``uses``: the information its releases and choices use, from :data:`INFORMATION`;
- ``stochastic``: whether its releases involve chance beyond the quality draws.

See docs/ODD.md section 7.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from .market import FirmView, Market

__all__ = [
    "INFORMATION",
    "STRATEGIES",
    "TUNABLE",
    "Adaptive",
    "Differentiated",
    "Incremental",
    "Radical",
    "Strategy",
    "chooses_among",
    "make_strategy",
    "register",
    "uses",
]

#: What a strategy can use (the values of ``classifier["uses"]``).
INFORMATION: dict[str, str] = {
    "customer_needs": "an estimate of its customers' current needs (noisy without co-creators)",
    "cocreator_needs": "its co-creators' revealed current needs",
    "forecast": "a forecast of the future need point",
    "market_shares": "its own and its rivals' customer shares after past releases",
}

STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy available to scenarios under ``cls.name``."""
    if cls.name in STRATEGIES:
        raise ValueError(f"strategy {cls.name!r} is already registered")
    unknown = set(cls.classifier.get("uses", ())) - set(INFORMATION)
    if unknown:
        raise ValueError(f"strategy {cls.name!r} uses unknown information {sorted(unknown)}")
    STRATEGIES[cls.name] = cls
    return cls


def chooses_among(name: str) -> tuple[str, ...]:
    """The strategies that strategy ``name`` chooses among (empty for a fixed strategy)."""
    return tuple(STRATEGIES[name].classifier.get("chooses", ()))


def uses(name: str) -> frozenset[str]:
    """Everything strategy ``name`` uses, including what the strategies it chooses use."""
    own = set(STRATEGIES[name].classifier.get("uses", ()))
    for option in chooses_among(name):
        own |= uses(option)
    return frozenset(own)


#: Parameters a scenario may override for a fixed strategy (besides first_release).
TUNABLE = ("cadence", "quality_step_mean", "quality_step_sd", "move", "risk")


@dataclass(frozen=True)
class Strategy:
    """Base class: release parameters plus the two decisions a strategy makes."""

    name: ClassVar[str] = "base"
    classifier: ClassVar[dict[str, Any]] = {"chooses": (), "uses": (), "stochastic": False}
    cadence: int = 1
    quality_step_mean: float = 0.0
    quality_step_sd: float = 0.0
    move: float = 0.0
    risk: float = 0.0

    def choose(self, firm: FirmView, market: Market) -> Strategy:
        """The strategy whose kind of release the firm develops next (itself)."""
        return self

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """Point in attribute space the next release moves toward."""
        raise NotImplementedError

    def quality_step(self, rng: np.random.Generator) -> float:
        """Claimed quality gain of a release over the firm's current true quality."""
        return float(rng.normal(self.quality_step_mean, self.quality_step_sd))

    @classmethod
    def defaults(cls) -> dict[str, float | int]:
        """The class's default release parameters."""
        return {f.name: f.default for f in fields(cls) if f.name in TUNABLE}

    def with_overrides(self, **overrides: float | int) -> Strategy:
        """A copy with some release parameters replaced."""
        return replace(self, **overrides)

    @classmethod
    def create(cls, overrides: dict[str, dict[str, float | int]], exploration: float) -> Strategy:
        """The strategy for one firm: ``overrides`` maps strategy names to replaced
        release parameters; ``exploration`` is for strategies that choose."""
        return cls().with_overrides(**overrides.get(cls.name, {}))


@register
@dataclass(frozen=True)
class Incremental(Strategy):
    """Frequent small, safe steps toward customers' current needs.

    Continuous improvement of an established design (Imai 1986, *Kaizen*; Abernathy &
    Utterback 1978, the specific phase of an industry; Henderson & Clark 1990):
    a release every 4 steps, quality +N(0.03, 0.005), risk sd 0.01, moving 5 % of
    the way toward the firm's estimate of current needs (docs/ODD.md section 7.1).
    """

    name: ClassVar[str] = "incremental"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("customer_needs",),
        "stochastic": False,
    }
    cadence: int = 4
    quality_step_mean: float = 0.03
    quality_step_sd: float = 0.005
    move: float = 0.05
    risk: float = 0.01

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """The firm's estimate of its customers' current needs."""
        return market.estimate_current_needs(firm)


@register
@dataclass(frozen=True)
class Differentiated(Strategy):
    """The middle ground: fewer, larger steps shaped with co-creators.

    Releases built with lead users and co-creating customers (von Hippel 1986;
    Prahalad & Ramaswamy 2004), who reveal needs the firm would otherwise guess:
    a release every 12 steps, quality +N(0.10, 0.02), risk sd 0.04, moving 25 % of
    the way toward its co-creators' needs (its estimate if it has none).
    """

    name: ClassVar[str] = "differentiated"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("cocreator_needs", "customer_needs"),
        "stochastic": False,
    }
    cadence: int = 12
    quality_step_mean: float = 0.10
    quality_step_sd: float = 0.02
    move: float = 0.25
    risk: float = 0.04

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """Mean needs of the firm's co-creators, or its estimate without any."""
        needs = market.cocreator_needs(firm)
        return needs if needs is not None else market.estimate_current_needs(firm)


@register
@dataclass(frozen=True)
class Radical(Strategy):
    """Rare, risky leaps toward where needs are going ("customer futures").

    Leaders anticipate needs customers cannot yet see (Hamel & Prahalad 1994,
    *Competing for the Future*; Leifer et al. 2000, *Radical Innovation*): a release
    every 36 steps, quality +N(0.35, 0.10), risk sd 0.15, moving 50 % of the way
    toward its forecast of future needs (forecast error sd 0.1).
    """

    name: ClassVar[str] = "radical"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("forecast",),
        "stochastic": False,
    }
    cadence: int = 36
    quality_step_mean: float = 0.35
    quality_step_sd: float = 0.10
    move: float = 0.5
    risk: float = 0.15

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """The firm's forecast of the future need point."""
        return market.forecast_future_needs(firm)


@register
@dataclass(frozen=True)
class Adaptive(Strategy):
    """Chooses incremental, differentiated or radical before each release.

    Epsilon-greedy reinforcement (Sutton & Barto 2018, ch. 2) mixed with imitation of
    successful competitors (Nelson & Winter 1982): each kind is scored by the mean
    change in the firm's own customer share over the periods that followed its own
    releases of that kind (0 if never tried) plus how much competitors following that
    kind now hold above an equal share (0 if none follows it). The best score is
    chosen with probability 1 - exploration, otherwise a kind at random; ties are
    broken at random.
    """

    name: ClassVar[str] = "adaptive"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": ("incremental", "differentiated", "radical"),
        "uses": ("market_shares",),
        "stochastic": True,
    }
    options: tuple[Strategy, ...] = field(
        default_factory=lambda: tuple(STRATEGIES[n]() for n in Adaptive.classifier["chooses"])
    )
    exploration: float = 0.1

    @classmethod
    def create(cls, overrides: dict[str, dict[str, float | int]], exploration: float) -> Strategy:
        """Options with their own overrides applied, and the exploration rate."""
        options = tuple(
            STRATEGIES[n].create(overrides, exploration) for n in chooses_among(cls.name)
        )
        return cls(options=options, exploration=exploration)

    def scores(self, firm: FirmView, market: Market) -> np.ndarray:
        """Score of each option (see the class docstring)."""
        shares = market.firm_shares()
        fair = 1.0 / len(market.firms)
        scores = np.zeros(len(self.options))
        for i, option in enumerate(self.options):
            own = firm.share_changes(option.name)
            if own:
                scores[i] += float(np.mean(own))
            rivals = [
                shares[other.index]
                for other in market.firms
                if other is not firm and other.current_kind.name == option.name
            ]
            if rivals:
                scores[i] += float(np.mean(rivals)) - fair
        return scores

    def choose(self, firm: FirmView, market: Market) -> Strategy:
        """Epsilon-greedy choice among the options."""
        rng = market.rng
        if rng.random() < self.exploration:
            return self.options[int(rng.integers(len(self.options)))]
        scores = self.scores(firm, market)
        best = np.flatnonzero(scores == scores.max())
        return self.options[int(best[rng.integers(len(best))])]

    def target(self, firm: FirmView, market: Market) -> np.ndarray:  # pragma: no cover
        raise TypeError("an adaptive firm releases through the strategy it chose")


def make_strategy(
    name: str,
    overrides: dict[str, dict[str, float | int]] | None = None,
    exploration: float = 0.1,
) -> Strategy:
    """Build a registered strategy by name.

    ``overrides`` maps strategy names to replaced release parameters; for a strategy
    that chooses among others, the overrides of each option apply to that option.
    """
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return STRATEGIES[name].create(overrides or {}, exploration)
