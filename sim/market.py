"""The written contract between strategies and the market they innovate in.

A strategy (:mod:`sim.strategies`) decides when a firm releases, how much better the
release claims to be and where it moves; to do so it may read the market only through
:class:`Market`, never through a model class. Both the fast model
(:class:`sim.model.InnovationModel`) and the idiomatic Mesa reference
(:class:`sim.reference.ReferenceModel`) implement it, so a new strategy that uses only
what this protocol offers runs unchanged in both.

:class:`FirmView` is what a strategy may read of a firm (its own, or a rival);
:class:`MarketRecord` is what read-only views and the run's analysis read of a market
after (or during) a run: its state arrays and release table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

__all__ = ["FirmView", "Kind", "Market", "MarketRecord"]


class Kind(Protocol):
    """A kind of release: the strategy it follows, known by name."""

    name: str


class FirmView(Protocol):
    """What a strategy may read of a firm."""

    index: int
    name: str
    current_kind: Kind  # the strategy of its latest release

    def share_changes(self, kind: str) -> list[float]:
        """Change in the firm's customer share over each completed period after one of
        its releases of ``kind``."""
        ...


class Market(Protocol):
    """What a strategy may ask of the market (docs/ODD.md section 7.2).

    ``rng`` is the market's random generator: a strategy draws from it and from nothing
    else, so runs stay reproducible. Needs are points in the attribute space.
    """

    @property
    def rng(self) -> np.random.Generator:
        """The market's random generator."""
        ...

    @property
    def firms(self) -> Sequence[Any]:
        """Every firm, as :class:`FirmView` (in the order of the scenario)."""
        ...

    def firm_shares(self) -> np.ndarray:
        """Share of all customers with each firm, in firm order."""
        ...

    def cocreator_needs(self, firm: FirmView, ahead: int = 0) -> np.ndarray | None:
        """Mean needs of the firm's co-creators (they reveal them), or None without any;
        where the firm's co-creators are lead users, where those needs will be ``ahead``
        steps from now (in a stable market, where they are)."""
        ...

    def estimate_current_needs(self, firm: FirmView, ahead: int = 0) -> np.ndarray:
        """The firm's estimate of its customers' needs: revealed by co-creators (``ahead``
        steps ahead where they are lead users), or guessed with noise."""
        ...

    def forecast_future_needs(self, firm: FirmView) -> np.ndarray:
        """The firm's forecast of the future need point, with its forecast error."""
        ...


class MarketRecord(Protocol):
    """A market's state and release table, as read-only views and the analysis read it.

    Arrays index customers (rows) and firms (columns); releases are numbered from 0,
    the legacy product.
    """

    n_customers: int
    n_firms: int
    steps: int
    params: dict[str, Any]
    firms: Sequence[Any]
    loss_aversion: np.ndarray
    needs: np.ndarray
    trust: np.ndarray
    aware: np.ndarray
    product: np.ndarray
    firm_of: np.ndarray
    cocreation_firm: np.ndarray
    release_firm: np.ndarray
    release_generation: np.ndarray
    release_step: np.ndarray
    release_kind: list[str]
    release_claimed: np.ndarray
    release_true: np.ndarray
    release_quality_step: np.ndarray

    def firm_shares(self) -> np.ndarray: ...

    def adoption_events(self) -> np.ndarray: ...
