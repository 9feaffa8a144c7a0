"""One test per strategy (as the Axelrod library does), plus the registry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from sim import InnovationModel, ParameterError
from sim.market import FirmView, Market
from sim.strategies import (
    INFORMATION,
    STRATEGIES,
    Adaptive,
    Differentiated,
    Incremental,
    Radical,
    Strategy,
    chooses_among,
    make_strategy,
    register,
)


def _solo(strategy: str, steps: int, **firm: object) -> InnovationModel:
    firms = [{"name": "solo", "strategy": strategy, **firm}]
    return InnovationModel(n_customers=400, firms=firms, rng=9).run(steps)


def _releases(model: InnovationModel):
    frame = model.releases()
    return frame[(frame.firm == "solo") & (frame.generation >= 1)]


def test_registry_finds_every_strategy_by_name() -> None:
    assert set(STRATEGIES) >= {"incremental", "differentiated", "radical", "adaptive"}
    assert make_strategy("radical") == Radical()
    assert make_strategy("incremental", {"incremental": {"cadence": 2}}).cadence == 2
    with pytest.raises(KeyError, match="unknown strategy 'bogus'"):
        make_strategy("bogus")


@pytest.mark.parametrize(
    ("cls", "cadence", "cv", "risk_ratio", "move"),
    [
        (Incremental, 4, 0.17, 0.33, 0.05),
        (Differentiated, 12, 0.2, 0.4, 0.25),
        (Radical, 36, 0.3, 0.43, 0.5),
    ],
)
def test_defaults_follow_model_md(cls, cadence, cv, risk_ratio, move) -> None:
    """MODEL.md, innovation economics point 1: cadences 4, 12, 36; coefficients of
    variation 0.17, 0.2, 0.3; risk 0.33, 0.4, 0.43 of the step; moves 0.05, 0.25, 0.5."""
    s = cls()
    assert (s.cadence, s.step_cv, s.risk_ratio, s.move) == (cadence, cv, risk_ratio, move)
    assert cls.__doc__ and "19" in cls.__doc__  # cites where the behaviour comes from


def test_incremental_releases_often_small_and_toward_current_needs() -> None:
    model = _solo("incremental", 40)
    rel = _releases(model)
    assert list(rel.step) == [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    claimed_steps = rel.claimed_quality.to_numpy() - np.r_[1.0, rel.true_quality.to_numpy()[:-1]]
    np.testing.assert_allclose(claimed_steps, rel.quality_step)
    assert np.all(np.abs(claimed_steps - 0.032) < 0.033)  # 6 sd of N(0.032, 0.0054)
    # it moves 5 % of the way toward its co-creators' mean needs (it has some)
    firm = model.firms[0]
    assert np.linalg.norm(firm.position - model.cocreator_needs(firm)) < np.linalg.norm(
        np.array([0.75, 0.5]) - model.cocreator_needs(firm)
    )


def test_differentiated_moves_a_quarter_of_the_way_to_its_cocreators() -> None:
    model = InnovationModel(
        n_customers=400,
        firms=[{"name": "solo", "strategy": "differentiated", "cocreation": 0.2}],
        rng=3,
    )
    firm = model.firms[0]
    before = firm.position.copy()
    target = model.cocreator_needs(firm)
    model.run(12)
    np.testing.assert_allclose(firm.position, before + 0.25 * (target - before))


def test_radical_leaps_toward_the_future_need_point() -> None:
    model = _solo("radical", 36)
    rel = _releases(model)
    assert list(rel.step) == [36]
    position = rel[["position_0", "position_1"]].to_numpy()[0]
    start = np.array([0.75, 0.5])
    # half way toward 0.9 +- forecast error 0.1 on each axis (5 sd bound)
    assert np.all(np.abs(position - (start + 0.5 * (0.9 - start))) < 0.25)
    assert np.linalg.norm(position - 0.9) < np.linalg.norm(start - 0.9)


def test_scenario_overrides_reach_the_strategy() -> None:
    model = _solo("radical", 20, cadence=10, capacity=0.05, step_cv=0.0, risk_ratio=0.0)
    rel = _releases(model)
    assert list(rel.step) == [10, 20]
    np.testing.assert_allclose(rel.claimed_quality, [1.5, 2.0])
    np.testing.assert_allclose(rel.true_quality, rel.claimed_quality)


def test_adaptive_chooses_among_the_three() -> None:
    model = InnovationModel(
        n_customers=600, firms=["adaptive", "incremental", "radical"], rng=4
    ).run(150)
    kinds = set(model.releases().query("firm == 'adaptive' and generation >= 1").kind)
    assert kinds and kinds <= {"incremental", "differentiated", "radical"}


def test_adaptive_exploits_the_best_score_and_explores_at_rate_epsilon() -> None:
    model = InnovationModel(n_customers=300, firms=["adaptive", "incremental"], rng=0)
    firm = model.firms[0]
    greedy = Adaptive(exploration=0.0)
    scores = greedy.scores(firm, model)
    # a rival follows incremental, at an equal share: no imitation bonus; nothing tried yet
    np.testing.assert_allclose(scores, 0.0, atol=1e-12)
    firm.history.clear()
    from sim.agents import ReleaseRecord

    firm.history.append(ReleaseRecord(0, "radical", 1, 0.0))  # share rose since: 0 -> 0.5
    assert greedy.choose(firm, model).name == "radical"
    explorer = Adaptive(exploration=1.0)
    picks = {explorer.choose(firm, model).name for _ in range(60)}
    assert picks == {"incremental", "differentiated", "radical"}


# ---------------------------------------------------------------- the harness
# Every registered strategy passes these, found through the registry: a new strategy
# is tested by registering it.
HARNESS_STEPS = 110  # three radical cadences, many of the others


def _harness_model(name: str, seed: int = 21, **firm: object) -> InnovationModel:
    return InnovationModel(
        n_customers=300, firms=[{"name": "solo", "strategy": name, **firm}, "incremental"], rng=seed
    ).run(HARNESS_STEPS)


def harness_found_by_name_with_a_citation_and_a_classifier(name: str) -> None:
    cls = STRATEGIES[name]
    assert cls.name == name and make_strategy(name).name == name
    doc = cls.__doc__ or ""
    assert re.search(r"[A-Z][A-Za-z&.' -]+ \(?(1[89]|20)\d{2}", doc), f"{name}: no citation"
    classifier = cls.classifier
    assert set(classifier) == {"chooses", "uses", "stochastic"}
    assert set(classifier["uses"]) <= set(INFORMATION)
    assert all(option in STRATEGIES and option != name for option in classifier["chooses"])


def harness_releases_on_its_cadence(name: str) -> None:
    """Each release comes a cadence after the previous one: its own cadence, or for a
    strategy that chooses, the cadence of the kind it chose for that release."""
    model = _harness_model(name)
    releases = _releases(model)
    assert len(releases) >= 2
    cadence = {n: STRATEGIES[n]().cadence for n in STRATEGIES if not chooses_among(n)}
    kinds = list(releases["kind"])
    allowed = set(chooses_among(name)) or {name}
    assert set(kinds) <= allowed
    gaps = np.diff([0, *releases["step"]])
    assert list(gaps) == [cadence[kind] for kind in kinds]


def harness_respects_overrides(name: str) -> None:
    """A fixed strategy takes a scenario's release parameters; one that chooses refuses
    them with a clear error (it uses those of the strategy it chooses)."""
    if chooses_among(name):
        with pytest.raises(ParameterError, match="takes no release parameters"):
            _harness_model(name, cadence=5)
        return
    model = _harness_model(name, cadence=5, step_cv=0.0, risk_ratio=0.0, capacity=0.04)
    releases = _releases(model)
    assert list(releases["step"]) == list(range(5, HARNESS_STEPS + 1, 5))
    np.testing.assert_allclose(np.diff(np.r_[1.0, releases["claimed_quality"]]), 0.2)


def harness_identical_under_a_seed(name: str) -> None:
    a, b = _harness_model(name, seed=4), _harness_model(name, seed=4)
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.releases(), b.releases())


HARNESS = (
    harness_found_by_name_with_a_citation_and_a_classifier,
    harness_releases_on_its_cadence,
    harness_respects_overrides,
    harness_identical_under_a_seed,
)


@pytest.mark.parametrize("check", HARNESS, ids=lambda f: f.__name__.removeprefix("harness_"))
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_harness(name: str, check) -> None:
    check(name)


# ------------------------------------------------- a fifth strategy, in this file only
@dataclass(frozen=True)
class CatchUp(Strategy):
    """Releases every 6 steps; while its share is below an equal share it moves toward
    its estimate of current needs, otherwise toward its forecast of future needs.

    A toy for the test that a strategy plugs in through one file, after the
    "fast second" of Markides & Geroski (2005): follow the market while behind, lead it
    once ahead. It reads the market only through sim.market.Market.
    """

    name: ClassVar[str] = "catch_up_test"
    classifier: ClassVar[dict[str, Any]] = {
        "chooses": (),
        "uses": ("market_shares", "customer_needs", "forecast"),
        "stochastic": False,
    }
    cadence: int = 6
    step_cv: float = 0.1
    risk_ratio: float = 0.2
    move: float = 0.2

    def target(self, firm: FirmView, market: Market) -> np.ndarray:
        if market.firm_shares()[firm.index] < 1.0 / len(market.firms):
            return market.estimate_current_needs(firm)
        return market.forecast_future_needs(firm)


@pytest.fixture
def catch_up() -> Iterator[str]:
    register(CatchUp)
    try:
        yield CatchUp.name
    finally:
        del STRATEGIES[CatchUp.name]


def test_a_fifth_strategy_defined_here_passes_the_harness_and_runs_from_a_scenario(
    catch_up: str, tmp_path
) -> None:
    for check in HARNESS:
        check(catch_up)
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    path = tmp_path / "fifth.toml"
    path.write_text(
        "[market]\nn_customers = 300\n[run]\nsteps = 30\nreplicates = 2\n"
        f'[firms.us]\nstrategy = "{catch_up}"\n[firms.them]\nstrategy = "radical"\n'
        f"[strategies.{catch_up}]\ncadence = 5\n"
    )
    results = run_scenario(load_scenario(path), progress=False)
    assert set(results.summary["strategy"]) == {catch_up, "radical"}
    ours = results.releases[results.releases["firm"] == "us"]
    assert sorted(set(ours["release_step"])) == [5, 10, 15, 20, 25, 30]
    assert f"share_strategy_{catch_up}" in results.timeseries


def test_a_strategys_parameters_reach_its_followers_and_choosers() -> None:
    """strategies.NAME sets NAME's release parameters for every firm that follows it and
    for the options of firms that choose; a firm's own value wins."""
    model = InnovationModel(
        n_customers=300,
        firms=[
            {"name": "a", "strategy": "radical"},
            {"name": "b", "strategy": "radical", "cadence": 7},
            "adaptive",
        ],
        strategies={"radical": {"cadence": 10}},
        rng=2,
    )
    by_name = {f.name: f for f in model.firms}
    assert by_name["a"].strategy.cadence == 10
    assert by_name["b"].strategy.cadence == 7  # its own value wins
    options = {o.name: o for o in by_name["adaptive"].strategy.options}
    assert options["radical"].cadence == 10 and options["incremental"].cadence == 4


