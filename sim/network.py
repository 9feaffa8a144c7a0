"""Social networks as sparse adjacency matrices, generated from the model's RNG.

Watts–Strogatz and Erdős–Rényi are built directly in NumPy (a million-node small
world in well under a second and about 0.2 GB, where networkx needs tens of
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

#: Vectorized redraw rounds before rewiring falls back to one edge at a time
#: (only reached for tiny, nearly complete graphs).
VECTOR_REWIRING_ROUNDS = 50


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


def _bernoulli_positions(m: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions in ``range(m)`` of the successes of m Bernoulli(p) trials.

    Drawn as geometric gaps between successes (the same distribution as ``rng.random(m) < p``,
    at O(m p) instead of O(m) cost).
    """
    if p <= 0.0 or m == 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(m, dtype=np.int64)
    chunks = []
    total = 0
    while total < m:
        expected = (m - total) * p
        gaps = rng.geometric(p, int(expected + 6.0 * np.sqrt(expected) + 16))
        positions = np.cumsum(gaps) + (total - 1)
        chunks.append(positions)
        total = int(positions[-1]) + 1
    positions = np.concatenate(chunks)
    return positions[: np.searchsorted(positions, m)]


def _pair_key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """A unique integer per unordered pair {a, b}."""
    return np.minimum(a, b) * n + np.maximum(a, b)


def _lattice_clash(
    src: np.ndarray, target: np.ndarray, slot: np.ndarray, rewired: np.ndarray, n: int, half: int
) -> np.ndarray:
    """Rewired edges (src, target) that are self-loops or repeat a lattice edge still in place.

    Lattice edge (a, a + j), j = 1..half, lives in slot (j - 1) n + a; it is in place unless
    that slot was rewired. An edge rewired back onto its own slot also clashes: as in
    networkx, a rewired edge must move.
    """
    d1 = (target - src) % n
    d2 = n - d1
    near = np.minimum(d1, d2) <= half
    lattice = np.where(d1 <= half, (d1 - 1) * n + src, (d2 - 1) * n + target)
    lattice[~near] = 0
    return (target == src) | (near & (~rewired[lattice] | (lattice == slot)))


