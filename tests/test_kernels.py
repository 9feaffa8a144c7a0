"""The compiled kernels of sim.kernels against NumPy formulations of the same rules.

Every check is exact (array_equal): the kernels promise bit-identical results to the
NumPy formulations of the same rules (the vectorized step they replaced; awareness
with one uniform per unaware pair, drawn in (customer, firm) order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import kernels
from sim.model import InnovationModel
from sim.psychology import prospect_value
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _model(steps: int = 30, **overrides) -> InnovationModel:
    kwargs = load_scenario(ROOT / "scenarios" / "baseline.toml").model_kwargs()
    kwargs.update(n_customers=1_500, **overrides)
    return InnovationModel(**kwargs, rng=3).run(steps)


def test_scalar_rules_match_numpy_formulas() -> None:
    """bass_hazard and offer_terms give NumPy's results on random inputs, bit for bit."""
    rng = np.random.default_rng(0)
    p, q, f = rng.uniform(0, 1, 500), rng.uniform(0, 1, 500), rng.uniform(0, 1, 500)
    quality, fit = rng.normal(0, 0.2, 500), rng.normal(0, 0.2, 500)
    switching, learning, w = rng.uniform(0, 0.1, 500), rng.uniform(0, 0.3, 500), 0.2
    hazard = 1.0 - (1.0 - p) * (1.0 - q * f)
    gains = np.maximum(quality, 0.0) + np.maximum(fit, 0.0) + w * f
    losses = np.maximum(-quality, 0.0) + np.maximum(-fit, 0.0) + switching + learning
    for i in range(500):
        assert kernels.bass_hazard(p[i], q[i], f[i]) == hazard[i]
        g, loss = kernels.offer_terms(quality[i], fit[i], f[i], switching[i], learning[i], w)
        assert (g, loss) == (gains[i], losses[i])


def _best_offers(slot, firm, value, n_deciding: int, n_firms: int) -> tuple[np.ndarray, ...]:
    best, best_value = np.empty(n_deciding, np.int32), np.empty(n_deciding)
    scratch = np.empty(n_deciding * n_firms)
    kernels.best_offers(slot, firm, value, n_deciding, n_firms, scratch, best, best_value)
    return best, best_value


@pytest.mark.parametrize("network", ["watts_strogatz", "barabasi_albert", "complete"])
def test_decide_matches_numpy_step(network: str) -> None:
    """Awareness and every offer's terms as the NumPy step computed them."""
    model = _model(network=network)
    p, n, n_firms = model.params, model.n_customers, model.n_firms
    share = np.asarray(model._neighbour_share())
    if network != "complete":  # the kept-up-to-date counts equal a fresh count
        fresh = kernels.neighbour_counts(model._indptr, model._indices, model.product, model.latest)
        assert np.array_equal(model._neighbour_counts, fresh)
        using = (model.product[:, None] == model.latest[None, :]).astype(np.float32)
        assert np.array_equal(share, (model.adjacency @ using) * model.inverse_degree[:, None])
    # one uniform per unaware (customer, released firm) pair, in row-major order, and
    # one more that the kernel may read but never uses
    unaware = ~model.aware & (model.latest >= 0)[None, :]
    assert 0 < unaware.sum() < unaware.size
    draws = np.random.default_rng(1).random(unaware.sum() + 1)
    uniform = np.ones((n, n_firms))
    uniform[unaware] = draws[:-1]

    # the NumPy formulation (the step before the kernels)
    hazard = 1.0 - (1.0 - p["imitation"] * share) * (1.0 - model.broadcast_rates)
    aware = model.aware | ((uniform < hazard) & (model.latest >= 0)[None, :])
    expected = []
    for k in np.flatnonzero(model.latest >= 0):
        r = model.latest[k]
        idx = np.flatnonzero(aware[:, k] & (model.product != r))
        current = model.product[idx]
        quality = model.release_claimed[r] - model.release_true[current]
        fit = p["fit_weight"] * (
            model._distance_to_current[idx] - model._distance_to_latest[k, idx]
        )
        diff = model.release_position[current] - model.release_position[r]
        moved = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        rate = np.where(model.cocreation_firm[idx] == k, 1.0 - p["cocreation_discount"], 1.0)
        gains = np.maximum(quality, 0) + np.maximum(fit, 0) + p["social_proof"] * share[idx, k]
        losses = (
            np.maximum(-quality, 0)
            + np.maximum(-fit, 0)
            + p["switching_cost"] * (model.firm_of[idx] != k)
            + p["learning_cost"] * rate * moved
        )
        expected += zip(idx, [k] * idx.size, gains, losses, strict=True)
    expected.sort(key=lambda offer: (offer[0], offer[1]))

    buffers = model._step_buffers()
    deciding, slot, firm, terms = (
        a.copy()
        for a in (buffers.deciding, buffers.offer_slot, buffers.offer_firm, buffers.offer_terms)
    )
    kernel_aware = model.aware.copy()
    market = share[0].copy() if network == "complete" else np.zeros(0)
    m, d = kernels.decide(
        model._neighbour_counts, model.inverse_degree, market, model.broadcast_rates,
        p["imitation"], draws, kernel_aware, model.product, model.latest, model._offer_table(),
        p["fit_weight"], p["social_proof"], model._distance_to_current,
        model._distance_to_latest, model.cocreation_firm, model.trust, model.loss_aversion,
        deciding, slot, firm, terms,
    )  # fmt: skip
    assert np.array_equal(kernel_aware, aware)
    want = np.array(expected).T
    assert m == want.shape[1] > 0
    deciding = deciding[:d]
    assert np.array_equal(deciding, np.unique(want[0]))
    customer = deciding[slot[:m]]
    assert np.array_equal(customer, want[0]) and np.array_equal(firm[:m], want[1])
    assert np.array_equal(terms[0, :m], want[2]) and np.array_equal(terms[1, :m], want[3])
    assert np.array_equal(terms[2, :m], model.trust[customer, firm[:m]])
    assert np.array_equal(terms[3, :m], model.loss_aversion[customer])

    # the best offer: NumPy's argmax over the value table (ties: lowest firm)
    value = prospect_value(terms[0, :m], terms[1, :m], terms[2, :m], terms[3, :m], 0.88, 0.88)
    table = np.full((n, n_firms), -np.inf)
    table[customer, firm[:m]] = value
    best, best_value = _best_offers(slot[:m], firm[:m], value, d, n_firms)
    assert np.array_equal(deciding, np.flatnonzero(np.isfinite(table.max(axis=1))))
    assert np.array_equal(best, table.argmax(axis=1)[deciding])
    assert np.array_equal(best_value, table.max(axis=1)[deciding])


