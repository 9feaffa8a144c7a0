"""Reference implementation: the same rules written the idiomatic Mesa way.

One :class:`ReferenceCustomer` agent per customer sits in a cell of a
:class:`mesa.discrete_space.Network` built from the same adjacency as the vectorized
:class:`sim.model.InnovationModel` (:func:`sim.network.build_network`), and looks at its
neighbours through ``self.cell.neighborhood.agents``, as Mesa's own
``virus_on_network`` example does. Each step runs the process of docs/ODD.md section 3 in two phases
(``shuffle_do("decide")`` on the start-of-step state, then ``do("apply")``), because
the model is synchronous: a per-agent version with a single sequential pass would be
a different, faster-diffusing model (docs/ODD.md section 3).

It exists as a correctness oracle and a speed baseline (issue #5): it draws from
Python's ``random`` per agent, so it does not reproduce the vectorized model's random
stream, only the distribution of its outcomes (tests/test_reference_equivalence.py).
Firms, strategies and the release mechanics are shared with the main model
(:class:`sim.agents.Firm`'s ``develop``, ``hold`` and ``plan_next``, reading this
model through :class:`sim.market.Market`), and so are the observables
(:func:`sim.observables.observe`, on arrays gathered from the agents); the customer
psychology is the scalar form of :mod:`sim.psychology` (Tversky & Kahneman 1992 value
function, logistic choice, Slovic 1993 trust asymmetry).
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from .agents import Firm, Release
from .configuration import (
    check_firms,
    check_model_parameters,
    check_strategies,
    default_firms,
)
from .model import InnovationModel
from .network import build_network
from .observables import book_margins, firm_observables, observe, release_kinds

__all__ = ["ReferenceCustomer", "ReferenceModel"]

#: Release id of the legacy product.
LEGACY = 0


def _value(x: float, loss_aversion: float, alpha: float, beta: float) -> float:
    """Scalar prospect-theory value v(x) (sim.psychology.value)."""
    return x**alpha if x >= 0.0 else -loss_aversion * (-x) ** beta


def _adoption_probability(v: float, temperature: float) -> float:
    """Scalar logistic choice (sim.psychology.adoption_probability)."""
    if temperature == 0:
        return 1.0 if v > 0 else 0.0
    return 0.5 * (1.0 + math.tanh(v / (2.0 * temperature)))


class ReferenceCustomer(FixedAgent):
    """A customer as a Mesa agent: its own state, its own per-step decision."""

    model: ReferenceModel

    def __init__(self, model: ReferenceModel, cell: Any, firm: int, cocreates: int) -> None:
        super().__init__(model)
        self.cell = cell
        p = model.params
        sigma = p["loss_aversion_sd"]
        z = self.random.gauss(0.0, 1.0)
        self.loss_aversion = p["loss_aversion_mean"] * math.exp(sigma * z - sigma**2 / 2)
        self.needs = [self.random.random() for _ in range(model.n_dims)]
        self.firm = firm  # -1: legacy product
        self.product = model.latest[firm] if firm >= 0 else LEGACY
        self.cocreates = cocreates  # firm index, or -1
        self.trust = [f.initial_trust for f in model.firms]
        self.aware = [k == firm for k in range(model.n_firms)]
        self.choice = -1  # firm chosen this step, applied in phase 2

    # ---------------------------------------------------------------- phase 1
    def drift(self) -> None:
        """Needs move toward the future need point (docs/ODD.md section 3, stage 1)."""
        rho, future = self.model.params["market_dynamism"], self.model.params["future_need"]
        self.needs = [x + rho * (future - x) for x in self.needs]

    def neighbour_shares(self) -> list[float]:
        """f_ik: share of neighbours using each firm's latest release (start of step)."""
        model = self.model
        if model.mixing_shares is not None:  # complete mixing
            return model.mixing_shares
        counts = [0] * model.n_firms
        degree = 0
        latest, release_firm = model.latest, model.release_firm
        for other in self.cell.neighborhood.agents:
            degree += 1
            k = release_firm[other.product]
            if k >= 0 and latest[k] == other.product:
                counts[k] += 1
        return [c / degree for c in counts] if degree else counts

    def offer(self, k: int, share: float) -> float:
        """Value V of firm k's latest release against the current product (docs/ODD.md 7.4)."""
        model = self.model
        p = model.params
        release, current = model.latest[k], self.product
        new_pos, cur_pos = model.release_position[release], model.release_position[current]
        quality = model.release_claimed[release] - model.release_true[current]
        fit = p["fit_weight"] * (math.dist(self.needs, cur_pos) - math.dist(self.needs, new_pos))
        discount = 1.0 - p["cocreation_discount"] if self.cocreates == k else 1.0
        gains = max(quality, 0.0) + max(fit, 0.0) + p["social_proof"] * share
        losses = (
            max(-quality, 0.0)
            + max(-fit, 0.0)
            + p["switching_cost"] * (self.firm != k)
            + p["learning_cost"] * discount * math.dist(cur_pos, new_pos)
        )
        return self.trust[k] * gains ** p["alpha"] - self.loss_aversion * losses ** p["beta"]

    def decide(self) -> None:
        """Awareness spreads, then the best known release is weighed (steps 3 and 4)."""
        model = self.model
        p = model.params
        shares = self.neighbour_shares()
        q = p["imitation"]
        best, best_value = -1, -math.inf
        for k in model.active:
            if not self.aware[k]:
                hazard = 1.0 - (1.0 - model.broadcast_rates[k]) * (1.0 - q * shares[k])
                self.aware[k] = self.random.random() < hazard  # own state: read by no one else
            if self.aware[k] and self.product != model.latest[k]:
                v = self.offer(k, shares[k])
                if v > best_value:  # strict: ties go to the lower firm index, like argmax
                    best, best_value = k, v
        chance = _adoption_probability(best_value, p["temperature"]) if best >= 0 else 0.0
        self.choice = best if best >= 0 and self.random.random() < chance else -1

    # ---------------------------------------------------------------- phase 2
    def apply(self) -> None:
        """Adopt the chosen release; trust learns; co-creation (steps 5 and 6)."""
        model = self.model
        p = model.params
        k = self.choice
        if k >= 0:
            self.choice = -1
            release = model.latest[k]
            switching = self.firm != k
            self.product, self.firm = release, k
            surprise = model.release_true[release] - model.release_claimed[release]
            moved = self.trust[k] + p["trust_rate"] * _value(
                surprise, self.loss_aversion, p["alpha"], p["beta"]
            )
            self.trust[k] = min(max(moved, 0.0), 1.0)
            if switching and self.cocreates != k:
                joins = self.random.random() < model.cocreation_rates[k]
                self.cocreates = k if joins else -1
            model.adopted[release] = model.adopted.get(release, 0) + 1
        c = self.cocreates
        if c >= 0:
            self.trust[c] += p["cocreation_trust_growth"] * (1.0 - self.trust[c])


