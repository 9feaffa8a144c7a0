"""Model invariants, reproducibility, agents, API and Mesa integration."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import MODEL_PARAMETERS, InnovationModel, ParameterError
from sim.agents import Customer, Firm
from sim.observables import observable_names, release_kinds

CASES = {
    "baseline": {},
    "legacy_adaptive": {
        "start": "legacy",
        "firms": ["adaptive", {"name": "rad", "strategy": "radical", "first_release": 0}],
    },
    "dynamic_ba": {"market_dynamism": 0.02, "network": "barabasi_albert"},
    "er_deterministic": {"network": "erdos_renyi", "temperature": 0.0, "n_dims": 3},
    "complete_homogeneous": {"network": "complete", "loss_aversion_sd": 0.0},
    "economics": {
        "discount": 0.97,
        "release_cost": 0.5,
        "firms": [
            {"name": "a", "strategy": "incremental", "capacity": 0.02, "release_cost": 0.1},
            {"name": "b", "strategy": "radical", "initial_trust": 0.9, "first_release": 7},
        ],
    },
}


@pytest.mark.parametrize("case", CASES)
def test_invariants_every_step(case: str) -> None:
    """Shares (firms plus legacy) sum to 1, trust stays in [0, 1], nothing is NaN."""
    model = InnovationModel(n_customers=600, rng=11, **CASES[case])
    for _ in range(80):
        model.step()
        assert model.trust.min() >= 0.0 and model.trust.max() <= 1.0
        assert np.isfinite(model.trust).all() and np.isfinite(model.needs).all()
    frame = model.timeseries()
    shares = frame[[f"share_{f.name}" for f in model.firms] + ["share_legacy"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    kinds = frame[[c for c in frame if c.startswith("share_strategy_")]].sum(axis=1)
    np.testing.assert_allclose(kinds + frame["share_legacy"], 1.0)
    assert not frame.isna().any().any()
    assert (frame["new_adoptions"] >= 0).all()
    for f in model.firms:
        assert (frame[f"share_latest_{f.name}"] <= frame[f"share_{f.name}"] + 1e-12).all()


def recomputed_observables(
    model: InnovationModel, before: np.ndarray, revenue: np.ndarray
) -> dict[str, float]:
    """Every observable of the step just taken, from the model's arrays with plain NumPy.

    ``before`` is each customer's product at the start of the step; ``new_adoptions``
    counts the customers whose product changed. ``revenue`` holds each firm's discounted
    margins up to the previous step (updated here); profit subtracts the discounted cost
    of every release in the release table (MODEL.md economics, point 2).
    """
    n = model.n_customers
    t = model.steps
    discount = model.params["discount"]
    releases = model.releases()
    expected: dict[str, float] = {"share_legacy": float(np.mean(model.firm_of == -1))}
    by_kind: dict[str, float] = dict.fromkeys(release_kinds(model.firm_specs), 0.0)
    for k, firm in enumerate(model.firms):
        share = np.count_nonzero(model.firm_of == k) / n
        latest = model.latest[k]
        expected[f"share_{firm.name}"] = share
        expected[f"share_latest_{firm.name}"] = (
            np.count_nonzero(model.product == latest) / n if latest >= 0 else 0.0
        )
        expected[f"trust_{firm.name}"] = float(np.sum(model.trust[:, k]) / n)
        expected[f"cocreators_{firm.name}"] = int(np.count_nonzero(model.cocreation_firm == k))
        revenue[k] += discount**t * share
        own = releases[(releases["firm"] == firm.name) & (releases["generation"] >= 1)]
        cost = firm.release_cost * float(np.sum(discount ** own["step"].to_numpy(float)))
        expected[f"profit_{firm.name}"] = revenue[k] - cost
        kind = model.release_kind[latest] if latest >= 0 else firm.current_kind.name
        by_kind[kind] += share
    for kind, share in by_kind.items():
        expected[f"share_strategy_{kind}"] = share
    expected["cocreators"] = int(np.count_nonzero(model.cocreation_firm >= 0))
    expected["new_adoptions"] = int(np.count_nonzero(model.product != before))
    return expected


@pytest.mark.parametrize("case", CASES)
def test_observables_match_the_state_they_summarise_every_step(case: str) -> None:
    """Each share_*, share_latest_*, trust_*, cocreators_*, profit_* and new_adoptions
    the model reports equals the same quantity recomputed from its arrays, at every step.

    Shares and counts must agree exactly; mean trust and profit to 1e-12 (the model sums
    in another order than np.sum).
    """
    model = InnovationModel(n_customers=600, rng=11, **CASES[case])
    revenue = np.zeros(model.n_firms)
    for step in range(60):
        before = model.product.copy()
        model.step()
        reported = model.datacollector.get_model_vars_dataframe().iloc[-1].to_dict()
        expected = recomputed_observables(model, before, revenue)
        assert set(reported) == set(expected) == set(observable_names(model.firm_specs))
        for name, value in expected.items():
            tolerance = 1e-12 if name.startswith(("trust_", "profit_")) else 0.0
            assert reported[name] == pytest.approx(value, abs=tolerance), (step, name)


def test_same_seed_same_results_different_seed_different() -> None:
    a = InnovationModel(n_customers=800, rng=5).run(60).timeseries()
    b = InnovationModel(n_customers=800, rng=5).run(60).timeseries()
    c = InnovationModel(n_customers=800, rng=6).run(60).timeseries()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_customer_agents_do_not_change_results() -> None:
    with_agents = InnovationModel(n_customers=500, customer_agents=True, rng=2).run(40)
    without = InnovationModel(n_customers=500, customer_agents=False, rng=2).run(40)
    pd.testing.assert_frame_equal(with_agents.timeseries(), without.timeseries())
    assert len(with_agents.agents_by_type[Customer]) == 500
    assert Customer not in without.agents_by_type


def test_customers_are_inspectable_agents() -> None:
    model = InnovationModel(n_customers=300, rng=1).run(5)
    agent = model.agents_by_type[Customer][7]
    i = agent.index
    assert agent.loss_aversion == model.loss_aversion[i]
    assert agent.firm is model.firms[model.firm_of[i]]
    assert agent.quality == model.release_true[model.product[i]]
    assert set(agent.trust) == {f.name for f in model.firms}
    view = InnovationModel(n_customers=300, customer_agents=False, rng=1).customer(7)
    assert view.loss_aversion == model.loss_aversion[7] and "Customer(7" in repr(view)
    assert len(model.agents_by_type[Firm]) == 3


def test_loss_aversion_is_lognormal_with_the_given_mean() -> None:
    model = InnovationModel(
        n_customers=200_000,
        loss_aversion_mean=2.25,
        loss_aversion_sd=0.3,
        network="complete",
        rng=0,
    )
    # standard error of the mean is 2.25 * 0.3 / sqrt(2e5) ~ 0.0015
    assert model.loss_aversion.mean() == pytest.approx(2.25, abs=0.006)
    homogeneous = InnovationModel(n_customers=100, loss_aversion_sd=0.0, rng=0)
    assert np.all(homogeneous.loss_aversion == 2.25)


def test_needs_drift_toward_the_future_point() -> None:
    model = InnovationModel(n_customers=500, market_dynamism=0.05, rng=0)
    before = np.abs(model.needs - 0.9).mean()
    model.run(20)
    after = np.abs(model.needs - 0.9).mean()
    assert after == pytest.approx(before * 0.95**20, rel=1e-9)


def test_spread_start_and_legacy_start() -> None:
    spread = InnovationModel(n_customers=900, rng=0)
    np.testing.assert_allclose(spread.firm_shares(), [1 / 3] * 3)
    legacy = InnovationModel(n_customers=900, start="legacy", rng=0)
    assert (legacy.firm_of == -1).all()
    assert all(f.generation == 1 for f in legacy.firms)  # first releases at step 0
    assert legacy.timeseries()["share_legacy"].iloc[0] == 1.0


def test_signature_defaults_match_the_schema() -> None:
    params = inspect.signature(InnovationModel).parameters
    for name, spec in MODEL_PARAMETERS.items():
        assert params[name].default == spec.default, name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss_aversion_mean": -1.0}, "loss_aversion_mean = -1.0: expected a number >= 0"),
        ({"network": "ring"}, "network = 'ring': expected one of"),
        ({"n_customers": 5.5}, "n_customers = 5.5: expected an integer"),
        ({"alpha": float("nan")}, "alpha = nan"),
        ({"firms": ["bogus"]}, "firms.bogus.strategy = 'bogus': expected one of"),
        (
            {"firms": [{"name": "a", "strategy": "adaptive", "cadence": 3}]},
            "strategy 'adaptive' takes no release parameters",
        ),
        ({"n_customers": 10, "mean_degree": 10}, "mean_degree = 10: expected fewer"),
    ],
)
def test_bad_keywords_raise_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(".", r"\.")):
        InnovationModel(**kwargs)


def test_batch_run_works() -> None:
    results = mesa.batch_run(
        InnovationModel,
        parameters={"n_customers": 300, "loss_aversion_mean": [1.0, 3.0]},
        rng=[1, 2],
        max_steps=20,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 2 * 2  # the final step of each run (data_collection_period=-1)
    direct = InnovationModel(n_customers=300, loss_aversion_mean=3.0, rng=2).run(20)
    last = frame[(frame.Step == 20) & (frame.loss_aversion_mean == 3.0) & (frame.iteration == 1)]
    assert last["share_radical"].iloc[0] == direct.firm_shares()[2]


def test_summaries_are_dataframes_with_diffusion_metrics() -> None:
    model = InnovationModel(n_customers=1000, start="legacy", rng=4).run(60)
    summary = model.summary()
    assert list(summary["firm"]) == ["incremental", "differentiated", "radical"]
    assert summary["final_share"].between(0, 1).all()
    releases = model.release_summary()
    adopted = releases[releases["adopters"] > 0]
    assert len(adopted) > 0
    assert (adopted["t10"] <= adopted["t50"]).all() and (adopted["t50"] <= adopted["t90"]).all()
    rogers = adopted[
        ["innovators", "early_adopters", "early_majority", "late_majority", "laggards"]
    ].sum(axis=1)
    np.testing.assert_allclose(rogers, 1.0)
    terms = model.offer_terms("radical")
    assert {"gain", "loss", "value"} <= set(terms.columns)
    on_it = model.product == model.latest[2]
    assert terms.loc[on_it, "gain"].isna().all()
    assert (terms.loc[~on_it, "loss"] >= 0).all()
