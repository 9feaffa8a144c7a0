"""Compiled per-customer loops of the model's step (Numba).

At 10,000 customers a NumPy step is dominated by the fixed cost of ~150 small array
calls, at a million by passes over N x K temporaries. These kernels walk the
customers once instead, each doing for one customer what docs/ODD.md section 7 says, in the same
floating-point operations and order as the NumPy code they replace, so results are
bit-identical for a seed (``tests/test_kernels.py`` checks every kernel against a
NumPy formulation of the same rule).

They cover the bookkeeping arithmetic only: the psychology (``prospect_value``,
``adoption_probability``, ``update_trust``, ``grow_trust``) stays in
:mod:`sim.psychology` and is applied by the model to the kernels' outputs, and every
random number is drawn by the model from its own generator and handed in (the
awareness draws only for the pairs that need one, see :func:`decide`). Without a
compiler (``njit`` is plain Python) the kernels give the same results, only far
slower.

Compiled on first use and cached on disk (``cache=True``, in ``sim/__pycache__``): the
first process on a machine pays about 4 s, every later one (tests, sweep workers)
loads the cache in about 0.3 s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "COCREATOR_LEARNING",
    "LEARNING",
    "QUALITY",
    "SWITCHING",
    "bass_hazard",
    "best_offers",
    "cocreator_cells",
    "customer_offer",
    "decide",
    "distances_to",
    "firm_offers",
    "group_mean",
    "move_adopters",
    "neighbour_counts",
    "offer_terms",
    "tally",
]

#: Columns of the per-release table ``table[k, c]`` (see :func:`decide`).
QUALITY, SWITCHING, LEARNING, COCREATOR_LEARNING = range(4)


# ------------------------------------------------------------ one customer, one firm
@njit(cache=True)
def bass_hazard(broadcast: float, imitation: float, share: float) -> float:
    """docs/ODD.md section 7.3: chance of becoming aware, 1 - (1 - p_k)(1 - q f_ik)."""
    return 1.0 - (1.0 - broadcast) * (1.0 - imitation * share)


@njit(cache=True)
def offer_terms(
    quality: float,
    fit: float,
    share: float,
    switching: float,
    learning: float,
    social_proof: float,
) -> tuple[float, float]:
    """docs/ODD.md section 7.4: (gains, losses) of an offer, both >= 0.

    ``quality`` = claimed - current quality, ``fit`` = d (distance to current -
    distance to new), ``switching`` = s if the offer means leaving one firm for
    another, ``learning`` = l (1 - kappa if co-creator) x distance moved, ``share`` =
    f_ik for social proof w_s f_ik.
    """
    gains = max(quality, 0.0) + max(fit, 0.0) + social_proof * share
    losses = max(-quality, 0.0) + max(-fit, 0.0) + switching + learning
    return gains, losses


@njit(cache=True)
def customer_offer(
    table: np.ndarray,
    k: int,
    current: int,
    cocreator: bool,
    fit_weight: float,
    distance_to_current: float,
    distance_to_new: float,
    share: float,
    social_proof: float,
) -> tuple[float, float]:
    """(gains, losses) of firm k's latest release for a customer on release ``current``,
    with the per-release terms of ``table[k, current]`` (see :func:`decide`)."""
    learning = table[k, current, COCREATOR_LEARNING if cocreator else LEARNING]
    fit = fit_weight * (distance_to_current - distance_to_new)
    return offer_terms(
        table[k, current, QUALITY], fit, share, table[k, current, SWITCHING], learning,
        social_proof,
    )  # fmt: skip


# ---------------------------------------------------------------- the customers
@njit(cache=True)
def neighbour_counts(
    indptr: np.ndarray, indices: np.ndarray, product: np.ndarray, latest: np.ndarray
) -> np.ndarray:
    """counts[i, k]: how many of customer i's neighbours use firm k's latest release.

    The model counts once, then keeps the counts up to date: a new release starts at
    zero, and :func:`move_neighbour_counts` moves each adopter.
    """
    firm_of_release = np.full(max(product.max(), latest.max()) + 1, -1, dtype=np.int64)
    for k in range(latest.size):
        if latest[k] >= 0:
            firm_of_release[latest[k]] = k
    counts = np.zeros((product.size, latest.size), dtype=np.int32)
    for i in range(product.size):
        for p in range(indptr[i], indptr[i + 1]):
            k = firm_of_release[product[indices[p]]]
            if k >= 0:
                counts[i, k] += 1
    return counts


@njit(cache=True)
def move_adopters(
    deciding: np.ndarray,
    best: np.ndarray,
    chance: np.ndarray,
    uniforms: np.ndarray,
    latest: np.ndarray,
    product: np.ndarray,
    firm_of: np.ndarray,
    cocreation_firm: np.ndarray,
    distance_to_current: np.ndarray,
    distance_to_latest: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    counts: np.ndarray,
    out_adopters: np.ndarray,
    out_firms: np.ndarray,
    out_redraw: np.ndarray,
) -> int:
    """docs/ODD.md section 7.5, the bookkeeping: deciding customer ``deciding[d]`` adopts its
    best offer, firm ``best[d]``'s latest release, when ``uniforms[d] < chance[d]``.

    Each adopter (in order) moves: product, firm, distance to its product, and its
    neighbours' counts (unless complete mixing: ``indptr`` empty). Adopter a is
    written to ``out_adopters[a]`` and ``out_firms[a]``, with ``out_redraw[a]`` true
    if it switches firm without already co-creating with the new one (its
    co-creation is redrawn). Returns the number of adopters.
    """
    a = 0
    for d in range(deciding.size):
        if not uniforms[d] < chance[d]:
            continue
        i, k = deciding[d], best[d]
        out_adopters[a], out_firms[a] = i, k
        out_redraw[a] = firm_of[i] != k and cocreation_firm[i] != k
        a += 1
        if indptr.size:
            left = -1  # the firm whose latest release i leaves, if any
            for other in range(latest.size):
                if latest[other] == product[i]:
                    left = other
            for p in range(indptr[i], indptr[i + 1]):
                if left >= 0:
                    counts[indices[p], left] -= 1
                counts[indices[p], k] += 1
        product[i] = latest[k]
        firm_of[i] = k
        distance_to_current[i] = distance_to_latest[k, i]
    return a


@njit(cache=True)
def decide(
    counts: np.ndarray,
    inverse_degree: np.ndarray,
    market: np.ndarray,
    broadcast: np.ndarray,
    imitation: float,
    draws: np.ndarray,
    aware: np.ndarray,
    product: np.ndarray,
    latest: np.ndarray,
    table: np.ndarray,
    fit_weight: float,
    social_proof: float,
    distance_to_current: np.ndarray,
    distance_to_latest: np.ndarray,
    cocreation_firm: np.ndarray,
    trust: np.ndarray,
    loss_aversion: np.ndarray,
    out_deciding: np.ndarray,
    out_slot: np.ndarray,
    out_firm: np.ndarray,
    out_terms: np.ndarray,
) -> tuple[int, int]:
    """docs/ODD.md sections 7.3 and 7.4 up to the value: awareness, then every offer's terms.

    For each customer i (in order) and firm k with a release (in order), with f_ik =
    ``counts[i, k] * inverse_degree[i]`` (``market[k]`` under complete mixing): if i
    is unaware of k, i becomes aware when the next of the uniform ``draws`` (one per
    such unaware pair, used in this order) < the Bass hazard (``aware`` is updated in
    place); if aware and not already on that release, the offer goes to entry m of
    the outputs: ``out_firm[m]``, ``out_terms[:, m]`` = (gains, losses, T_ik,
    lambda_i) and ``out_slot[m]`` = d, where ``out_deciding[d]`` = i lists the
    customers with at least one offer (the deciding customers, ascending). Returns
    the numbers of offers and of deciding customers.

    ``table[k, c]`` holds what depends only on the customer's current release c and
    firm k's latest: (claimed - current quality, switching cost, learning cost for a
    non-co-creator, for a co-creator).
    """
    n, n_firms = aware.shape
    complete = market.size > 0
    m = d = 0
    j, last = 0, draws.size - 1  # the next unused draw; draws[-1] is never used
    for i in range(n):
        first = m
        current = product[i]
        cocreator_of = cocreation_firm[i]
        to_current = distance_to_current[i]
        per_neighbour = 0.0 if complete else inverse_degree[i]
        lam = loss_aversion[i]
        for k in range(n_firms):
            release = latest[k]
            if release < 0:
                continue
            share = market[k] if complete else counts[i, k] * per_neighbour
            # branchless: a draw is read, and the hazard computed, whether or not i
            # already knows; the draw is used up only if i did not
            draw = draws[min(j, last)]
            was_aware = aware[i, k]
            known = was_aware | (draw < bass_hazard(broadcast[k], imitation, share))
            j += not was_aware
            aware[i, k] = known
            # the offer is written in any case and kept (m advances) if i knows the
            # release and is not on it: no unpredictable branch
            gains, losses = customer_offer(
                table, k, current, cocreator_of == k, fit_weight,
                to_current, distance_to_latest[k, i], share, social_proof,
            )  # fmt: skip
            out_slot[m] = d
            out_firm[m] = k
            out_terms[0, m] = gains
            out_terms[1, m] = losses
            out_terms[2, m] = trust[i, k]
            out_terms[3, m] = lam
            m += known and current != release
        out_deciding[d] = i  # kept (d advances) if i has an offer
        d += m > first
    return m, d


@njit(cache=True)
def firm_offers(
    k: int,
    share: np.ndarray,
    product: np.ndarray,
    latest: np.ndarray,
    table: np.ndarray,
    fit_weight: float,
    social_proof: float,
    distance_to_current: np.ndarray,
    distance_to_latest: np.ndarray,
    cocreation_firm: np.ndarray,
) -> np.ndarray:
    """(gains, losses) of firm k's latest release for every customer (N x 2; NaN for
    its users), aware or not, as :func:`decide` weighs them; for inspection."""
    terms_out = np.full((product.size, 2), np.nan)
    release = latest[k]
    for i in range(product.size):
        current = product[i]
        if release < 0 or current == release:
            continue
        terms_out[i, 0], terms_out[i, 1] = customer_offer(
            table, k, current, cocreation_firm[i] == k, fit_weight,
            distance_to_current[i], distance_to_latest[k, i], share[i, k], social_proof,
        )  # fmt: skip
    return terms_out


@njit(cache=True)
def best_offers(
    slot: np.ndarray,
    firm: np.ndarray,
    value: np.ndarray,
    n_deciding: int,
    n_firms: int,
    scratch: np.ndarray,
    out_firm: np.ndarray,
    out_value: np.ndarray,
) -> None:
    """Each deciding customer's best offer: ``out_firm[d]``, ``out_value[d]`` for the
    customer of slot d (see :func:`decide`); ties go to the lowest firm index (as
    ``argmax``). Values must be > -inf (the model's are finite).

    The offers are spread into a (deciding customer x firm) table in ``scratch`` (room
    for ``n_deciding * n_firms``; -inf where there is no offer) and each row is
    scanned with selects, not branches: a scan over the offers in order would branch
    on every change of customer and every comparison, and fresh data defeat the
    branch predictor.
    """
    table = scratch[: n_deciding * n_firms]
    table[:] = -np.inf
    for m in range(slot.size):
        table[slot[m] * n_firms + firm[m]] = value[m]
    for d in range(n_deciding):
        row = d * n_firms
        best, best_value = 0, table[row]
        for k in range(1, n_firms):
            candidate = table[row + k]
            better = candidate > best_value
            best = k if better else best
            best_value = candidate if better else best_value
        out_firm[d], out_value[d] = best, best_value


# ------------------------------------------------------------------- geometry
@njit(cache=True)
def distances_to(points: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row of ``points`` to the point ``other``.

    The squares are added in axis order: for D <= 2 that is bit-identical to NumPy's
    ``sqrt(einsum("ij,ij->i", diff, diff))``, whose SIMD sum groups them differently
    for D > 2 (so the model uses this kernel only for D <= 2).
    """
    out = np.empty(points.shape[0])
    for i in range(points.shape[0]):
        total = 0.0
        for j in range(points.shape[1]):
            total += (points[i, j] - other[j]) ** 2
        out[i] = np.sqrt(total)
    return out


@njit(cache=True)
def group_mean(points: np.ndarray, labels: np.ndarray, label: int) -> tuple[np.ndarray, int]:
    """Mean of the rows of ``points`` whose ``labels`` equal ``label`` (zeros if none),
    and how many there are.

    The rows are added in order, as NumPy's ``points[labels == label].mean(axis=0)``
    does for two or more columns (a single column NumPy sums pairwise).
    """
    total = np.zeros(points.shape[1])
    count = 0
    for i in range(points.shape[0]):
        if labels[i] == label:
            count += 1
            for j in range(points.shape[1]):
                total[j] += points[i, j]
    return (total / count if count else total), count


@njit(cache=True)
def cocreator_cells(cocreation_firm: np.ndarray, n_firms: int, out: np.ndarray) -> int:
    """Flat indices ``i * n_firms + k`` of the trust cells (customer i, firm k) of the
    co-creators (``cocreation_firm[i] = k >= 0``), ascending, written to ``out``;
    returns how many. Branch-free: every customer is written, co-creators are kept."""
    count = 0
    for i in range(cocreation_firm.size):
        firm = cocreation_firm[i]
        out[count] = i * n_firms + firm
        count += firm >= 0
    return count


# ---------------------------------------------------------------- observables
@njit(cache=True)
def tally(
    firm_of: np.ndarray,
    product: np.ndarray,
    cocreation_firm: np.ndarray,
    trust: np.ndarray,
    latest: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The observables' counts: customers per firm (index 0: legacy, i.e. -1),
    customers on each firm's latest release, co-creators per firm (index 0: none) and
    the sum of trust in each firm, added in customer order (as NumPy's
    ``trust.sum(axis=0)`` for K > 1).

    One pass per firm and array: each count is a branchless loop that compiles to
    SIMD code, and each trust column a single chain of additions.
    """
    n, n_firms = trust.shape
    customers = np.zeros(n_firms + 1, dtype=np.int64)
    on_latest = np.zeros(n_firms, dtype=np.int64)
    cocreators = np.zeros(n_firms + 1, dtype=np.int64)
    trust_sum = np.zeros(n_firms)
    for k in range(-1, n_firms):
        with_firm, cocreating = 0, 0
        for i in range(n):
            with_firm += firm_of[i] == k
            cocreating += cocreation_firm[i] == k
        customers[k + 1], cocreators[k + 1] = with_firm, cocreating
    for k in range(n_firms):
        release, on_release, total = latest[k], 0, 0.0
        for i in range(n):
            on_release += product[i] == release
            total += trust[i, k]
        on_latest[k], trust_sum[k] = on_release, total
    return customers, on_latest, cocreators, trust_sum


_loaded = False


def load() -> None:
    """Compile the kernels, or load them from the disk cache, before the first step.

    Runs each kernel once on a three-customer market with the dtypes the model
    uses, so a process pays this once (~0.2 s from the cache, a few seconds for the
    very first compilation) when it builds its first model, not inside a step.
    """
    global _loaded
    if _loaded:
        return
    n, k = 3, 2
    indptr, indices = np.array([0, 1, 2, 2]), np.array([1, 0], dtype=np.int32)
    product, latest = np.array([1, 2, 0]), np.array([1, 2])
    counts = neighbour_counts(indptr, indices, product, latest)
    ones, none, per_firm = np.ones(n), np.zeros(n, dtype=np.int64), np.zeros((k, n))
    grid, aware, table = np.zeros((n, k)), np.zeros((n, k), dtype=np.bool_), np.zeros((k, 3, 4))
    small = np.zeros(n * k, dtype=np.int32)  # the model's offer and best-offer buffers
    deciding, slot, firm, terms = small[:n].copy(), small.copy(), small.copy(), np.zeros((4, n * k))
    m, d = decide(
        counts, ones, np.zeros(0), np.zeros(k), 0.5, ones, aware, product, latest, table,
        0.5, 0.2, ones, per_firm, none, grid, ones, deciding, slot, firm, terms,
    )  # fmt: skip
    best, value = small[:n].copy(), np.zeros(n)
    best_offers(slot[:m], firm[:m], terms[0, :m], d, k, np.zeros(n * k), best, value)
    firm_offers(0, grid, product, latest, table, 0.5, 0.2, ones, per_firm, none)
    move_adopters(
        deciding[:d], best[:d], value[:d], value[:d] - 1, latest, product, none.copy(),
        none.copy(), ones, per_firm, indptr, indices, counts, none.copy(), none.copy(),
        aware[:, 0].copy(),
    )  # fmt: skip
    distances_to(grid, np.zeros(k))
    group_mean(grid, none, 0)
    cocreator_cells(none, k, none.copy())
    tally(none, product, none, grid, latest)
    _loaded = True
