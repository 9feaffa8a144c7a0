"""Networks built from the model's RNG: right shape, simple, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from sim.network import build_network


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi", "barabasi_albert"])
def test_networks_are_simple_symmetric_and_reproducible(kind: str) -> None:
    a = build_network(kind, 3000, 10, 0.1, np.random.default_rng(1))
    b = build_network(kind, 3000, 10, 0.1, np.random.default_rng(1))
    c = build_network(kind, 3000, 10, 0.1, np.random.default_rng(2))
    assert (a != a.T).nnz == 0  # undirected
    assert a.diagonal().sum() == 0  # no self-loops
    assert a.max() == 1  # no multi-edges
    assert (a != b).nnz == 0 and (a != c).nnz > 0
    mean_degree = a.nnz / 3000
    assert mean_degree == pytest.approx(10, abs=0.3)


def test_watts_strogatz_keeps_the_lattice_when_not_rewired() -> None:
    a = build_network("watts_strogatz", 100, 4, 0.0, np.random.default_rng(0))
    assert sorted(a[[0]].indices.tolist()) == [1, 2, 98, 99]
    assert build_network("complete", 100, 4, 0.0, np.random.default_rng(0)) is None
