"""What the live page draws of a model, as JSON-ready data: the browser draws it.

:class:`ModelView` sends everything once when a model is built (firms, the network's
layout, the value function, the adoption history) and then one small *frame* per
step: the new point of each adoption curve, releases since the last frame, every
customer's firm and the break-even cloud of the chosen firm. The value function and
the break-even terms come from the model's own psychology (:mod:`sim.psychology`,
:meth:`~sim.model.InnovationModel.offer_terms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..psychology import value
from ..style import LEGACY_COLOUR
from .controls import ClassroomModel
from .layout import network_layout

__all__ = ["ModelView", "OfferCloud", "offer_cloud", "value_function_data"]

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


@dataclass(frozen=True)
class OfferCloud:
    """A firm's latest release as every customer not yet on it weighs it (the break-even
    panel): gain G and loss L, felt gain T·G^α and felt loss λ·L^β, whether V > 0."""

    gain: np.ndarray
    loss: np.ndarray
    felt_gain: np.ndarray
    felt_loss: np.ndarray
    clears: np.ndarray
    #: the felt gain if every neighbour used the release (social proof at its largest)
    felt_gain_at_most: np.ndarray
    n_customers: int

    @property
    def share_clearing(self) -> float:
        """Share of *all* customers that clear the bar ("clears the bar" on the page)."""
        return float(self.clears.sum() / self.n_customers)

    def axis_limit(self) -> float:
        """An axis end that holds the cloud from now until the firm's next release: the
        99th percentile of felt losses and of the largest felt gains social proof can
        bring, plus 10 %."""
        both = np.concatenate([self.felt_gain_at_most, self.felt_loss])
        return max(float(np.quantile(both, 0.99)) * 1.1, 0.05) if both.size else 1.0


def offer_cloud(model: ClassroomModel, firm: int) -> OfferCloud:
    """The break-even terms of ``firm``'s latest release (:meth:`offer_terms`)."""
    p = model.params
    alpha, beta = p["alpha"], p["beta"]
    terms = model.offer_terms(firm)
    offered = terms["value"].notna().to_numpy()
    gain = terms["gain"].to_numpy()[offered]
    loss = terms["loss"].to_numpy()[offered]
    trust = terms["trust"].to_numpy()[offered]
    return OfferCloud(
        gain=gain,
        loss=loss,
        felt_gain=trust * gain**alpha,
        felt_loss=terms["loss_aversion"].to_numpy()[offered] * loss**beta,
        clears=terms["value"].to_numpy()[offered] > 0,
        felt_gain_at_most=trust * (gain + p["social_proof"]) ** alpha,
        n_customers=model.n_customers,
    )


class ModelView:
    """The page's view of one model: :meth:`start` once, then :meth:`frame` per step.

    With ``full=False`` only the adoption curves are sent (the class's markets).
    """

    def __init__(self, model: ClassroomModel, max_steps: int, *, full: bool = True) -> None:
        self.model = model
        self.max_steps = max_steps
        self.full = full
        self._releases_sent = 0
        #: (firm index, release id) -> (share of customers that cleared the bar when the
        #: release was first seen (a release at step 0: at launch exactly), axis end)
        self._at_launch: dict[tuple[int, int], tuple[float, float]] = {}
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
        latest release, split by whether they clear the bar (V > 0). The axes' end is
        fixed when the release is first drawn, so they hold still until the next one.
        Before its first release a firm offers its first product: ``released`` is false
        and there is no launch to speak of."""
        model = self.model
        cloud = offer_cloud(model, firm)
        release = int(model.latest[firm])
        key = (firm, release)
        if key not in self._at_launch:
            self._at_launch[key] = (cloud.share_clearing, round(cloud.axis_limit(), 3))
        at_launch, limit = self._at_launch[key]
        clears = cloud.clears
        name = model.firms[firm].name
        return {
            "firm": firm,
            "released": bool(model.release_generation[release] > 0),
            "clear": _round(
                np.column_stack([cloud.felt_loss[clears], cloud.felt_gain[clears]]).reshape(-1)
            ),
            "below": _round(
                np.column_stack([cloud.felt_loss[~clears], cloud.felt_gain[~clears]]).reshape(-1)
            ),
            "limit": limit,
            "clears_now": cloud.share_clearing,
            "clears_at_launch": at_launch,
            "adopted_now": float(model.datacollector.model_vars[f"share_latest_{name}"][-1]),
        }
