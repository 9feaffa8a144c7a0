"""The innovation-adoption model: loss-averse, trusting customers and innovating firms.

Customer state is held in NumPy arrays and updated synchronously: every customer
decides on the state at the start of the step, and all changes apply together at its
end, so a step costs O(customers + links). The per-customer loops (neighbour shares,
awareness, the terms of each offer, tallies) run compiled in :mod:`sim.kernels`; the
psychology is :mod:`sim.psychology`'s, applied to all offers at once. See docs/ODD.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import analysis, kernels
from .agents import Customer, Firm, Release
from .configuration import (
    check_firms,
    check_model_parameters,
    check_strategies,
    default_firms,
)
from .network import build_network
from .observables import book_margins, firm_observables, observe, release_kinds
from .parameters import MODEL_PARAMETERS
from .psychology import adoption_probability, grow_trust, prospect_value, update_trust
from .spec import ParameterError, integer

__all__ = ["LEGACY", "InnovationModel"]

#: Release id of the legacy product (start = "legacy").
LEGACY = 0
#: Customers above which Customer agents are not created unless asked for.
AUTO_AGENT_LIMIT = 10_000


def _d(name: str) -> Any:
    return MODEL_PARAMETERS[name].default


class _ObservablesCollector(mesa.DataCollector):
    """Mesa's DataCollector, filled from the observables the model computes once a step.

    Its reporters (one per observable) stay, so ``get_model_vars_dataframe`` and
    ``mesa.batch_run`` work as usual; ``collect`` appends the model's numbers directly
    instead of calling each reporter and deep-copying its (immutable) result.
    """

    def collect(self, model: InnovationModel) -> None:
        plain = not (self.agent_reporters or self.agenttype_reporters)
        if not plain or model._observed.keys() != self.model_vars.keys():
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        for key, value in model._observed.items():
            self.model_vars[key].append(value)


@dataclass
class _StepBuffers:
    """Arrays a step writes into, allocated once per model (reused memory stays in
    cache). Offers are (customer, firm) pairs, at most N x K of them; the rest hold one
    entry per customer at most."""

    offer_slot: np.ndarray  # int32, as offer_firm: less memory traffic per offer
    offer_firm: np.ndarray
    offer_terms: np.ndarray  # (gains, losses, trust, loss aversion) x offers
    best_scratch: np.ndarray  # kernels.best_offers' (deciding customer x firm) table
    deciding: np.ndarray  # each deciding customer, and its best offer: firm, value
    best_firm: np.ndarray
    best_value: np.ndarray
    adopters: np.ndarray  # int64: they index NumPy arrays
    adopted_firm: np.ndarray
    redraw: np.ndarray
    cocreator_cells: np.ndarray  # co-creators' cells of the flattened trust array

    @classmethod
    def allocate(cls, n_customers: int, n_firms: int) -> _StepBuffers:
        n, offers = n_customers, n_customers * n_firms
        return cls(
            np.empty(offers, np.int32), np.empty(offers, np.int32), np.empty((4, offers)),
            np.empty(offers), np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n),
            np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, bool),
            np.empty(n, np.int64),
        )  # fmt: skip


class InnovationModel(mesa.Model):
    """Customers with loss aversion and brand trust choosing among firms' innovations.

    Every keyword is described, with its range, in :data:`sim.parameters.MODEL_PARAMETERS`
    (and docs/ODD.md). ``firms`` is a list of strategy names or dicts with the keys of
    :data:`sim.parameters.FIRM_PARAMETERS` plus ``name``; by default one firm per
    strategy. ``strategies`` sets release parameters of a strategy for every firm that
    follows it or chooses it, e.g. ``{"radical": {"cadence": 24}}`` (a firm's own value
    wins). ``customer_agents`` creates inspectable :class:`~sim.agents.Customer`
    agents (default: only up to 10,000 customers); it never changes results.
    :meth:`from_checked` builds a model from parameters checked once already (the
    scenario and sweep layers), without checking them again.
    """

    def __init__(
        self,
        *,
        n_customers: int = _d("n_customers"),
        firms: Any = None,
        start: str = _d("start"),
        n_dims: int = _d("n_dims"),
        market_dynamism: float = _d("market_dynamism"),
        future_need: float = _d("future_need"),
        forecast_error: float = _d("forecast_error"),
        estimate_noise: float = _d("estimate_noise"),
        initial_quality: float = _d("initial_quality"),
        legacy_quality: float = _d("legacy_quality"),
        capacity: float = _d("capacity"),
        launch_step: float = _d("launch_step"),
        release_cost: float = _d("release_cost"),
        discount: float = _d("discount"),
        loss_aversion_mean: float = _d("loss_aversion_mean"),
        loss_aversion_sd: float = _d("loss_aversion_sd"),
        alpha: float = _d("alpha"),
        beta: float = _d("beta"),
        initial_trust: float = _d("initial_trust"),
        fit_weight: float = _d("fit_weight"),
        switching_cost: float = _d("switching_cost"),
        learning_cost: float = _d("learning_cost"),
        cocreation_discount: float = _d("cocreation_discount"),
        social_proof: float = _d("social_proof"),
        temperature: float = _d("temperature"),
        trust_rate: float = _d("trust_rate"),
        cocreation_trust_growth: float = _d("cocreation_trust_growth"),
        imitation: float = _d("imitation"),
        broadcast: float = _d("broadcast"),
        cocreation: float = _d("cocreation"),
        exploration: float = _d("exploration"),
        network: str = _d("network"),
        mean_degree: int = _d("mean_degree"),
        rewiring: float = _d("rewiring"),
        strategies: Any = None,
        customer_agents: bool | None = None,
        rng: Any = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in MODEL_PARAMETERS}
        params = check_model_parameters(given)
        specs = check_firms(default_firms() if firms is None else firms, params["n_dims"])
        self._build(params, specs, check_strategies(strategies), customer_agents, rng)

    @classmethod
    def from_checked(
        cls,
        params: dict[str, Any],
        firms: list[dict[str, Any]],
        strategies: dict[str, dict[str, Any]] | None = None,
        *,
        customer_agents: bool | None = None,
        rng: Any = None,
    ) -> InnovationModel:
        """A model from every parameter as :func:`~sim.configuration.check_model_parameters`
        returned it, firms as :func:`~sim.configuration.check_firms` did and strategies'
        parameters as :func:`~sim.configuration.check_strategies` did; not checked again."""
        if params.keys() != MODEL_PARAMETERS.keys():
            raise ValueError("from_checked needs every model parameter, as checked")
        model = cls.__new__(cls)
        model._build(dict(params), list(firms), dict(strategies or {}), customer_agents, rng)
        return model

    def _build(
        self,
        params: dict[str, Any],
        firms: list[dict[str, Any]],
        strategies: dict[str, dict[str, Any]],
        customer_agents: bool | None,
        rng: Any,
    ) -> None:
        """Set up the market from checked parameters (docs/ODD.md section 5)."""
        super().__init__(rng=rng)
        kernels.load()  # once per process: compiled code from the disk cache
        self.params: dict[str, Any] = params
        p = self.params
        self.firm_specs = firms
        self.strategy_params = strategies
        n, d = p["n_customers"], p["n_dims"]
        self.n_customers, self.n_dims = n, d
        rng = self.rng

        # --- customers --------------------------------------------------------
        sigma = p["loss_aversion_sd"]
        z = rng.standard_normal(n)
        self.loss_aversion = p["loss_aversion_mean"] * np.exp(sigma * z - sigma**2 / 2)
        self.needs = rng.random((n, d))
        self.future = np.full(d, p["future_need"])

        # --- firms ------------------------------------------------------------
        self.firms: list[Firm] = []
        positions = self._spread_positions(len(self.firm_specs), d)
        for k, spec in enumerate(self.firm_specs):
            self.firms.append(Firm.from_spec(self, k, spec, p, strategies, positions[k]))
        n_firms = len(self.firms)
        self.n_firms = n_firms
        self.cocreation_rates = np.array([f.cocreation for f in self.firms], dtype=float)
        self.broadcast_rates = np.array([f.broadcast for f in self.firms], dtype=float)

        # --- releases (products) table; id 0 is the legacy product ------------
        self.release_firm = np.array([-1], dtype=np.int64)
        self.release_claimed = np.array([p["legacy_quality"]])
        self.release_true = np.array([p["legacy_quality"]])
        self.release_position = np.full((1, d), 0.5)
        self.release_step = np.array([0], dtype=np.int64)
        self.release_generation = np.array([0], dtype=np.int64)
        self.release_quality_step = np.array([0.0])
        self.release_kind: list[str] = ["legacy"]
        self.latest = np.full(n_firms, -1, dtype=np.int64)

        # --- customers' products, trust, awareness, co-creation ----------------
        self.trust = np.full((n, n_firms), p["initial_trust"])
        for firm in self.firms:  # a brand's own initial trust (MODEL.md economics, point 3)
            if firm.initial_trust != p["initial_trust"]:
                self.trust[:, firm.index] = firm.initial_trust
        self.aware = np.zeros((n, n_firms), dtype=bool)
        if p["start"] == "spread":
            for firm in self.firms:
                quality = firm.true_quality
                self._add_release(
                    firm, Release(firm.current_kind.name, quality, quality, firm.position), 0
                )
            self.firm_of = rng.permutation(np.arange(n) % n_firms).astype(np.int64)
            self.product = self.latest[self.firm_of]
            draws = rng.random(n)
            self.cocreation_firm = np.where(
                draws < self.cocreation_rates[self.firm_of], self.firm_of, -1
            )
        else:
            self.firm_of = np.full(n, -1, dtype=np.int64)
            self.product = np.full(n, LEGACY, dtype=np.int64)
            # prospective co-creators: firm k recruits a share c_k of the market
            bounds = np.cumsum(self.cocreation_rates)
            if bounds[-1] > 1:
                bounds = bounds / bounds[-1]
            picked = np.searchsorted(bounds, rng.random(n), side="right")
            self.cocreation_firm = np.where(picked < n_firms, picked, -1)
        for k in range(n_firms):
            self.aware[:, k] = self.firm_of == k

        # --- network ----------------------------------------------------------
        self.adjacency = build_network(p["network"], n, p["mean_degree"], p["rewiring"], rng)
        # the kernels read neighbours from the CSR arrays; none for complete mixing
        self._indptr = np.zeros(0, dtype=np.int64)
        self._indices = np.zeros(0, dtype=np.int32)
        self.inverse_degree = np.zeros(0)
        if self.adjacency is not None:
            if not np.all(self.adjacency.data == 1):
                raise ValueError("the adjacency matrix must be unweighted (all entries 1)")
            self._indptr = self.adjacency.indptr.astype(np.int64)
            self._indices = self.adjacency.indices.astype(np.int32)
            degree = np.asarray(self.adjacency.sum(axis=1)).ravel()
            self.inverse_degree = np.divide(
                1.0, degree, out=np.zeros_like(degree, dtype=np.float64), where=degree > 0
            )

        # --- caches -------------------------------------------------------------
        # neighbours on each firm's latest release, kept up to date (none: complete mixing)
        self._neighbour_counts = np.zeros((0, n_firms), dtype=np.int32)
        if self.adjacency is not None:
            self._neighbour_counts = kernels.neighbour_counts(
                self._indptr, self._indices, self.product, self.latest
            )
        self._distance_to_current = self._distances(self.needs, self.release_position[self.product])
        self._distance_to_latest = np.zeros((n_firms, n))  # firm-major: rows are contiguous
        self._update_latest_distances(range(n_firms))
        self.new_adoptions = 0
        self._adoption_log: list[tuple[int, int, int]] = []
        self._observed: dict[str, float] = {}
        self._table = np.zeros((n_firms, 0, 4))  # per-release offer terms, see _offer_table
        self._buffers: _StepBuffers | None = None  # allocated by the first step

        # --- release schedule (a release at step 0 happens now) -----------------
        for firm, spec in zip(self.firms, self.firm_specs, strict=True):
            firm.plan_first(self, spec.get("first_release"), p["start"] == "legacy")
        self._release_due(0)

        # --- agents for inspection --------------------------------------------
        if customer_agents is None:
            customer_agents = n <= AUTO_AGENT_LIMIT
        if customer_agents:
            for i in range(n):
                Customer(self, i)

        # observable names, built once
        self._names = [firm_observables(f.name) for f in self.firms]
        self._kinds = release_kinds(self.firm_specs)
        self._observe()
        self.datacollector = _ObservablesCollector(model_reporters=self._reporters())
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _spread_positions(n_firms: int, n_dims: int) -> np.ndarray:
        """Firms' starting positions: evenly on a circle of radius 0.25 around the centre."""
        positions = np.full((n_firms, n_dims), 0.5)
        angles = 2 * np.pi * np.arange(n_firms) / n_firms
        positions[:, 0] += 0.25 * np.cos(angles)
        if n_dims > 1:
            positions[:, 1] += 0.25 * np.sin(angles)
        return positions

    @staticmethod
    def _distances(points: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Row-wise Euclidean distance."""
        if points.shape[1] <= 2 and len(others) == 1:  # compiled, and bit-identical to:
            return kernels.distances_to(points, others[0])
        diff = points - others
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))

    def _update_latest_distances(self, firm_indices: Any) -> None:
        for k in firm_indices:
            r = self.latest[k]
            if r >= 0:
                self._distance_to_latest[k] = self._distances(
                    self.needs, self.release_position[r][None, :]
                )

    def _add_release(self, firm: Firm, release: Release, generation: int) -> int:
        """Append a release to the table and make it the firm's latest."""
        release_id = len(self.release_firm)
        self.release_firm = np.append(self.release_firm, firm.index)
        self.release_claimed = np.append(self.release_claimed, release.claimed)
        self.release_true = np.append(self.release_true, release.true)
        self.release_position = np.vstack([self.release_position, release.position])
        self.release_step = np.append(self.release_step, self.steps)
        self.release_generation = np.append(self.release_generation, generation)
        self.release_quality_step = np.append(self.release_quality_step, release.quality_step)
        self.release_kind.append(release.kind)
        firm.hold(release_id, release, generation)
        self.latest[firm.index] = release_id
        return release_id

    def _release(self, firm: Firm) -> None:
        """The firm launches its next release (docs/ODD.md section 7.2)."""
        release = firm.develop(self, self.steps, len(self.release_firm))
        self._add_release(firm, release, firm.generation + 1)
        k = firm.index
        self._neighbour_counts[:, k] = 0  # nobody uses the new release yet
        self.aware[:, k] = (self.firm_of == k) | (self.cocreation_firm == k)
        self._update_latest_distances([k])
        firm.plan_next(self, self.steps)

    def _release_due(self, step: int) -> None:
        for firm in self.firms:
            if firm.next_release == step:
                self._release(firm)

    # --------------------------------------------------------- market knowledge
    def firm_shares(self) -> np.ndarray:
        """Share of customers with each firm (legacy excluded)."""
        counts = np.bincount(self.firm_of + 1, minlength=self.n_firms + 1)
        return counts[1:] / self.n_customers

    def _mean_needs(self, labels: np.ndarray, label: int) -> np.ndarray | None:
        """Mean current needs of the customers whose ``labels`` equal ``label``, or None."""
        if self.n_dims >= 2:  # compiled, and bit-identical to the NumPy below
            mean, count = kernels.group_mean(self.needs, labels, label)
            return mean if count else None
        members = labels == label  # one column: NumPy sums it pairwise
        return self.needs[members].mean(axis=0) if members.any() else None

    def cocreator_needs(self, firm: Firm, ahead: int = 0) -> np.ndarray | None:
        """Mean needs of the firm's co-creators (they reveal them), or None.

        Where they are lead users (``firm.lead_users``), they also reveal where their
        needs are going: each need ``ahead`` steps on,
        theta + (1 - (1 - rho)^ahead) (future - theta), whose mean is the same
        projection of their mean (MODEL.md economics, point 4). At rho = 0 it is today's.
        """
        needs = self._mean_needs(self.cocreation_firm, firm.index)
        rho = self.params["market_dynamism"]
        if needs is None or not firm.lead_users or ahead <= 0 or rho <= 0:
            return needs
        return needs + (1.0 - (1.0 - rho) ** ahead) * (self.future - needs)

    def estimate_current_needs(self, firm: Firm, ahead: int = 0) -> np.ndarray:
        """The firm's estimate of its customers' needs.

        Co-creators reveal their needs (``ahead`` steps on where they are lead users);
        without co-creators the firm guesses the mean current needs of its customers
        (of the whole market if it has none) with noise.
        """
        revealed = self.cocreator_needs(firm, ahead)
        if revealed is not None:
            return revealed
        pooled = self._mean_needs(self.firm_of, firm.index)
        if pooled is None:
            pooled = self.needs.mean(axis=0)
        noise = self.rng.normal(0.0, self.params["estimate_noise"], self.n_dims)
        return pooled + noise

    def forecast_future_needs(self, firm: Firm) -> np.ndarray:
        """The firm's forecast of the future need point, with its error sd
        (``firm.forecast_error``: its own, or the market's ``forecast_error``)."""
        return self.future + self.rng.normal(0.0, firm.forecast_error, self.n_dims)

    # -------------------------------------------------------------------- step
    def _offer_table(self) -> np.ndarray:
        """table[k, c]: the terms of firm k's latest release that depend only on the
        customer's current release c (see :func:`sim.kernels.decide`), rebuilt when a
        release is added."""
        n_releases = len(self.release_firm)
        if self._table.shape[1] == n_releases:
            return self._table
        p = self.params
        table = np.zeros((self.n_firms, n_releases, 4))
        learning = np.array([1.0, 1.0 - p["cocreation_discount"]]) * p["learning_cost"]
        for k in np.flatnonzero(self.latest >= 0):
            r = self.latest[k]
            moved = self._distances(self.release_position, self.release_position[r][None, :])
            table[k, :, kernels.QUALITY] = self.release_claimed[r] - self.release_true
            table[k, :, kernels.SWITCHING] = p["switching_cost"] * (self.release_firm != k)
            table[k, :, kernels.LEARNING] = learning[0] * moved
            table[k, :, kernels.COCREATOR_LEARNING] = learning[1] * moved
        self._table = table
        return table

    def _step_buffers(self) -> _StepBuffers:
        if self._buffers is None:
            self._buffers = _StepBuffers.allocate(self.n_customers, self.n_firms)
        return self._buffers

    def _neighbour_share(self) -> np.ndarray:
        """f_ik: share of i's neighbours using firm k's latest release (N x K)."""
        if self.adjacency is None:  # complete mixing: the whole market
            using = self.product[:, None] == self.latest[None, :]
            return np.broadcast_to(using.mean(axis=0), using.shape)
        return self._neighbour_counts * self.inverse_degree[:, None]

    def step(self) -> None:
        """One synchronous step of the process in docs/ODD.md section 3."""
        p = self.params
        rng = self.rng
        n_firms = self.n_firms

        # 1. needs drift toward the future need point
        if p["market_dynamism"] > 0:
            self.needs += p["market_dynamism"] * (self.future - self.needs)
            self._distance_to_current = self._distances(
                self.needs, self.release_position[self.product]
            )
            self._update_latest_distances(range(n_firms))

        # 2. releases
        self._release_due(self.steps)

        # 3. awareness spreads (Bass), on neighbours' products at the start of the step;
        # 4. decision: the gains and losses of every release a customer knows and is not on
        market = self._neighbour_share()[0].copy() if self.adjacency is None else np.zeros(0)
        # one uniform per (customer, released firm) pair not yet aware, in that order, and
        # one more that decide may read (branch-free) but never uses
        released = self.latest >= 0
        knows = self.aware if released.all() else self.aware[:, released]
        draws = rng.random(knows.size - np.count_nonzero(knows) + 1)
        buffers = self._step_buffers()
        slot, firm, terms = buffers.offer_slot, buffers.offer_firm, buffers.offer_terms
        deciding, best, best_value = buffers.deciding, buffers.best_firm, buffers.best_value
        m, d = kernels.decide(
            self._neighbour_counts,
            self.inverse_degree,
            market,
            self.broadcast_rates,
            p["imitation"],
            draws,
            self.aware,
            self.product,
            self.latest,
            self._offer_table(),
            p["fit_weight"],
            p["social_proof"],
            self._distance_to_current,
            self._distance_to_latest,
            self.cocreation_firm,
            self.trust,
            self.loss_aversion,
            deciding,
            slot,
            firm,
            terms,
        )
        gains, losses, trust, loss_aversion = terms[:, :m]
        value = prospect_value(gains, losses, trust, loss_aversion, p["alpha"], p["beta"])
        # each customer's best offer (ties: lowest firm index), adopted with the logistic chance
        kernels.best_offers(
            slot[:m], firm[:m], value, d, n_firms, buffers.best_scratch, best, best_value
        )
        chance = adoption_probability(best_value[:d], p["temperature"])

        # 5.-6. apply together: experience, trust, co-creation
        self._adopt(deciding[:d], best[:d], chance, rng.random(d))
        cells = buffers.cocreator_cells
        cells = cells[: kernels.cocreator_cells(self.cocreation_firm, n_firms, cells)]
        flat_trust = np.reshape(self.trust, -1, copy=False)  # a view (raises if it cannot be)
        flat_trust[cells] = grow_trust(flat_trust[cells], p["cocreation_trust_growth"])
        self._observe()
        self.datacollector.collect(self)

    def offer_terms(self, firm: int | str) -> pd.DataFrame:
        """What firm ``firm``'s latest release offers every customer, as the model weighs it.

        Columns: ``gain`` and ``loss`` (the magnitudes G and L of docs/ODD.md section 7.4, with
        social proof at the current neighbour shares), ``trust``, ``loss_aversion`` and
        ``value`` V. Customers already on the release have NaN. For teaching and checks;
        the step itself uses the same code.
        """
        k = self._firm_index(firm)
        release = int(self.latest[k])
        n = self.n_customers
        frame = pd.DataFrame(
            {
                "gain": np.nan,
                "loss": np.nan,
                "trust": self.trust[:, k],
                "loss_aversion": self.loss_aversion,
                "value": np.nan,
            },
            index=pd.RangeIndex(n, name="customer"),
        )
        if release < 0:
            return frame
        p = self.params
        offers = kernels.firm_offers(
            k,
            np.ascontiguousarray(self._neighbour_share()),
            self.product,
            self.latest,
            self._offer_table(),
            p["fit_weight"],
            p["social_proof"],
            self._distance_to_current,
            self._distance_to_latest,
            self.cocreation_firm,
        )
        idx = np.flatnonzero(self.product != release)
        gains, losses = offers[idx, 0], offers[idx, 1]
        frame.loc[idx, "gain"] = gains
        frame.loc[idx, "loss"] = losses
        frame.loc[idx, "value"] = prospect_value(
            gains, losses, self.trust[idx, k], self.loss_aversion[idx], p["alpha"], p["beta"]
        )
        return frame

    def _firm_index(self, firm: int | str) -> int:
        names = [f.name for f in self.firms]
        if isinstance(firm, str):
            if firm not in names:
                raise KeyError(f"no firm {firm!r}; firms: {', '.join(names)}")
            return names.index(firm)
        if not 0 <= firm < self.n_firms:
            raise IndexError(f"firm index {firm} out of range 0..{self.n_firms - 1}")
        return int(firm)

    def _adopt(
        self, deciding: np.ndarray, best: np.ndarray, chance: np.ndarray, uniforms: np.ndarray
    ) -> None:
        """Deciding customers adopt their best offer when ``uniforms < chance``: they move
        to the release, and trust learns from the surprise."""
        p = self.params
        n_firms = self.n_firms
        buffers = self._step_buffers()
        adopters, firms, redraw = buffers.adopters, buffers.adopted_firm, buffers.redraw
        a = kernels.move_adopters(
            deciding,
            best,
            chance,
            uniforms,
            self.latest,
            self.product,
            self.firm_of,
            self.cocreation_firm,
            self._distance_to_current,
            self._distance_to_latest,
            self._indptr,
            self._indices,
            self._neighbour_counts,
            adopters,
            firms,
            redraw,
        )
        self.new_adoptions = a
        if a == 0:
            return
        adopters, firms, redraw = adopters[:a], firms[:a], redraw[:a]
        latest = self.latest
        surprise = (self.release_true[latest] - self.release_claimed[latest])[firms]
        self.trust[adopters, firms] = update_trust(
            self.trust[adopters, firms],
            surprise,
            self.loss_aversion[adopters],
            p["trust_rate"],
            p["alpha"],
            p["beta"],
        )
        movers = adopters[redraw]
        joins = self.rng.random(movers.size) < self.cocreation_rates[firms[redraw]]
        self.cocreation_firm[movers] = np.where(joins, firms[redraw], -1)
        per_firm = np.bincount(firms, minlength=n_firms).tolist()
        for k in sorted(range(n_firms), key=latest.__getitem__):  # by release, as logged
            if per_firm[k]:
                self._adoption_log.append((self.steps, int(latest[k]), per_firm[k]))

    # ------------------------------------------------------------- observables
    def _observe(self) -> None:
        """Compute this step's observables once, booking each firm's margin of the step;
        the DataCollector reads them."""
        observed = observe(
            self._names,
            [firm.current_kind.name for firm in self.firms],
            self._kinds,
            self.firm_of,
            self.product,
            self.cocreation_firm,
            self.trust,
            self.latest,
            self.new_adoptions,
        )
        self._observed = book_margins(observed, self._names, self.firms, self.steps)

    def _reporters(self) -> dict[str, Any]:
        """One DataCollector reporter per observable that ``_observe`` computed."""
        return {key: (lambda m, key=key: m._observed[key]) for key in self._observed}

    # -------------------------------------------------------------------- API
    def run(self, steps: int) -> InnovationModel:
        """Advance ``steps`` steps; returns the model for chaining."""
        for _ in range(integer("steps", steps, low=0)):
            self.step()
        return self

    def set_loss_aversion(self, values: Any) -> None:
        """Give customers these loss aversions (one per customer), before the first step."""
        if self.steps:
            raise ParameterError("set_loss_aversion", f"at step {self.steps}", "step 0")
        values = np.asarray(values, dtype=float)
        if values.shape != (self.n_customers,):
            raise ParameterError(
                "loss_aversion", f"{values.size} values", f"{self.n_customers}, one per customer"
            )
        bad = values[~np.isfinite(values) | (values < 0)]
        if bad.size:
            raise ParameterError("loss_aversion", float(bad[0]), "a finite number >= 0")
        self.loss_aversion = values.copy()

    def customer(self, index: int) -> Customer:
        """An inspectable view of one customer (created on demand when agents are off)."""
        if not 0 <= index < self.n_customers:
            raise IndexError(f"customer {index} out of range 0..{self.n_customers - 1}")
        for agent in self.agents_by_type.get(Customer, []):
            if agent.index == index:
                return agent
        view = Customer.__new__(Customer)
        view.model, view.index, view.unique_id = self, index, None
        return view

    def timeseries(self) -> pd.DataFrame:
        """Observables per step: one row per step with a ``step`` column."""
        frame = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        frame.insert(0, "step", np.arange(len(frame)))
        return frame

    def releases(self) -> pd.DataFrame:
        """Every product on the market: id, firm, generation, kind, step, the quality step
        its firm's R&D delivered, claimed and true quality, position."""
        names = ["legacy"] + [f.name for f in self.firms]
        frame = pd.DataFrame(
            {
                "release": np.arange(len(self.release_firm)),
                "firm": [names[k + 1] for k in self.release_firm],
                "generation": self.release_generation,
                "kind": self.release_kind,
                "step": self.release_step,
                "quality_step": self.release_quality_step,
                "claimed_quality": self.release_claimed,
                "true_quality": self.release_true,
            }
        )
        for axis in range(self.n_dims):
            frame[f"position_{axis}"] = self.release_position[:, axis]
        return frame

    def adoption_events(self) -> np.ndarray:
        """Adoption events as an (events x 3) int64 array: step, release, adoptions."""
        return np.array(self._adoption_log, dtype=np.int64).reshape(-1, 3)

    def adoptions(self) -> pd.DataFrame:
        """Adoption events: (step, release, adoptions) for every release adopted that step."""
        return pd.DataFrame(self.adoption_events(), columns=["step", "release", "adoptions"])

    def release_summary(self) -> pd.DataFrame:
        """Diffusion metrics of every release (steps to 10/50/90 %, peak, Rogers)."""
        return analysis.release_metrics(self)

    def summary(self) -> pd.DataFrame:
        """One row per firm: final share and trust, and its first release's diffusion."""
        return analysis.firm_summary(self)