class ReferenceModel(mesa.Model):
    """The rules of :class:`sim.model.InnovationModel`, one Mesa agent per customer.

    Takes the same keywords (validated by :data:`sim.parameters.MODEL_PARAMETERS`);
    ``customer_agents`` is accepted and ignored (customers are always agents).
    """

    #: Agent class of the customers (a hook for deliberately wrong variants in tests).
    customer_class: type[ReferenceCustomer] = ReferenceCustomer
    # Shared with the vectorized model: they read only ``self.firms``, ``self._observed``,
    # ``self._adoption_log`` and the DataCollector, never the customers' state.
    _spread_positions = staticmethod(InnovationModel._spread_positions)
    _reporters = InnovationModel._reporters
    timeseries = InnovationModel.timeseries
    adoption_events = InnovationModel.adoption_events
    adoptions = InnovationModel.adoptions

    def __init__(
        self,
        *,
        firms: Any = None,
        strategies: Any = None,
        customer_agents: bool | None = None,
        rng: Any = None,
        **params: Any,
    ) -> None:
        super().__init__(rng=rng)
        self.params: dict[str, Any] = check_model_parameters(params)
        p = self.params
        self.firm_specs = check_firms(default_firms() if firms is None else firms, p["n_dims"])
        strategies = check_strategies(strategies)
        n, d = p["n_customers"], p["n_dims"]
        self.n_customers, self.n_dims = n, d
        self.future = np.full(d, p["future_need"])

        # firms (the same Firm agents and strategies as the main model)
        self.firms: list[Firm] = []
        positions = self._spread_positions(len(self.firm_specs), d)
        for k, spec in enumerate(self.firm_specs):
            self.firms.append(Firm.from_spec(self, k, spec, p, strategies, positions[k]))
        self.n_firms = n_firms = len(self.firms)
        self.cocreation_rates = [f.cocreation for f in self.firms]
        self.broadcast_rates = [f.broadcast for f in self.firms]

        # release table (plain lists); id 0 is the legacy product
        self.release_firm: list[int] = [-1]
        self.release_claimed: list[float] = [p["legacy_quality"]]
        self.release_true: list[float] = [p["legacy_quality"]]
        self.release_position: list[tuple[float, ...]] = [(0.5,) * d]
        self.release_step: list[int] = [0]
        self.release_generation: list[int] = [0]
        self.release_quality_step: list[float] = [0.0]
        self.release_kind: list[str] = ["legacy"]
        self.latest: list[int] = [-1] * n_firms
        self.active: list[int] = []

        # network: the same builder as the main model, as a Mesa Network space
        adjacency = build_network(p["network"], n, p["mean_degree"], p["rewiring"], self.rng)
        self.mixing_shares: list[float] | None = None
        graph = nx.empty_graph(n) if adjacency is None else nx.from_scipy_sparse_array(adjacency)
        self.grid = Network(graph, capacity=1, random=self.random, layout=None)

        # customers: spread evenly over the firms' first products, or all on legacy
        if p["start"] == "spread":
            for firm in self.firms:
                quality = firm.true_quality
                self._add_release(
                    firm, Release(firm.current_kind.name, quality, quality, firm.position), 0
                )
            firm_of = [i % n_firms for i in range(n)]
            self.random.shuffle(firm_of)
        else:
            firm_of = [-1] * n
        bounds = np.cumsum(self.cocreation_rates)
        if bounds[-1] > 1:
            bounds = bounds / bounds[-1]
        for i, cell in enumerate(self.grid.all_cells):
            k = firm_of[i]
            if k >= 0:  # a customer of firm k co-creates with probability c_k
                cocreates = k if self.random.random() < self.cocreation_rates[k] else -1
            else:  # prospective co-creators: firm k recruits a share c_k of the market
                u = self.random.random()
                cocreates = next((j for j, b in enumerate(bounds) if u < b), -1)
            self.customer_class(self, cell, k, cocreates)
        self.customers = self.agents_by_type[self.customer_class]

        self.new_adoptions = 0
        self.adopted: dict[int, int] = {}
        self._adoption_log: list[tuple[int, int, int]] = []
        self._observed: dict[str, float] = {}

        # release schedule (a release at step 0 happens now)
        for firm, spec in zip(self.firms, self.firm_specs, strict=True):
            firm.plan_first(self, spec.get("first_release"), p["start"] == "legacy")
        self._release_due(0)

        self._names = [firm_observables(f.name) for f in self.firms]
        self._kinds = release_kinds(self.firm_specs)
        self._observe()
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.datacollector.collect(self)

    # ------------------------------------------------------------ firm side
    def _add_release(self, firm: Firm, release: Release, generation: int) -> int:
        release_id = len(self.release_firm)
        self.release_firm.append(firm.index)
        self.release_claimed.append(float(release.claimed))
        self.release_true.append(float(release.true))
        self.release_position.append(tuple(float(x) for x in release.position))
        self.release_step.append(self.steps)
        self.release_generation.append(generation)
        self.release_quality_step.append(float(release.quality_step))
        self.release_kind.append(release.kind)
        firm.hold(release_id, release, generation)
        self.latest[firm.index] = release_id
        self.active = [k for k in range(self.n_firms) if self.latest[k] >= 0]
        return release_id

    def _release(self, firm: Firm) -> None:
        """The firm launches its next release (docs/ODD.md section 7.2), as in the main model."""
        release = firm.develop(self, self.steps, len(self.release_firm))
        self._add_release(firm, release, firm.generation + 1)
        k = firm.index
        for customer in self.customers:  # its customers and co-creators hear of it at once
            customer.aware[k] = customer.firm == k or customer.cocreates == k
        firm.plan_next(self, self.steps)

    def _release_due(self, step: int) -> None:
        for firm in self.firms:
            if firm.next_release == step:
                self._release(firm)

    # ------------------------------------------- market knowledge (for strategies)
    def firm_shares(self) -> np.ndarray:
        """Share of customers with each firm (legacy excluded)."""
        counts = np.zeros(self.n_firms)
        for customer in self.customers:
            if customer.firm >= 0:
                counts[customer.firm] += 1
        return counts / self.n_customers

    def cocreator_needs(self, firm: Firm, ahead: int = 0) -> np.ndarray | None:
        """Mean needs of the firm's co-creators, or None; ``ahead`` steps on where they
        are lead users (as the main model)."""
        needs = [c.needs for c in self.customers if c.cocreates == firm.index]
        if not needs:
            return None
        mean = np.mean(needs, axis=0)
        rho = self.params["market_dynamism"]
        if not firm.lead_users or ahead <= 0 or rho <= 0:
            return mean
        return mean + (1.0 - (1.0 - rho) ** ahead) * (self.future - mean)

    def estimate_current_needs(self, firm: Firm, ahead: int = 0) -> np.ndarray:
        """Co-creators' revealed needs, else a noisy guess from its customers' (or all) needs."""
        revealed = self.cocreator_needs(firm, ahead)
        if revealed is not None:
            return revealed
        pool = [c.needs for c in self.customers if c.firm == firm.index]
        pool = pool or [c.needs for c in self.customers]
        noise = self.rng.normal(0.0, self.params["estimate_noise"], self.n_dims)
        return np.mean(pool, axis=0) + noise

    def forecast_future_needs(self, firm: Firm) -> np.ndarray:
        """The firm's forecast of the future need point, with its error sd."""
        return self.future + self.rng.normal(0.0, firm.forecast_error, self.n_dims)

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """One synchronous step: every customer decides, then all changes apply."""
        if self.params["market_dynamism"] > 0:
            self.customers.do("drift")
        self._release_due(self.steps)
        if self.params["network"] == "complete":
            self.mixing_shares = self._market_shares()
        self.new_adoptions = 0
        self.adopted = {}
        self.customers.shuffle_do("decide")  # phase 1: on the start-of-step state
        self.customers.do("apply")  # phase 2: all changes together
        self.new_adoptions = sum(self.adopted.values())
        for release in sorted(self.adopted):
            self._adoption_log.append((self.steps, release, self.adopted[release]))
        self._observe()
        self.datacollector.collect(self)

    def _market_shares(self) -> list[float]:
        """Complete mixing: share of all customers on each firm's latest release."""
        counts = [0] * self.n_firms
        for customer in self.customers:
            k = customer.firm
            if k >= 0 and customer.product == self.latest[k]:
                counts[k] += 1
        return [c / self.n_customers for c in counts]

    def run(self, steps: int) -> ReferenceModel:
        """Advance ``steps`` steps; returns the model for chaining."""
        for _ in range(steps):
            self.step()
        return self

    # ----------------------------------------------------------- observables
    def _observe(self) -> None:
        """The main model's observables, from the agents' state gathered into arrays."""
        customers = list(self.customers)
        self._observed = observe(
            self._names,
            [firm.current_kind.name for firm in self.firms],
            self._kinds,
            np.array([c.firm for c in customers], dtype=np.int64),
            np.array([c.product for c in customers], dtype=np.int64),
            np.array([c.cocreates for c in customers], dtype=np.int64),
            np.array([c.trust for c in customers], dtype=float).reshape(-1, self.n_firms),
            np.array(self.latest, dtype=np.int64),
            self.new_adoptions,
        )
        self._observed = book_margins(self._observed, self._names, self.firms, self.steps)
