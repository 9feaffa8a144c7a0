"""Mesa agents: firms, and customers as views on the model's arrays.

A :class:`Firm` develops its releases (docs/ODD.md section 7.2) through its strategy,
reading the market only through :class:`sim.market.Market`; the release mechanics
(the quality step, claimed against true quality, the move in attribute space, the
schedule) are its methods, shared by the fast model and the idiomatic-Mesa reference.

Customer state lives in NumPy arrays on the model (so a step is vectorized array
work); a :class:`Customer` agent is a thin, read-only window on one row of those
arrays, for inspection in notebooks and the classroom page. They are created only
when asked for (``customer_agents``) and never change results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from .configuration import strategy_overrides
from .economics import Ledger, expected_step
from .market import Market, MarketRecord
from .strategies import Strategy, make_strategy

__all__ = ["Customer", "Firm", "Release", "ReleaseRecord"]


@dataclass(frozen=True)
class ReleaseRecord:
    """One release as the firm remembers it, for adaptive strategy choice."""

    step: int
    kind: str
    release: int
    share_at_release: float


@dataclass(frozen=True)
class Release:
    """A release as a firm develops it: its kind, claimed and true quality, position,
    and the quality step its R&D delivered (claimed minus the previous true quality)."""

    kind: str
    claimed: float
    true: float
    position: np.ndarray
    quality_step: float = 0.0


class Firm(mesa.Agent):
    """A firm with an innovation strategy, a product line and co-creators."""

    model: Market  # a mesa.Model that is a sim.market.Market

    def __init__(
        self,
        model: Any,
        *,
        index: int,
        name: str,
        strategy: Strategy,
        cocreation: float,
        broadcast: float,
        position: np.ndarray,
        quality: float,
        capacity: float = 0.008,
        launch_step: float = 0.1,
        release_cost: float = 0.25,
        initial_trust: float = 0.5,
        lead_users: bool = True,
        forecast_error: float = 0.1,
        discount: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.strategy = strategy
        self.cocreation = cocreation
        self.broadcast = broadcast
        self.position = np.asarray(position, dtype=float)
        self.claimed_quality = quality
        self.true_quality = quality
        self.capacity = capacity
        self.launch_step = launch_step
        self.release_cost = release_cost
        self.initial_trust = initial_trust
        self.lead_users = lead_users
        self.forecast_error = forecast_error
        self.ledger = Ledger(discount)
        self.generation = 0
        self.latest_release = -1
        self.last_release_step = 0  # the start counts as one: R&D runs from step 0
        self.current_kind: Strategy = strategy  # the strategy of its latest release
        self.next_kind: Strategy = strategy  # the strategy of its next release
        self.next_release = 0
        self.history: list[ReleaseRecord] = []

    @classmethod
    def from_spec(
        cls,
        model: Any,
        index: int,
        spec: dict[str, Any],
        params: dict[str, Any],
        strategies: dict[str, dict[str, Any]],
        position: np.ndarray,
    ) -> Firm:
        """A firm from its checked table (``spec``), the market's checked parameters
        (the defaults of what the firm does not set) and strategies' release parameters
        (a firm's own values win)."""
        own = {**strategies.get(spec["strategy"], {}), **strategy_overrides(spec)}
        overrides = {**strategies, spec["strategy"]: own}
        legacy = params["start"] == "legacy"

        def value(key: str, default_key: str | None = None) -> Any:
            return spec.get(key, params[default_key or key])

        return cls(
            model,
            index=index,
            name=spec["name"],
            strategy=make_strategy(spec["strategy"], overrides, params["exploration"]),
            cocreation=value("cocreation"),
            broadcast=value("broadcast"),
            position=np.asarray(spec.get("position", position), dtype=float),
            quality=params["legacy_quality"] if legacy else params["initial_quality"],
            capacity=value("capacity"),
            launch_step=value("launch_step"),
            release_cost=value("release_cost"),
            initial_trust=value("initial_trust"),
            lead_users=bool(spec.get("lead_users", True)),
            forecast_error=value("forecast_error"),
            discount=params["discount"],
        )

    # --------------------------------------------------------------- releases
    def plan_first(self, market: Market, first_release: int | None, legacy: bool) -> None:
        """Schedule the first release: at ``first_release``, else after the cadence of the
        kind chosen (at step 0 in the legacy start)."""
        self.next_kind = self.strategy.choose(self, market)
        default_first = 0 if legacy else self.next_kind.cadence
        self.next_release = default_first if first_release is None else first_release
        self.current_kind = self.next_kind

    def develop(self, market: Market, step: int, release_id: int) -> Release:
        """The next release (docs/ODD.md section 7.2).

        Its kind (the strategy chosen for it) packages the firm's capacity: the quality
        step is drawn from N(e, (cv e)^2), e = capacity x steps since the last release
        (:func:`sim.economics.expected_step`; a first release at step 0 gains exactly
        ``launch_step``); the claim is that step over the current true quality, and the
        true quality misses it with sd risk_ratio x e. The release moves ``move`` of the
        way toward the kind's target, and its cost is booked.
        """
        kind = self.next_kind
        self.current_kind = kind
        share = float(market.firm_shares()[self.index])
        self.history.append(ReleaseRecord(step, kind.name, release_id, share))
        rng = market.rng
        behind = step - self.last_release_step
        expected = expected_step(self.capacity, behind, self.launch_step)
        spread = 0.0 if behind == 0 else kind.step_cv * abs(expected)
        quality_step = float(rng.normal(expected, spread))
        risk = kind.risk_ratio * abs(expected)
        claimed = self.true_quality + quality_step
        true = claimed + float(rng.normal(0.0, risk)) if risk > 0 else claimed
        target = kind.target(self, market)
        position = np.clip(self.position + kind.move * (target - self.position), 0.0, 1.0)
        self.ledger.book_release(step, self.release_cost)
        self.last_release_step = step
        return Release(kind.name, claimed, true, position, quality_step)

    def hold(self, release_id: int, release: Release, generation: int) -> None:
        """Make ``release`` the firm's current product."""
        self.latest_release = release_id
        self.generation = generation
        self.claimed_quality, self.true_quality = release.claimed, release.true
        self.position = np.asarray(release.position, dtype=float)

    def plan_next(self, market: Market, step: int) -> None:
        """Choose the kind of the next release and schedule it one cadence ahead."""
        self.next_kind = self.strategy.choose(self, market)
        self.next_release = step + self.next_kind.cadence

    def share_changes(self, kind: str) -> list[float]:
        """Change in customer share over each completed period after a release of ``kind``."""
        shares = [r.share_at_release for r in self.history] + [
            float(self.model.firm_shares()[self.index])
        ]
        return [
            shares[i + 1] - shares[i]
            for i, record in enumerate(self.history)
            if record.kind == kind
        ]

    def __repr__(self) -> str:
        return (
            f"Firm({self.name!r}, strategy={self.strategy.name!r}, generation={self.generation}, "
            f"claimed={self.claimed_quality:.3f}, true={self.true_quality:.3f})"
        )


class Customer(mesa.Agent):
    """Read-only view of customer ``index`` in the model's arrays."""

    model: MarketRecord  # a mesa.Model that is a sim.market.MarketRecord

    def __init__(self, model: Any, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def loss_aversion(self) -> float:
        """lambda_i."""
        return float(self.model.loss_aversion[self.index])

    @property
    def needs(self) -> np.ndarray:
        """theta_i, a point in attribute space."""
        return self.model.needs[self.index].copy()

    @property
    def trust(self) -> dict[str, float]:
        """Trust in each firm, by firm name."""
        return {f.name: float(self.model.trust[self.index, f.index]) for f in self.model.firms}

    @property
    def product(self) -> int:
        """Id of the release the customer uses (0 is the legacy product)."""
        return int(self.model.product[self.index])

    @property
    def firm(self) -> Firm | None:
        """Firm of the current product, or None on the legacy product."""
        k = int(self.model.firm_of[self.index])
        return None if k < 0 else self.model.firms[k]

    @property
    def quality(self) -> float:
        """True quality of the current product (the reference point)."""
        return float(self.model.release_true[self.product])

    @property
    def cocreates_with(self) -> Firm | None:
        """The firm the customer co-creates with, if any."""
        k = int(self.model.cocreation_firm[self.index])
        return None if k < 0 else self.model.firms[k]

    @property
    def aware_of(self) -> list[str]:
        """Names of the firms whose latest release the customer knows."""
        return [f.name for f in self.model.firms if self.model.aware[self.index, f.index]]

    def __repr__(self) -> str:
        firm = self.firm.name if self.firm else "legacy"
        return f"Customer({self.index}, firm={firm!r}, loss_aversion={self.loss_aversion:.2f})"
