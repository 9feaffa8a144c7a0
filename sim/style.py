"""One visual identity for every figure and page: colour-blind-safe, high contrast.

Colours are the Okabe & Ito (2008) palette. A strategy keeps its colour everywhere, and
a firm takes the colour of the strategy it follows (a second firm with the same strategy
takes a spare colour), so the user's own firm is never drawn in a rival strategy's colour.
"""

from __future__ import annotations

from typing import Any

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
LEGACY_COLOUR = "#6E6E6E"
#: One colour per shipped strategy; a strategy registered later takes a spare colour.
STRATEGY_COLOURS = {
    "incremental": OKABE_ITO[0],
    "differentiated": OKABE_ITO[1],
    "radical": OKABE_ITO[2],
    "adaptive": OKABE_ITO[3],
}
SPARE_COLOURS = OKABE_ITO[4:]
#: The colour of "no winner" (a run whose leader leads by too little to count).
NO_WINNER_COLOUR = "#BBBBBB"

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
    """Colour of the item at ``index`` of a list whose strategies are not known."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def strategy_colours(strategies: list[str]) -> dict[str, str]:
    """A colour per strategy: its own, or for a name without one (a strategy registered
    later, a lever option) the next spare colour, then the palette again."""
    spare = iter(SPARE_COLOURS + OKABE_ITO * (1 + len(strategies) // len(OKABE_ITO)))
    return {s: STRATEGY_COLOURS.get(s) or next(spare) for s in dict.fromkeys(strategies)}


def firm_colours(firms: list[dict[str, Any]]) -> dict[str, str]:
    """A colour per firm (dicts with ``name`` and ``strategy``): its strategy's colour.

    Of several firms following one strategy, the first by name keeps the strategy's
    colour and the others take spare colours, as does a firm whose strategy has none;
    the firms' order in the scenario does not matter.
    """
    taken: set[str] = set()
    spare = [c for c in SPARE_COLOURS]
    colours: dict[str, str] = {}
    for firm in sorted(firms, key=lambda f: (f["strategy"] not in STRATEGY_COLOURS, f["name"])):
        own = STRATEGY_COLOURS.get(firm["strategy"])
        if own is not None and own not in taken:
            colours[firm["name"]] = own
            taken.add(own)
        else:
            colours[firm["name"]] = spare.pop(0) if spare else LEGACY_COLOUR
    return {f["name"]: colours[f["name"]] for f in firms}