def test_best_offers_ties_go_to_the_lowest_firm() -> None:
    # deciding customers 0 (offers from firms 0, 1, 2) and 1 (firms 1, 2; none from 0)
    slot, firm = np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 1, 2])
    value = np.array([0.1, 0.3, 0.3, -0.2, -0.2])
    best, best_value = _best_offers(slot, firm, value, 2, 3)
    assert best.tolist() == [1, 1]
    assert best_value.tolist() == [0.3, -0.2]


@pytest.mark.parametrize("n_firms", [1, 2, 3])
def test_tally_matches_bincount_and_mean(n_firms: int) -> None:
    model = _model(firms=["incremental", "differentiated", "radical"][:n_firms])
    counts, on_latest, cocreators, trust_sum = kernels.tally(
        model.firm_of, model.product, model.cocreation_firm, model.trust, model.latest
    )
    assert np.array_equal(counts, np.bincount(model.firm_of + 1, minlength=n_firms + 1))
    on_release = np.bincount(model.product, minlength=len(model.release_firm))
    assert np.array_equal(on_latest, np.where(model.latest >= 0, on_release[model.latest], 0))
    assert np.array_equal(cocreators, np.bincount(model.cocreation_firm + 1, minlength=n_firms + 1))
    if n_firms > 1:  # NumPy adds row by row; for one column it sums pairwise
        assert np.array_equal(trust_sum / model.n_customers, model.trust.mean(axis=0))


@pytest.mark.parametrize("n_dims", [1, 2])
def test_distances_match_einsum(n_dims: int) -> None:
    rng = np.random.default_rng(n_dims)
    points, other = rng.random((5_000, n_dims)), rng.random(n_dims)
    diff = points - other[None, :]
    expected = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    assert np.array_equal(kernels.distances_to(points, other), expected)


def test_python_fallback_gives_the_same_results() -> None:
    """The kernels are plain Python too (``py_func``): same answers, uncompiled."""
    model = _model(steps=10)
    args = (model._indptr, model._indices, model.product, model.latest)
    compiled = kernels.neighbour_counts(*args)
    assert np.array_equal(kernels.neighbour_counts.py_func(*args), compiled)


@pytest.mark.parametrize("n_dims", [2, 3, 5])
def test_group_mean_matches_numpy_for_two_or_more_columns(n_dims: int) -> None:
    rng = np.random.default_rng(n_dims)
    points, labels = rng.random((2_000, n_dims)), rng.integers(-1, 3, 2_000)
    for label in (-1, 0, 2, 7):  # 7: nobody
        mean, count = kernels.group_mean(points, labels, label)
        members = labels == label
        assert count == members.sum()
        if count:
            assert np.array_equal(mean, points[members].mean(axis=0))


def test_move_adopters_moves_exactly_the_adopters() -> None:
    """Adopters are the deciding customers whose uniform falls below their chance; each
    moves to the firm's latest release, and the neighbour counts stay equal to a fresh
    count."""
    model = _model()
    k = 0
    deciding = np.flatnonzero(model.product != model.latest[k]).astype(np.int32)
    best = np.full(deciding.size, k, dtype=np.int32)
    rng = np.random.default_rng(5)
    chance, uniforms = rng.random(deciding.size), rng.random(deciding.size)
    expected = deciding[uniforms < chance]
    assert 0 < expected.size < deciding.size
    was_firm, was_cocreating = model.firm_of.copy(), model.cocreation_firm.copy()
    n = model.n_customers
    adopters, firms, redraw = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, bool)
    a = kernels.move_adopters(
        deciding, best, chance, uniforms, model.latest, model.product, model.firm_of,
        model.cocreation_firm, model._distance_to_current, model._distance_to_latest,
        model._indptr, model._indices, model._neighbour_counts, adopters, firms, redraw,
    )  # fmt: skip
    assert np.array_equal(adopters[:a], expected) and np.all(firms[:a] == k)
    assert np.array_equal(redraw[:a], (was_firm[expected] != k) & (was_cocreating[expected] != k))
    assert np.all(model.product[expected] == model.latest[k])
    assert np.all(model.firm_of[expected] == k)
    moved = model._distance_to_current[expected]
    assert np.array_equal(moved, model._distance_to_latest[k, expected])
    fresh = kernels.neighbour_counts(model._indptr, model._indices, model.product, model.latest)
    assert np.array_equal(model._neighbour_counts, fresh)
