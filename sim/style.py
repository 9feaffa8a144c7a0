"""One visual identity for every figure and page: colour-blind-safe, high contrast.

Colours are the Okabe & Ito (2008) palette; a firm keeps its colour everywhere
(by its position in the scenario's firm list).
"""

from __future__ import annotations

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
LEGACY_COLOUR = "#6E6E6E"

#: Matplotlib settings that read well printed and on a projector.
RC_PARAMS = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.4,
}


def firm_colour(index: int) -> str:
    """Colour of the firm at ``index`` in the scenario's firm list."""
    return OKABE_ITO[index % len(OKABE_ITO)]