def _first_of_repeats(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Mask of entries whose key repeats an entry with a lower index (``order`` sorts key)."""
    sorted_key = key[order]
    repeat = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    later = np.zeros(key.size, dtype=bool)
    for value in np.unique(sorted_key[repeat]):  # rare: a handful at any size
        members = np.flatnonzero(key == value)
        later[members[1:]] = True
    return later


def _rewire(
    n: int, half: int, rewiring: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose the rewired lattice slots and their new ends; returns (slot, src, target).

    Each slot is rewired with probability ``rewiring``; its edge keeps ``src`` and gets a
    uniformly random new end, redrawn while it would be a self-loop or repeat an edge
    (rejection sampling, as networkx does). Among rewired edges that repeat each other
    the one in the lowest slot is kept.
    """
    m = n * half
    if 2 * half >= n - 1:  # the lattice is already complete: nothing to rewire to
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    slot = _bernoulli_positions(m, rewiring, rng)
    src = slot % n
    target = rng.integers(0, n, slot.size)
    rewired = np.zeros(m, dtype=bool)
    rewired[slot] = True
    key = _pair_key(src, target, n)
    order = np.argsort(key)
    bad = _first_of_repeats(key, order) | _lattice_clash(src, target, slot, rewired, n, half)
    accepted = np.sort(key[~bad])
    pending = np.flatnonzero(bad)
    for _ in range(VECTOR_REWIRING_ROUNDS):
        if pending.size == 0:
            return slot, src, target
        target[pending] = rng.integers(0, n, pending.size)
        key[pending] = _pair_key(src[pending], target[pending], n)
        new = key[pending]
        at = np.minimum(np.searchsorted(accepted, new), max(accepted.size - 1, 0))
        taken = accepted[at] == new if accepted.size else np.zeros(new.size, dtype=bool)
        clash = _lattice_clash(src[pending], target[pending], slot[pending], rewired, n, half)
        bad = taken | clash | _first_of_repeats(new, np.argsort(new))
        fresh = np.sort(new[~bad])
        accepted = np.insert(accepted, np.searchsorted(accepted, fresh), fresh)
        pending = pending[bad]
    # Nearly complete graphs can stall; rewire them one edge at a time, as networkx does.
    return _rewire_sequentially(n, half, rewiring, rng)


def _rewire_sequentially(
    n: int, half: int, rewiring: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rewire lattice slots one after another (``networkx.watts_strogatz_graph``'s loop).

    Each new end is drawn uniformly among the nodes not yet linked to the first end; a
    node already linked to all others keeps its edge. Only used for tiny, nearly
    complete graphs, where drawing all new ends at once can stall.
    """
    linked = [{(a + j) % n for j in range(-half, half + 1) if j} for a in range(n)]
    slots, sources, targets = [], [], []
    for j in range(1, half + 1):
        for a in range(n):
            if rng.random() >= rewiring or len(linked[a]) >= n - 1:
                continue
            b = (a + j) % n
            w = int(rng.integers(n))
            while w == a or w in linked[a]:
                w = int(rng.integers(n))
            linked[a].discard(b)
            linked[b].discard(a)
            linked[a].add(w)
            linked[w].add(a)
            slots.append((j - 1) * n + a)
            sources.append(a)
            targets.append(w)
    return (
        np.array(slots, dtype=np.int64),
        np.array(sources, dtype=np.int64),
        np.array(targets, dtype=np.int64),
    )


def watts_strogatz(
    n: int, mean_degree: int, rewiring: float, rng: np.random.Generator
) -> sp.csr_array:
    """Small world (Watts & Strogatz 1998): a ring lattice whose edges are rewired.

    Each node links to its ``mean_degree // 2`` nearest neighbours on each side; each
    lattice edge (a, a + j) then, with probability ``rewiring``, keeps its first end and
    moves its second to a uniformly random node, redrawn while that would make a
    self-loop or a repeated edge (as ``networkx.watts_strogatz_graph`` does, except that
    all edges are rewired at once rather than one after another). The graph is simple
    and has exactly ``n * (mean_degree // 2)`` edges; it is a deterministic function of
    the RNG state. The CSR array (float32 ones, sorted column indices) is assembled
    straight from the lattice table, without a COO sort: O(n * mean_degree) time.
    """
    half = max(1, mean_degree // 2)
    if 2 * half >= n:
        raise ValueError(f"mean_degree {mean_degree} is too large for {n} customers")
    itype = np.int32 if 2 * half * n < 2**31 else np.int64
    slot, src, target = _rewire(n, half, rewiring, rng)
    step = slot // n + 1

    # Lattice table: row a holds a's neighbours at offsets -half..-1, +1..+half.
    offsets = np.concatenate([np.arange(-half, 0), np.arange(1, half + 1)]).astype(itype)
    table = np.add.outer(np.arange(n, dtype=itype), offsets)
    np.remainder(table[:half], n, out=table[:half])  # only the ends of the ring wrap
    np.remainder(table[-half:], n, out=table[-half:])
    table[src, half + step - 1] = target  # the edge's new end, seen from src
    vacated_row = (src + step) % n
    table[vacated_row, half - step] = -1  # its old end loses it

    # The rewired edges seen from their new end go after each row's lattice entries.
    order = np.argsort(target)
    extra_row, extra_col = target[order], src[order]
    extra = np.bincount(extra_row, minlength=n)
    degree = 2 * half - np.bincount(vacated_row, minlength=n) + extra
    indptr = np.zeros(n + 1, dtype=itype)
    np.cumsum(degree, out=indptr[1:])
    first_extra = np.cumsum(extra) - extra
    rank = np.arange(extra_row.size) - first_extra[extra_row]
    extra_pos = indptr[extra_row + 1] - extra[extra_row] + rank

    nnz = int(indptr[-1])
    indices = np.empty(nnz, dtype=itype)
    lattice_pos = np.ones(nnz, dtype=bool)
    lattice_pos[extra_pos] = False
    flat = table.ravel()
    if src.size:
        indices[lattice_pos] = flat[flat >= 0]
    else:
        indices[:] = flat
    del table, flat, lattice_pos
    indices[extra_pos] = extra_col
    adjacency = sp.csr_array(
        (np.ones(nnz, dtype=np.float32), indices, indptr), shape=(n, n), copy=False
    )
    adjacency.sort_indices()
    return adjacency


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
