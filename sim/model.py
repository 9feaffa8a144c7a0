"""The innovation-adoption model: loss-averse, trusting customers and innovating firms.

Customer state is held in NumPy arrays and updated synchronously: every customer
decides on the state at the start of the step, and all changes apply together at its
end, so a step costs O(customers + links) vectorized work. See docs/ODD.md.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import analysis
from .agents import Customer, Firm, ReleaseRecord
from .network import build_network
from .parameters import (
    MODEL_PARAMETERS,
    ParameterError,
    default_firms,
    validate_firms,
    validate_model_parameters,
)
from .psychology import adoption_probability, grow_trust, prospect_value, update_trust
from .strategies import BASIC_STRATEGIES, make_strategy

__all__ = ["LEGACY", "InnovationModel"]

#: Release id of the legacy product (start = "legacy").
LEGACY = 0
#: Customers above which Customer agents are not created unless asked for.
AUTO_AGENT_LIMIT = 10_000


def _d(name: str) -> Any:
    return MODEL_PARAMETERS[name].default


class InnovationModel(mesa.Model):
    """Customers with loss aversion and brand trust choosing among firms' innovations.

    Every keyword is described, with its range, in :data:`sim.parameters.MODEL_PARAMETERS`
    (and docs/ODD.md). ``firms`` is a list of strategy names or dicts with the keys of
    :data:`sim.parameters.FIRM_PARAMETERS` plus ``name``; by default one firm per
    strategy. ``customer_agents`` creates inspectable :class:`~sim.agents.Customer`
    agents (default: only up to 10,000 customers); it never changes results.
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
        customer_agents: bool | None = None,
        rng: Any = None,
    ) -> None:
        super().__init__(rng=rng)
        given = {k: v for k, v in locals().items() if k in MODEL_PARAMETERS}
        self.params: dict[str, Any] = validate_model_parameters(given)
        p = self.params
        self.firm_specs = validate_firms(default_firms() if firms is None else firms, n_dims)
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
            overrides = {
                spec["strategy"]: {
                    key: spec[key]
                    for key in ("cadence", "quality_step_mean", "quality_step_sd", "move", "risk")
                    if key in spec
                }
            }
            quality = p["initial_quality"] if p["start"] == "spread" else p["legacy_quality"]
            self.firms.append(
                Firm(
                    self,
                    index=k,
                    name=spec["name"],
                    strategy=make_strategy(spec["strategy"], overrides, p["exploration"]),
                    cocreation=spec.get("cocreation", p["cocreation"]),
                    broadcast=spec.get("broadcast", p["broadcast"]),
                    position=np.asarray(spec.get("position", positions[k]), dtype=float),
                    quality=quality,
                )
            )
        n_firms = len(self.firms)
        self.n_firms = n_firms
        self.cocreation_rates = np.array([f.cocreation for f in self.firms])
        self.broadcast_rates = np.array([f.broadcast for f in self.firms])

        # --- releases (products) table; id 0 is the legacy product ------------
        self.release_firm = np.array([-1], dtype=np.int64)
        self.release_claimed = np.array([p["legacy_quality"]])
        self.release_true = np.array([p["legacy_quality"]])
        self.release_position = np.full((1, d), 0.5)
        self.release_step = np.array([0], dtype=np.int64)
        self.release_generation = np.array([0], dtype=np.int64)
        self.release_kind: list[str] = ["legacy"]
        self.latest = np.full(n_firms, -1, dtype=np.int64)

        # --- customers' products, trust, awareness, co-creation ----------------
        self.trust = np.full((n, n_firms), p["initial_trust"])
        self.aware = np.zeros((n, n_firms), dtype=bool)
        self.cocreation_firm = np.full(n, -1, dtype=np.int64)
        if p["start"] == "spread":
            for firm in self.firms:
                self._add_release(
                    firm, firm.true_quality, firm.true_quality, firm.position, firm.current_kind, 0
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
        if self.adjacency is not None:
            degree = np.asarray(self.adjacency.sum(axis=1)).ravel()
            self.inverse_degree = np.divide(
                1.0, degree, out=np.zeros_like(degree, dtype=np.float64), where=degree > 0
            )
            # Neighbour counts of all firms in ONE float32 mat-vec: firm k's count sits in
            # bits [k b, (k + 1) b) of an exact float32 integer (b bits hold the max degree).
            bits = max(1, int(degree.max()).bit_length())
            self._count_bits = bits if bits * n_firms <= 24 else 0
            weights = 2.0 ** (bits * np.arange(n_firms))
            self._count_weight = np.append(weights, 0.0).astype(np.float32)

        # --- caches -------------------------------------------------------------
        self._distance_to_current = self._distances(self.needs, self.release_position[self.product])
        self._distance_to_latest = np.zeros((n_firms, n))  # firm-major: rows are contiguous
        self._update_latest_distances(range(n_firms))
        self.new_adoptions = 0
        self._adoption_log: list[tuple[int, int, int]] = []
        self._observed: dict[str, float] = {}

        # --- release schedule (a release at step 0 happens now) -----------------
        for firm, spec in zip(self.firms, self.firm_specs, strict=True):
            firm.next_kind = firm.strategy.choose(firm, self)
            default_first = 0 if p["start"] == "legacy" else firm.next_kind.cadence
            firm.next_release = spec.get("first_release", default_first)
            firm.current_kind = firm.next_kind.name
        self._release_due(0)

        # --- agents for inspection --------------------------------------------
        if customer_agents is None:
            customer_agents = n <= AUTO_AGENT_LIMIT
        if customer_agents:
            for i in range(n):
                Customer(self, i)

        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self._observe()
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
        diff = points - others
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))

    def _update_latest_distances(self, firm_indices: Any) -> None:
        for k in firm_indices:
            r = self.latest[k]
            if r >= 0:
                self._distance_to_latest[k] = self._distances(
                    self.needs, self.release_position[r][None, :]
                )

    def _add_release(
        self,
        firm: Firm,
        claimed: float,
        true: float,
        position: np.ndarray,
        kind: str,
        generation: int,
    ) -> int:
        """Append a release to the table and make it the firm's latest."""
        release = len(self.release_firm)
        self.release_firm = np.append(self.release_firm, firm.index)
        self.release_claimed = np.append(self.release_claimed, claimed)
        self.release_true = np.append(self.release_true, true)
        self.release_position = np.vstack([self.release_position, position])
        self.release_step = np.append(self.release_step, self.steps)
        self.release_generation = np.append(self.release_generation, generation)
        self.release_kind.append(kind)
        firm.latest_release = release
        firm.generation = generation
        firm.claimed_quality, firm.true_quality = claimed, true
        firm.position = np.asarray(position, dtype=float)
        self.latest[firm.index] = release
        return release

    def _release(self, firm: Firm) -> None:
        """The firm launches its next release (MODEL.md process step 2)."""
        kind = firm.next_kind
        firm.current_kind = kind.name
        firm.history.append(
            ReleaseRecord(
                self.steps, kind.name, len(self.release_firm), float(self.firm_shares()[firm.index])
            )
        )
        claimed = firm.true_quality + kind.quality_step(self.rng)
        true = claimed + float(self.rng.normal(0.0, kind.risk)) if kind.risk > 0 else claimed
        target = kind.target(firm, self)
        position = np.clip(firm.position + kind.move * (target - firm.position), 0.0, 1.0)
        self._add_release(firm, claimed, true, position, kind.name, firm.generation + 1)
        k = firm.index
        self.aware[:, k] = (self.firm_of == k) | (self.cocreation_firm == k)
        self._update_latest_distances([k])
        firm.next_kind = firm.strategy.choose(firm, self)
        firm.next_release = self.steps + firm.next_kind.cadence

    def _release_due(self, step: int) -> None:
        for firm in self.firms:
            if firm.next_release == step:
                self._release(firm)

    # --------------------------------------------------------- market knowledge
    def firm_shares(self) -> np.ndarray:
        """Share of customers with each firm (legacy excluded)."""
        counts = np.bincount(self.firm_of + 1, minlength=self.n_firms + 1)
        return counts[1:] / self.n_customers

    def cocreator_needs(self, firm: Firm) -> np.ndarray | None:
        """Mean current needs of the firm's co-creators (they reveal them), or None."""
        members = self.cocreation_firm == firm.index
        return self.needs[members].mean(axis=0) if members.any() else None

    def estimate_current_needs(self, firm: Firm) -> np.ndarray:
        """The firm's estimate of its customers' current needs.

        Co-creators reveal their true needs; without co-creators the firm guesses the
        mean needs of its customers (of the whole market if it has none) with noise.
        """
        revealed = self.cocreator_needs(firm)
        if revealed is not None:
            return revealed
        customers = self.firm_of == firm.index
        pool = self.needs[customers] if customers.any() else self.needs
        noise = self.rng.normal(0.0, self.params["estimate_noise"], self.n_dims)
        return pool.mean(axis=0) + noise

    def forecast_future_needs(self) -> np.ndarray:
        """A forecast of the future need point, with error sd ``forecast_error``."""
        return self.future + self.rng.normal(0.0, self.params["forecast_error"], self.n_dims)

    # -------------------------------------------------------------------- step
    def _neighbour_share(self) -> np.ndarray:
        """f_ik: share of i's neighbours using firm k's latest release (N x K)."""
        if self.adjacency is None or not self._count_bits:
            using = self.product[:, None] == self.latest[None, :]
            if self.adjacency is None:  # complete mixing: the whole market
                return np.broadcast_to(using.mean(axis=0), using.shape)
            counts = self.adjacency @ using.astype(np.float32)
            return counts * self.inverse_degree[:, None]
        # code[r] = k if release r is firm k's latest, else n_firms (weight 0)
        code = np.full(len(self.release_firm), self.n_firms, dtype=np.int64)
        active = np.flatnonzero(self.latest >= 0)
        code[self.latest[active]] = active
        packed = (self.adjacency @ self._count_weight[code[self.product]]).astype(np.int32)
        bits = self._count_bits
        share = np.empty((self.n_customers, self.n_firms))
        for k in range(self.n_firms):
            counts = (packed >> (bits * k)) & ((1 << bits) - 1)
            np.multiply(counts, self.inverse_degree, out=share[:, k])
        return share

    def step(self) -> None:
        """One synchronous step of MODEL.md's process."""
        p = self.params
        rng = self.rng
        n, n_firms = self.n_customers, self.n_firms

        # 1. needs drift toward the future need point
        if p["market_dynamism"] > 0:
            self.needs += p["market_dynamism"] * (self.future - self.needs)
            self._distance_to_current = self._distances(
                self.needs, self.release_position[self.product]
            )
            self._update_latest_distances(range(n_firms))

        # 2. releases
        self._release_due(self.steps)
        active = np.flatnonzero(self.latest >= 0)

        # 3. awareness spreads (Bass), on neighbours' products at the start of the step
        share = self._neighbour_share()
        # hazard = 1 - (1 - p_k)(1 - q f_ik), the same operations in place
        hazard = p["imitation"] * share
        np.subtract(1.0, hazard, out=hazard)
        hazard *= 1.0 - self.broadcast_rates
        np.subtract(1.0, hazard, out=hazard)
        draws = rng.random((n, n_firms))
        hit = draws < hazard
        hit &= (self.latest >= 0)[None, :]
        self.aware |= hit

        # 4. decision: prospect-theory value of each release the customer knows
        # the best release so far; strict > keeps the lowest firm index on ties (= argmax)
        best_value = np.full(n, -np.inf)
        best = np.zeros(n, dtype=np.int64)
        for k in active:
            r = self.latest[k]
            idx = np.flatnonzero(self.aware[:, k] & (self.product != r))
            if idx.size:
                value = self._offer_value(idx, k, r, share)
                better = value > best_value[idx]
                best_value[idx[better]] = value[better]
                best[idx[better]] = k
        deciding = np.flatnonzero(np.isfinite(best_value))
        chance = adoption_probability(best_value[deciding], p["temperature"])
        adopters = deciding[rng.random(deciding.size) < chance]

        # 5.-6. apply together: experience, trust, co-creation
        self._adopt(adopters, best[adopters])
        members = np.flatnonzero(self.cocreation_firm >= 0)
        firms_of_members = self.cocreation_firm[members]
        self.trust[members, firms_of_members] = grow_trust(
            self.trust[members, firms_of_members], p["cocreation_trust_growth"]
        )
        self._observe()
        self.datacollector.collect(self)

    def _offer_terms(
        self, idx: np.ndarray, k: int, release: int, share: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gains and losses (both >= 0) of firm k's latest release for customers ``idx``."""
        p = self.params
        current = self.product[idx]
        # terms that depend only on (current product, release): one table per release
        quality = self.release_claimed[release] - self.release_true
        moved = self._distances(self.release_position, self.release_position[release][None, :])
        switching = p["switching_cost"] * (self.release_firm != k)
        learning = np.array([1.0, 1.0 - p["cocreation_discount"]]) * p["learning_cost"]
        fit = p["fit_weight"] * (self._distance_to_current[idx] - self._distance_to_latest[k][idx])
        gains = np.maximum(quality, 0.0)[current] + np.maximum(fit, 0.0) + p["social_proof"] * share
        losses = (
            np.maximum(-quality, 0.0)[current]
            + np.maximum(-fit, 0.0)
            + switching[current]
            + learning[(self.cocreation_firm[idx] == k).view(np.int8)] * moved[current]
        )
        return gains, losses

    def _offer_value(self, idx: np.ndarray, k: int, release: int, share: np.ndarray) -> np.ndarray:
        """V = T * gains**alpha - lambda * losses**beta for customers ``idx`` (MODEL.md step 4)."""
        p = self.params
        gains, losses = self._offer_terms(idx, k, release, share[idx, k])
        return prospect_value(
            gains, losses, self.trust[idx, k], self.loss_aversion[idx], p["alpha"], p["beta"]
        )

    def offer_terms(self, firm: int | str) -> pd.DataFrame:
        """What firm ``firm``'s latest release offers every customer, as the model weighs it.

        Columns: ``gain`` and ``loss`` (the magnitudes G and L of MODEL.md step 4, with
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
        share = np.asarray(self._neighbour_share())
        idx = np.flatnonzero(self.product != release)
        gains, losses = self._offer_terms(idx, k, release, share[idx, k])
        frame.loc[idx, "gain"] = gains
        frame.loc[idx, "loss"] = losses
        frame.loc[idx, "value"] = self._offer_value(idx, k, release, share)
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

    def _adopt(self, adopters: np.ndarray, firms: np.ndarray) -> None:
        """Adopters move to their chosen release; trust learns from the surprise."""
        p = self.params
        self.new_adoptions = int(adopters.size)
        if adopters.size == 0:
            return
        releases = self.latest[firms]
        switching = self.firm_of[adopters] != firms
        self.product[adopters] = releases
        self.firm_of[adopters] = firms
        self._distance_to_current[adopters] = self._distance_to_latest[firms, adopters]
        surprise = self.release_true[releases] - self.release_claimed[releases]
        self.trust[adopters, firms] = update_trust(
            self.trust[adopters, firms],
            surprise,
            self.loss_aversion[adopters],
            p["trust_rate"],
            p["alpha"],
            p["beta"],
        )
        redraw = switching & (self.cocreation_firm[adopters] != firms)
        movers = adopters[redraw]
        joins = self.rng.random(movers.size) < self.cocreation_rates[firms[redraw]]
        self.cocreation_firm[movers] = np.where(joins, firms[redraw], -1)
        counts = np.bincount(releases)
        for release in np.flatnonzero(counts):
            self._adoption_log.append((self.steps, int(release), int(counts[release])))

    # ------------------------------------------------------------- observables
    def _observe(self) -> None:
        """Compute this step's observables once; the DataCollector reads them."""
        n = self.n_customers
        counts = np.bincount(self.firm_of + 1, minlength=self.n_firms + 1)
        on_release = np.bincount(self.product, minlength=len(self.release_firm))
        cocreators = np.bincount(self.cocreation_firm + 1, minlength=self.n_firms + 1)
        trust = self.trust.mean(axis=0)
        obs: dict[str, float] = {"share_legacy": counts[0] / n}
        by_kind = dict.fromkeys(self.strategy_names, 0.0)
        for firm in self.firms:
            k = firm.index
            obs[f"share_{firm.name}"] = counts[k + 1] / n
            latest = self.latest[k]
            obs[f"share_latest_{firm.name}"] = on_release[latest] / n if latest >= 0 else 0.0
            obs[f"trust_{firm.name}"] = float(trust[k])
            obs[f"cocreators_{firm.name}"] = int(cocreators[k + 1])
            by_kind[firm.current_kind] = by_kind.get(firm.current_kind, 0.0) + counts[k + 1] / n
        for kind, value in by_kind.items():
            obs[f"share_strategy_{kind}"] = value
        obs["new_adoptions"] = self.new_adoptions
        obs["cocreators"] = int(cocreators[1:].sum())
        self._observed = obs

    @property
    def strategy_names(self) -> list[str]:
        """Strategies whose share is reported: the three basic ones and any fixed others."""
        names = list(BASIC_STRATEGIES)
        names += [
            f.strategy.name
            for f in self.firms
            if f.strategy.name not in names and f.strategy.name != "adaptive"
        ]
        return names

    def _reporters(self) -> dict[str, Any]:
        self._observe()
        return {key: (lambda m, key=key: m._observed[key]) for key in self._observed}

    # -------------------------------------------------------------------- API
    def run(self, steps: int) -> InnovationModel:
        """Advance ``steps`` steps; returns the model for chaining."""
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ParameterError(f"steps = {steps!r}: expected an integer >= 0")
        for _ in range(steps):
            self.step()
        return self

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
        """Every product on the market: id, firm, generation, kind, step, qualities."""
        names = ["legacy"] + [f.name for f in self.firms]
        frame = pd.DataFrame(
            {
                "release": np.arange(len(self.release_firm)),
                "firm": [names[k + 1] for k in self.release_firm],
                "generation": self.release_generation,
                "kind": self.release_kind,
                "step": self.release_step,
                "claimed_quality": self.release_claimed,
                "true_quality": self.release_true,
            }
        )
        for axis in range(self.n_dims):
            frame[f"position_{axis}"] = self.release_position[:, axis]
        return frame

    def adoptions(self) -> pd.DataFrame:
        """Adoption events: (step, release, adoptions) for every release adopted that step."""
        return pd.DataFrame(self._adoption_log, columns=["step", "release", "adoptions"])

    def release_summary(self) -> pd.DataFrame:
        """Diffusion metrics of every release (steps to 10/50/90 %, peak, Rogers)."""
        return analysis.release_metrics(self.releases(), self.adoptions(), self.n_customers)

    def summary(self) -> pd.DataFrame:
        """One row per firm: final share and trust, and its first release's diffusion."""
        return analysis.firm_summary(self)
