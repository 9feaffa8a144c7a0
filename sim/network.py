"""Social networks as sparse adjacency matrices, generated from the model's RNG.

Watts–Strogatz and Erdős–Rényi are built directly in NumPy (a million-node small
world in well under a second and a few hundred MB, where networkx needs tens of
seconds and GBs). Barabási–Albert goes through networkx, seeded from the model's
RNG. ``complete`` mixing has no adjacency at all: every customer sees the whole
market, as in the Bass model.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

__all__ = ["NETWORKS", "barabasi_albert", "build_network", "erdos_renyi", "watts_strogatz"]

NETWORKS = ("watts_strogatz", "barabasi_albert", "erdos_renyi", "complete")


def _symmetric_csr(u: np.ndarray, v: np.ndarray, n: int) -> sp.csr_array:
    """Undirected simple graph from an edge list (u, v), as a float32 CSR array."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.ones(rows.size, dtype=np.float32)
    adjacency = sp.csr_array((data, (rows, cols)), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1.0
    return adjacency


def _clean_edges(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical (low, high) edges; mask of edges that are self-loops or repeats."""
    low = np.minimum(u, v)
    high = np.maximum(u, v)
    key = low.astype(np.int64) * n + high
    _, first = np.unique(key, return_index=True)
    bad = np.ones(key.size, dtype=bool)
    bad[first] = False
    bad |= low == high
    return low, high, bad


def watts_strogatz(
    n: int, mean_degree: int, rewiring: float, rng: np.random.Generator
) -> sp.csr_array:
    """Small world (Watts & Strogatz 1998): a ring lattice whose edges are rewired.

    Each node links to its ``mean_degree // 2`` nearest neighbours on each side; each
    edge then keeps its first end and moves its second to a uniformly random node
    with probability ``rewiring``. Rewired edges that would form a self-loop or a
    repeated edge are drawn again (as networkx does), so the degree stays exact.
    """
    half = max(1, mean_degree // 2)
    if 2 * half >= n:
        raise ValueError(f"mean_degree {mean_degree} is too large for {n} customers")
    nodes = np.arange(n, dtype=np.int64)
    u = np.tile(nodes, half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = np.flatnonzero(rng.random(u.size) < rewiring)
    v[rewire] = rng.integers(0, n, rewire.size)
    for _ in range(100):
        _, _, bad = _clean_edges(u, v, n)
        redo = rewire[bad[rewire]]
        if redo.size == 0:
            break
        v[redo] = rng.integers(0, n, redo.size)
    return _symmetric_csr(u, v, n)


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> sp.csr_array:
    """Random graph G(n, p) with p = mean_degree / (n - 1) (Erdős & Rényi 1959).

    The number of edges is drawn from its binomial distribution, then that many
    distinct pairs are drawn uniformly.
    """
    pairs = n * (n - 1) // 2
    m = int(rng.binomial(pairs, min(1.0, mean_degree / (n - 1))))
    u = np.empty(0, dtype=np.int64)
    v = np.empty(0, dtype=np.int64)
    while u.size < m:
        need = m - u.size
        u = np.concatenate([u, rng.integers(0, n, need)])
        v = np.concatenate([v, rng.integers(0, n, need)])
        low, high, bad = _clean_edges(u, v, n)
        u, v = low[~bad], high[~bad]
    return _symmetric_csr(u, v, n)


def barabasi_albert(n: int, mean_degree: int, rng: np.random.Generator) -> sp.csr_array:
    """Scale-free network by preferential attachment (Barabási & Albert 1999).

    Each new node attaches ``mean_degree // 2`` edges; built by networkx, seeded from
    the model's RNG.
    """
    m = max(1, mean_degree // 2)
    if m >= n:
        raise ValueError(f"mean_degree {mean_degree} is too large for {n} customers")
    seed = int(rng.integers(2**32))
    graph = nx.barabasi_albert_graph(n, m, seed=seed)
    adjacency = nx.to_scipy_sparse_array(graph, format="csr", dtype=np.float32)
    return sp.csr_array(adjacency)


def build_network(
    kind: str, n: int, mean_degree: int, rewiring: float, rng: np.random.Generator
) -> sp.csr_array | None:
    """Adjacency of the named network, or ``None`` for complete mixing."""
    if kind == "complete":
        return None
    if kind == "watts_strogatz":
        return watts_strogatz(n, mean_degree, rewiring, rng)
    if kind == "erdos_renyi":
        return erdos_renyi(n, mean_degree, rng)
    if kind == "barabasi_albert":
        return barabasi_albert(n, mean_degree, rng)
    raise ValueError(f"unknown network {kind!r}; allowed: {', '.join(NETWORKS)}")