@pytest.mark.parametrize(
    ("strategies", "firms", "message"),
    [
        ({"adaptive": {"cadence": 5}}, None, "strategies.adaptive: expected a strategy that"),
        ({"radical": {"speed": 5}}, None, "strategies.radical.speed: unknown key"),
        ({"radical": {"cadence": 0}}, None, "strategies.radical.cadence = 0: expected an integer"),
    ],
)
def test_bad_strategy_parameters_are_refused(strategies, firms, message) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        InnovationModel(n_customers=100, strategies=strategies, firms=firms)


def test_a_strategy_key_that_reaches_no_firm_is_refused(tmp_path) -> None:
    from sim.errors import InputError
    from sim.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text('[firms.a]\nstrategy = "incremental"\n[strategies.radical]\ncadence = 9\n')
    with pytest.raises(InputError, match="no firm follows strategy 'radical'"):
        load_scenario(path)
    path.write_text(
        '[firms.a]\nstrategy = "radical"\ncadence = 5\n[strategies.radical]\ncadence = 9\n'
    )
    with pytest.raises(InputError, match=r"every firm following 'radical' sets its own cadence"):
        load_scenario(path)
    path.write_text('[firms.a]\nstrategy = "adaptive"\n[strategies.radical]\ncadence = 9\n')
    assert load_scenario(path).strategies == {"radical": {"cadence": 9}}
