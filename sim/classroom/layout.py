"""Where the network panel puts each customer, and which links it draws.

Shared by the live page (sent once per model) and the matplotlib handouts.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

__all__ = ["MAX_LINKS", "network_layout"]

#: Most network links drawn (a sample): enough to see the small world, cheap to draw.
MAX_LINKS = 600
_LAYOUTS: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def network_layout(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Node positions and a sample of links, computed once per model.

    A Watts–Strogatz network is a ring lattice with a few rewired links, so customers
    sit on a ring band in their lattice order (neighbours side by side) and the links
    drawn are the long, rewired ones. Other networks: customers at their needs θ.
    """
    cached = _LAYOUTS.get(model)
    if cached is not None:
        return cached
    n = model.n_customers
    adjacency = model.adjacency
    ring = model.params.get("network", "watts_strogatz") == "watts_strogatz"
    if ring:
        band = max(1, min(8, model.params.get("mean_degree", 10)))
        angle = 2 * np.pi * np.arange(n) / n
        radius = 1.0 + 0.3 * (np.arange(n) % band) / max(band - 1, 1)
        pos = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    else:
        needs = model.needs
        pos = np.column_stack(
            [needs[:, 0], needs[:, 1] if needs.shape[1] > 1 else np.random.default_rng(0).random(n)]
        )
    links = np.zeros((0, 2, 2))
    if adjacency is not None:
        coo = adjacency.tocoo()
        u, v = coo.row, coo.col
        keep = u < v
        u, v = u[keep], v[keep]
        if ring:
            gap = np.abs(u - v)
            gap = np.minimum(gap, n - gap)
            far = gap > model.params.get("mean_degree", 10)
            u, v = u[far], v[far]
        if u.size > MAX_LINKS:
            pick = np.random.default_rng(0).choice(u.size, MAX_LINKS, replace=False)
            u, v = u[pick], v[pick]
        links = np.stack([pos[u], pos[v]], axis=1)
    _LAYOUTS[model] = (pos, links)
    return pos, links
