"""The vectorized model and the idiomatic-Mesa reference give the same adoption curves.

Both implement MODEL.md's rules but draw different random streams, so they are
compared in distribution: mean curves over independent replicates must agree within
sampling error at every step, for every firm's share, share on its latest release and
mean trust, plus the legacy share. The same check must reject a deliberately wrong
reference (loss aversion doubled in the decision), so the test can fail.

Tolerance: |mean_vectorized - mean_reference| <= Z * SE + FLOOR at every step, with
SE = sqrt(s_v^2 / R_v + s_r^2 / R_r) (Welch) from the replicates themselves. Z = 6:
with >= 24 replicates a single comparison exceeds it by chance with probability
4e-6 (Student t, 23 df), so even a Bonferroni bound over all 410 (strongly
correlated) comparisons keeps a false alarm below 0.2 %; the test is also seeded, so
it cannot flake between runs. FLOOR = 0.005 (a quarter of a percentage point of share,
or of trust) covers points where both ensembles are (almost) constant, e.g. step 0.
The wrong variant differs by up to 22 SE (measured), so Z = 6 loses no power; the
correct reference's largest deviation was 3.2 SE.

Setting: MODEL.md's legacy start with the baseline's three firms (all release at step
0, then on their cadences), N = 2,000, 40 steps, needs drifting (rho = 0.01), the
radical firm a trusted brand (initial trust 0.7), the differentiated firm with more
co-creators (0.2, lead users) and discounted profits: shares move from 0 to ~0.5
within the window and every submodel (drift, Bass awareness, prospect value, logistic
choice, trust surprise, co-creation redraw and growth, releases of all three
strategies at equal capacity, lead users, forecasts, the ledgers) acts. Profits are
compared too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.model import InnovationModel
from sim.psychology import adoption_probability, prospect_value, update_trust, value
from sim.reference import ReferenceCustomer, ReferenceModel, _adoption_probability, _value
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
N = 2_000
STEPS = 40
REPLICATES_VECTORIZED = 48
REPLICATES_REFERENCE = 24
REPLICATES_WRONG = 12
Z = 6.0
FLOOR = 0.005


def _kwargs() -> dict:
    kwargs = load_scenario(ROOT / "scenarios" / "baseline.toml").model_kwargs()
    kwargs.update(n_customers=N, start="legacy", market_dynamism=0.01, discount=0.99)
    for firm in kwargs["firms"]:  # a trusted brand, and co-creators who are lead users
        if firm["strategy"] == "radical":
            firm["initial_trust"] = 0.7
        if firm["strategy"] == "differentiated":
            firm["cocreation"] = 0.2
    return kwargs


def _curves(model_class: type, seeds: range) -> tuple[list[str], np.ndarray]:
    """(series names, array replicates x steps x series) of the compared observables."""
    runs, names = [], []
    for seed in seeds:
        frame = model_class(**_kwargs(), rng=seed).run(STEPS).timeseries()
        names = [
            c
            for c in frame.columns
            if c == "share_legacy"
            or (
                c.startswith(("share_", "trust_", "profit_"))
                and not c.startswith("share_strategy_")
            )
        ]
        runs.append(frame[names].to_numpy(dtype=float))
    return names, np.array(runs)


def _excess(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|difference of means| minus the tolerance, and |difference| / SE, per step and series."""
    diff = np.abs(a.mean(axis=0) - b.mean(axis=0))
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return diff - (Z * se + FLOOR), diff / np.maximum(se, 1e-12)


class _DoubledLossAversion(ReferenceCustomer):
    """Deliberately wrong: weighs losses with 2 lambda when deciding."""

    def offer(self, k: int, share: float) -> float:
        self.loss_aversion *= 2.0
        try:
            return super().offer(k, share)
        finally:
            self.loss_aversion /= 2.0


class _WrongReference(ReferenceModel):
    customer_class = _DoubledLossAversion


@pytest.fixture(scope="module")
def vectorized() -> tuple[list[str], np.ndarray]:
    return _curves(InnovationModel, range(REPLICATES_VECTORIZED))


def test_scalar_psychology_matches_sim_psychology() -> None:
    """The reference's scalar formulas are sim.psychology's (value, choice, trust)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        x, lam, trust = rng.normal(0, 0.3), rng.uniform(0.5, 4), rng.uniform(0, 1)
        assert math.isclose(_value(x, lam, 0.88, 0.88), value(x, lam, 0.88, 0.88), rel_tol=1e-12)
        moved = min(max(trust + 0.3 * _value(x, lam, 0.88, 0.88), 0.0), 1.0)
        assert math.isclose(moved, update_trust(trust, x, lam, 0.3, 0.88, 0.88), abs_tol=1e-15)
        gain, loss = rng.uniform(0, 0.5), rng.uniform(0, 0.5)
        v = trust * gain**0.88 - lam * loss**0.88
        assert math.isclose(v, prospect_value(gain, loss, trust, lam, 0.88, 0.88), rel_tol=1e-12)
        for temperature in (0.0, 0.02, 0.5):
            assert math.isclose(
                _adoption_probability(v, temperature),
                adoption_probability(v, temperature),
                abs_tol=1e-15,
            )


@pytest.mark.slow
def test_reference_matches_vectorized(vectorized: tuple[list[str], np.ndarray]) -> None:
    names, vec = vectorized
    ref_names, ref = _curves(ReferenceModel, range(10_000, 10_000 + REPLICATES_REFERENCE))
    assert ref_names == names
    excess, z = _excess(vec, ref)
    # the curves must actually move, or agreement would be empty
    assert vec[:, -1, names.index("share_legacy")].mean() < 0.8
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    assert (excess <= 0).all(), (
        f"{names[worst[1]]} at step {worst[0]}: vectorized {vec.mean(0)[worst]:.4f} vs "
        f"reference {ref.mean(0)[worst]:.4f} ({z[worst]:.1f} SE)"
    )


@pytest.mark.slow
def test_wrong_reference_is_detected(vectorized: tuple[list[str], np.ndarray]) -> None:
    """The same check rejects a reference that doubles loss aversion in the decision."""
    _, vec = vectorized
    _, wrong = _curves(_WrongReference, range(20_000, 20_000 + REPLICATES_WRONG))
    excess, z = _excess(vec, wrong)
    assert (excess > 0).any()
    assert z.max() > 2 * Z  # detected with a wide margin, not by a hair
