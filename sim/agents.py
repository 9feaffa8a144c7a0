"""Mesa agents: firms, and customers as views on the model's arrays.

Customer state lives in NumPy arrays on the model (so a step is vectorized array
work); a :class:`Customer` agent is a thin, read-only window on one row of those
arrays, for inspection in notebooks and the classroom page. They are created only
when asked for (``customer_agents``) and never change results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .model import InnovationModel
    from .strategies import Strategy

__all__ = ["Customer", "Firm", "ReleaseRecord"]


@dataclass(frozen=True)
class ReleaseRecord:
    """One release as the firm remembers it, for adaptive strategy choice."""

    step: int
    kind: str
    release: int
    share_at_release: float


class Firm(mesa.Agent):
    """A firm with an innovation strategy, a product line and co-creators."""

    model: InnovationModel

    def __init__(
        self,
        model: InnovationModel,
        *,
        index: int,
        name: str,
        strategy: Strategy,
        cocreation: float,
        broadcast: float,
        position: np.ndarray,
        quality: float,
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
        self.generation = 0
        self.latest_release = -1
        self.current_kind: Strategy = strategy  # the strategy of its latest release
        self.next_kind: Strategy = strategy  # the strategy of its next release
        self.next_release = 0
        self.history: list[ReleaseRecord] = []

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

    model: InnovationModel

    def __init__(self, model: InnovationModel, index: int) -> None:
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
