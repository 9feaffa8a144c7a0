"""What the live page draws of a model, as JSON-ready data: the browser draws it.

:class:`ModelView` sends everything once when a model is built (firms, the network's
layout, the value function, the adoption history) and then one small *frame* per
step: the new point of each adoption curve, releases since the last frame, every
customer's firm and the break-even cloud of the chosen firm. The value function and
the break-even terms come from the model's own psychology (:mod:`sim.psychology`,
:meth:`~sim.model.InnovationModel.offer_terms`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..psychology import value
from ..style import LEGACY_COLOUR
from .controls import ClassroomModel
from .layout import network_layout

__all__ = ["ModelView", "value_function_data"]

#: Decimals sent for positions and felt values: plenty for a chart, small JSON.
DECIMALS = 3


def _round(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=float), DECIMALS).tolist()


def value_function_data(
    loss_aversion: float, alpha: float, beta: float, span: float = 1.0
) -> dict[str, Any]:
    """v(x) for the model's λ̄, α, β and for λ = 1, with the two marked points at ±span/2."""
    x = np.linspace(-span, span, 201)
    half = span / 2
    gain = float(value(half, loss_aversion, alpha, beta))
    loss = float(value(-half, loss_aversion, alpha, beta))
    return {
        "x": _round(x),
        "v": _round(value(x, loss_aversion, alpha, beta)),
        "neutral": _round(value(x, 1.0, alpha, beta)),
        "points": [[half, round(gain, 3)], [-half, round(loss, 3)]],
        "ratio": round(abs(loss / gain), 2),
        "label": f"λ̄ = {loss_aversion:.2f}, α = {alpha:.2f}, β = {beta:.2f}",
    }


class ModelView:
    """The page's view of one model: :meth:`start` once, then :meth:`frame` per step.

    With ``full=False`` only the adoption curves are sent (the class's markets).
    """

    def __init__(self, model: ClassroomModel, max_steps: int, *, full: bool = True) -> None:
        self.model = model
        self.max_steps = max_steps
        self.full = full
        self._releases_sent = 0
        #: (firm index, release id) -> share of customers that cleared the bar when the
        #: release was first seen (a release at step 0: at launch exactly)
        self._at_launch: dict[tuple[int, int], float] = {}
        self._series = ["share_legacy"] + [
            key for f in model.firms for key in (f"share_{f.name}", f"share_latest_{f.name}")
        ]

    # ------------------------------------------------------------------ once
    def start(self, firm: int = 0) -> dict[str, Any]:
        """Everything the page needs to draw this model from scratch."""
        model = self.model
        p = model.params
        history = model.datacollector.model_vars
        self._releases_sent = 0
        start = {
            "type": "model",
            "controls": model.controls,
            "max_steps": self.max_steps,
            "n_customers": model.n_customers,
            "legacy": bool(p["start"] == "legacy"),
            "legacy_colour": LEGACY_COLOUR,
            "firms": [
                {"name": f.name, "strategy": f.strategy.name, "colour": colour}
                for f, colour in zip(model.firms, model.firm_colours, strict=True)
            ],
            "series": self._series,
            "history": [
                [step, *(history[key][step] for key in self._series)]
                for step in range(len(history["share_legacy"]))
            ],
            "frame": self.frame(firm),
        }
        if self.full:
            pos, links = network_layout(model)
            start["layout"] = {
                "x": _round(pos[:, 0]),
                "y": _round(pos[:, 1]),
                "links": _round(links.reshape(-1)),
            }
            start["value_function"] = value_function_data(
                p["loss_aversion_mean"], p["alpha"], p["beta"]
            )
        return start

    # ------------------------------------------------------------- per step
    def frame(self, firm: int = 0) -> dict[str, Any]:
        """This step: adoption point, new releases, who uses what, break-even of ``firm``."""
        model = self.model
        history = model.datacollector.model_vars
        firm = firm if 0 <= firm < model.n_firms else 0
        released = np.flatnonzero(model.release_firm >= 0)
        new = released[released >= self._releases_sent]
        self._releases_sent = len(model.release_firm)
        frame = {
            "type": "frame",
            "step": int(model.steps),
            "point": [int(model.steps), *(history[key][-1] for key in self._series)],
            "releases": [[int(model.release_step[r]), int(model.release_firm[r])] for r in new],
            "done": model.steps >= self.max_steps,
        }
        if self.full:
            frame["firm_of"] = "".join(map(str, (model.firm_of + 1).tolist()))
            frame["breakeven"] = self._breakeven(firm)
        return frame

    def _breakeven(self, firm: int) -> dict[str, Any]:
        """Felt gain T·G^α against felt loss λ·L^β of every customer not on the firm's
        latest release, split by whether they clear the bar (V > 0)."""
        model = self.model
        alpha, beta = model.params["alpha"], model.params["beta"]
        terms = model.offer_terms(firm)
        offered = terms["value"].notna().to_numpy()
        gain = (terms["trust"] * terms["gain"] ** alpha).to_numpy()[offered]
        loss = (terms["loss_aversion"] * terms["loss"] ** beta).to_numpy()[offered]
        clears = terms["value"].to_numpy()[offered] > 0
        n = model.n_customers
        key = (firm, int(model.latest[firm]))
        if key not in self._at_launch:
            self._at_launch[key] = float(clears.sum() / n)
        both = np.concatenate([gain, loss])
        limit = float(np.quantile(both, 0.99) * 1.1) if both.size else 1.0
        name = model.firms[firm].name
        return {
            "firm": firm,
            "clear": _round(np.column_stack([loss[clears], gain[clears]]).reshape(-1)),
            "below": _round(np.column_stack([loss[~clears], gain[~clears]]).reshape(-1)),
            "limit": round(max(limit, 0.05), 3),
            "clears_now": float(clears.sum() / n),
            "clears_at_launch": self._at_launch[key],
            "adopted_now": float(model.datacollector.model_vars[f"share_latest_{name}"][-1]),
        }
