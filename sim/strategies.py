"""Innovation strategies: one small class per strategy, found by name in a registry.

A strategy does not create quality, it *packages* the firm's innovation capacity
(MODEL.md, innovation economics): it decides *when* the firm releases (``cadence``),
how the quality the firm's R&D bought since its last release is delivered (the quality
step is capacity x steps, spread with coefficient of variation ``step_cv``; the claim
misses the truth by sd ``risk_ratio`` x the expected step), and *where* in attribute
space the release moves (``move`` of the way toward ``target``). So every strategy
grows quality equally fast on average, whatever its cadence; they differ in risk,
novelty and what they aim at. A strategy that chooses among others (``Adaptive``) overrides
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
TUNABLE = ("cadence", "step_cv", "risk_ratio", "move")


@dataclass(frozen=True)
class Strategy:
    """Base class: release parameters plus the two decisions a strategy makes."""

    name: ClassVar[str] = "base"
    classifier: ClassVar[dict[str, Any]] = {"chooses": (), "uses": (), "stochastic": False}
    cadence: int = 1
    step_cv: float = 0.0
    risk_ratio: float = 0.0
    move: float = 0.0

    def choose(self, firm: FirmView, market: Market) -> Strategy:
        """The strategy whose kind of release the firm develops next (itself)."""
        return self

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """Point in attribute space the next release moves toward."""
        raise NotImplementedError

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
    a release every 4 steps, its quality step spread with coefficient of variation 0.17
    and claimed with risk 0.33 of the step (at capacity 0.008: +N(0.032, 0.0054), risk
    sd 0.011), moving 5 % of the way toward the firm's estimate of its customers' needs
    (docs/ODD.md section 7.1).
    """

    name: ClassVar[str] = "incremental"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("customer_needs",),
        "stochastic": False,
    }
    cadence: int = 4
    step_cv: float = 0.17
    risk_ratio: float = 0.33
    move: float = 0.05

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """The firm's estimate of its customers' needs (one cadence ahead, where its
        co-creators are lead users)."""
        return market.estimate_current_needs(firm, ahead=self.cadence)


@register
@dataclass(frozen=True)
class Differentiated(Strategy):
    """The middle ground: fewer, larger steps shaped with co-creators.

    Releases built with lead users and co-creating customers (von Hippel 1986;
    Prahalad & Ramaswamy 2004), who reveal needs the firm would otherwise guess, and
    where they are going: a release every 12 steps, coefficient of variation 0.2, risk
    0.4 of the step (at capacity 0.008: +N(0.096, 0.019), risk sd 0.038), moving 25 % of
    the way toward its co-creators' needs one cadence ahead (its estimate without any).
    """

    name: ClassVar[str] = "differentiated"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("cocreator_needs", "customer_needs"),
        "stochastic": False,
    }
    cadence: int = 12
    step_cv: float = 0.2
    risk_ratio: float = 0.4
    move: float = 0.25

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        """Mean needs of the firm's co-creators one cadence ahead, or its estimate
        without any."""
        needs = market.cocreator_needs(firm, ahead=self.cadence)
        if needs is not None:
            return needs
        return market.estimate_current_needs(firm, ahead=self.cadence)


@register
@dataclass(frozen=True)
class Radical(Strategy):
    """Rare, risky leaps toward where needs are going ("customer futures").

    Leaders anticipate needs customers cannot yet see (Hamel & Prahalad 1994,
    *Competing for the Future*; Leifer et al. 2000, *Radical Innovation*): a release
    every 36 steps, coefficient of variation 0.3, risk 0.43 of the step (at capacity
    0.008: +N(0.288, 0.086), risk sd 0.124), moving 50 % of the way toward its forecast
    of the future need point (forecast error sd 0.1 by default, the firm's own).
    """

    name: ClassVar[str] = "radical"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("forecast",),
        "stochastic": False,
    }
    cadence: int = 36
    step_cv: float = 0.3
    risk_ratio: float = 0.43
    move: float = 0.5

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
