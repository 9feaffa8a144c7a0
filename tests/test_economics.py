"""Innovation economics (MODEL.md, behaviours 6-8 and points 1-5): equal capacity, costs
that bite where releases are many, lead users, per-firm brand trust, and keys that no
longer exist refused with what replaced them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import InnovationModel
from sim.economics import Ledger, expected_step
from sim.errors import InputError
from sim.runner import run_scenario
from sim.scenario import from_dict, load_scenario

GROWTH_STEPS = 720  # 20 radical cadences per run


def _growth_per_step(releases: pd.DataFrame, start: float = 1.0) -> pd.Series:
    """Each firm's true-quality growth per step, pooled over its releases and runs: the
    sum of (true quality - the previous release's true quality) over the sum of steps
    between them (the first release counts from the start's quality at step 0)."""
    rows = []
    for (_run, firm), own in releases.groupby(["replicate", "firm"]):
        own = own.sort_values("release_step")
        true = np.r_[start, own["true_quality"].to_numpy()]
        steps = np.r_[0, own["release_step"].to_numpy()]
        rows.append((firm, true[-1] - true[0], steps[-1] - steps[0]))
    frame = pd.DataFrame(rows, columns=["firm", "gain", "steps"]).groupby("firm").sum()
    return frame["gain"] / frame["steps"]


@pytest.mark.slow
def test_equal_capacity_equal_growth_whatever_the_cadence(tmp_path) -> None:
    """Behaviour 6, from releases.csv: at equal capacity g = 0.008 each firm's true-quality
    growth per step is within 5 % of g, whatever its strategy and cadence (the three
    strategies at 4, 12, 36, and a sweep of one strategy's cadence alone: 2, 8, 24, 72).

    Tolerance: the per-step growth pooled over 24 runs of 720 steps has a relative SE of
    about 0.52 / sqrt(releases) (coefficient of variation and risk of the largest steps),
    i.e. <= 1.3 % for the slowest cadence (480 releases): 5 % is 3.8 SE at worst.
    """
    firms = {
        "incremental": {"strategy": "incremental"},
        "differentiated": {"strategy": "differentiated"},
        "radical": {"strategy": "radical"},
        "fast": {"strategy": "radical", "cadence": 2},
        "quick": {"strategy": "differentiated", "cadence": 8},
        "slowish": {"strategy": "incremental", "cadence": 24},
        "slow": {"strategy": "differentiated", "cadence": 72},
    }
    scenario = from_dict(
        {"market": {"n_customers": 60}, "network": {"mean_degree": 4}, "firms": firms}
    )
    results = run_scenario(scenario, steps=GROWTH_STEPS, replicates=24, seed=6, progress=False)
    results.releases.to_csv(tmp_path / "releases.csv", index=False)
    growth = _growth_per_step(pd.read_csv(tmp_path / "releases.csv"))
    assert set(growth.index) == set(firms)
    np.testing.assert_allclose(growth.to_numpy(), 0.008, rtol=0.05)
    assert growth.max() / growth.min() < 1.08  # no cadence grows measurably faster


def test_a_release_step_is_capacity_times_the_steps_behind_it() -> None:
    """MODEL.md point 1: the expected step is g c; a first release at step 0 has no steps
    behind it and gains launch_step (set by the scenario), exactly."""
    assert expected_step(0.008, 36, 0.1) == pytest.approx(0.288)
    assert expected_step(0.008, 0, 0.1) == 0.1
    model = InnovationModel(
        n_customers=100,
        start="legacy",
        firms=[
            {"name": "a", "strategy": "radical", "first_release": 0, "launch_step": 0.4},
            {"name": "b", "strategy": "incremental", "capacity": 0.05, "step_cv": 0.0},
        ],
        rng=3,
    ).run(9)
    releases = model.releases().set_index(["firm", "generation"])
    assert releases.loc[("a", 1), "quality_step"] == 0.4  # the launch: exactly
    assert releases.loc[("a", 1), "claimed_quality"] == pytest.approx(1.4)
    b = releases.loc["b"]  # legacy start, first release at step 0: launch_step 0.1, then g c
    np.testing.assert_allclose(b["quality_step"], [0.1, 0.2, 0.2])
    np.testing.assert_allclose(b["step"], [0, 4, 8])


def test_costs_bite_where_releases_are_many() -> None:
    """Behaviour 7: raising F from 0 to 0.5 lowers the profit of the firm releasing every 4
    steps 9 times as much as the one releasing every 36 (over 360 steps: 90 releases
    against 10). Costs do not feed back into behaviour, so with the same seed the shares
    are identical and the difference is exact (tolerance 1e-9, rounding)."""

    def run(cost: float) -> pd.DataFrame:
        return (
            InnovationModel(n_customers=400, release_cost=cost, rng=12).run(360).summary()
        ).set_index("firm")

    free, costly = run(0.0), run(0.5)
    pd.testing.assert_series_equal(free["final_share"], costly["final_share"])
    pd.testing.assert_series_equal(free["cum_share"], costly["cum_share"])
    drop = free["profit"] - costly["profit"]
    assert list(costly["releases"]) == [90, 30, 10]
    np.testing.assert_allclose(drop, 0.5 * costly["releases"], atol=1e-9)
    assert drop["incremental"] / drop["radical"] == pytest.approx(9.0)
    np.testing.assert_allclose(costly["release_costs"], 0.5 * costly["releases"])


def test_profit_is_discounted_margins_minus_costs() -> None:
    """MODEL.md point 2: pi = sum_t delta^t share(t) - sum_releases delta^t F, from the
    time series and the release table of the same run (tolerance 1e-12, summation order)."""
    model = InnovationModel(n_customers=300, discount=0.98, release_cost=0.3, rng=4).run(80)
    series, releases, summary = model.timeseries(), model.releases(), model.summary()
    weights = 0.98 ** series["step"].to_numpy()[1:]
    for firm in model.firms:
        margins = float(np.sum(weights * series[f"share_{firm.name}"].to_numpy()[1:]))
        own = releases[(releases["firm"] == firm.name) & (releases["generation"] >= 1)]
        costs = 0.3 * float(np.sum(0.98 ** own["step"].to_numpy(float)))
        row = summary.set_index("firm").loc[firm.name]
        assert row["profit"] == pytest.approx(margins - costs, abs=1e-12)
        assert series[f"profit_{firm.name}"].iloc[-1] == pytest.approx(row["profit"], abs=1e-12)
        assert row["cum_share"] == pytest.approx(series[f"share_{firm.name}"][1:].sum())


def test_a_ledger_books_margins_and_releases() -> None:
    ledger = Ledger(discount=0.5)
    ledger.book_release(0, 1.0)
    ledger.book_step(1, 0.4)
    ledger.book_step(2, 0.4)
    ledger.book_release(2, 1.0)
    assert ledger.cum_share == pytest.approx(0.8)
    assert ledger.revenue == pytest.approx(0.5 * 0.4 + 0.25 * 0.4)
    assert ledger.release_costs == pytest.approx(1.0 + 0.25)
    assert ledger.releases == 2 and ledger.profit == pytest.approx(0.3 - 1.25)


def _release_distances(lead_users: bool, seed: int, rho: float) -> np.ndarray:
    """For each release of the co-creating differentiated firm: the distance between
    where it lands and the mean needs of the firm's customers at the release step."""
    firms = [
        {"name": "incremental", "strategy": "incremental"},
        {"name": "lab", "strategy": "differentiated", "cocreation": 0.2, "lead_users": lead_users},
        {"name": "radical", "strategy": "radical"},
    ]
    model = InnovationModel(n_customers=1500, firms=firms, market_dynamism=rho, rng=seed)
    lab = model.firms[1]
    seen, out = lab.latest_release, []
    for _ in range(200):
        model.step()
        if lab.latest_release != seen:
            seen = lab.latest_release
            mine = model.firm_of == lab.index
            out.append(np.linalg.norm(lab.position - model.needs[mine].mean(axis=0)))
    return np.array(out)


@pytest.mark.slow
def test_lead_users_land_releases_closer_to_where_needs_are() -> None:
    """Behaviour 8: at rho = 0.01 the co-creating firm's releases land closer to its
    customers' needs with lead users than without, in every one of 8 paired seeds and on
    average by more than 3 SE (measured: 0.075 against 0.095, paired SE 0.001); at rho = 0
    the two runs are identical."""
    gaps = []
    for seed in range(8):
        with_lead = _release_distances(True, seed, 0.01).mean()
        without = _release_distances(False, seed, 0.01).mean()
        gaps.append(without - with_lead)
    gaps = np.array(gaps)
    assert (gaps > 0).all()
    assert gaps.mean() > 3 * gaps.std(ddof=1) / np.sqrt(len(gaps))
    np.testing.assert_array_equal(
        _release_distances(True, 1, 0.0), _release_distances(False, 1, 0.0)
    )


def test_a_brand_trusted_more_starts_with_more_trust() -> None:
    """MODEL.md point 3: firms.NAME.initial_trust sets every customer's initial trust in
    that firm; the others keep the market's."""
    model = InnovationModel(
        n_customers=200,
        initial_trust=0.4,
        firms=["incremental", {"name": "brand", "strategy": "radical", "initial_trust": 0.8}],
        rng=1,
    )
    np.testing.assert_array_equal(model.trust[:, 0], 0.4)
    np.testing.assert_array_equal(model.trust[:, 1], 0.8)


def test_a_firms_own_forecast_error_reaches_its_forecast() -> None:
    """MODEL.md point 4: a radical firm forecasts with its own error sd (0 here: exactly
    the future point), and its release moves half way toward it."""
    model = InnovationModel(
        n_customers=200,
        firms=[{"name": "seer", "strategy": "radical", "forecast_error": 0.0}, "incremental"],
        rng=2,
    )
    start = model.firms[0].position.copy()
    model.run(36)
    np.testing.assert_allclose(model.firms[0].position, start + 0.5 * (0.9 - start))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "[strategies.radical]\nquality_step_mean = 0.3\n",
            "strategies.radical.quality_step_mean: no longer exists: a release's quality step "
            "is the firm's capacity times the steps since its last release",
        ),
        (
            '[firms.a]\nstrategy = "radical"\nquality_step_sd = 0.1\n',
            "firms.a.quality_step_sd: no longer exists: the quality step's spread is its "
            "coefficient of variation, step_cv",
        ),
        (
            '[firms.a]\nstrategy = "radical"\nrisk = 0.1\n',
            "firms.a.risk: no longer exists: the sd of true minus claimed quality is "
            "risk_ratio times the expected quality step",
        ),
        (
            '[firms.a]\nstrategy = "incremental"\nforecast_error = 0.2\n',
            "firms.a.forecast_error = 0.2: does not reach the model: used only by firms whose "
            "strategy makes a forecast of future needs, and a follows 'incremental'",
        ),
        (
            '[firms.a]\nstrategy = "differentiated"\nlead_users = false\n',
            "firms.a.lead_users = False: does not reach the model: lead users reveal where "
            "needs are going, and needs do not drift here",
        ),
        (
            "[economics]\nlaunch_step = 0.2\n",
            "economics.launch_step = 0.2: does not reach the model: used only by a first "
            "release at step 0",
        ),
    ],
)
def test_keys_that_changed_or_cannot_reach_the_model_are_refused(tmp_path, table, message):
    path = tmp_path / "s.toml"
    path.write_text(table)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_lead_users_off_everywhere_is_one_key(tmp_path) -> None:
    """firms.*.lead_users = false turns lead users off for every firm that has them; it is
    judged as one key, so the radical firm (which has none) does not make it an error."""
    path = tmp_path / "s.toml"
    path.write_text("[market]\nmarket_dynamism = 0.01\nn_customers = 100\n")
    scenario = load_scenario(path, {"firms.*.lead_users": False})
    assert all(firm["lead_users"] is False for firm in scenario.firms)
    with pytest.raises(InputError, match=r"firms\.radical\.lead_users = False: does not reach"):
        load_scenario(path, {"firms.radical.lead_users": False})


def test_no_winner_is_an_answer() -> None:
    """MODEL.md point 5: a lead under 0.01 share is no winner, whatever the firms' order."""
    from sim.analysis import NO_WINNER, run_winner

    assert run_winner({"a": 0.5, "b": 0.3, "c": 0.2}) == "a"
    assert run_winner({"a": 0.334, "b": 0.333, "c": 0.333}) == NO_WINNER
    assert run_winner({"b": 0.333, "a": 0.334, "c": 0.333}) == NO_WINNER
    assert run_winner({"a": 0.1, "b": 0.6, "c": 0.3}) == "b"
    assert run_winner({"a": 1.0}) == "a"
