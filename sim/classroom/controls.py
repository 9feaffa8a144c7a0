"""The classroom's controls and the model they build.

The page shows one control per entry of :data:`CONTROLS`; pressing Reset builds a
:class:`ClassroomModel` from their values, checked by :func:`check_controls`.
Lessons set the same keywords, plus fixed ones the page does not show (``extra``
model keywords and ``release``, the release parameters of every firm).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InputError
from ..model import InnovationModel
from ..parameters import ParameterError
from ..strategies import STRATEGIES, chooses_among
from ..style import firm_colour

__all__ = [
    "CONTROLS",
    "DEFAULTS",
    "FIRM_SLOTS",
    "FIXED",
    "OFF",
    "STRATEGY_CHOICES",
    "ClassroomModel",
    "Control",
    "check_controls",
    "full_settings",
]


#: Strategies a firm can follow on the page: every registered one.
STRATEGY_CHOICES: tuple[str, ...] = tuple(STRATEGIES)
#: The value that leaves firm B or C out of the market.
OFF = "off"
#: Firm names on the page; a firm's colour follows its slot, so it never changes.
FIRM_SLOTS = ("A", "B", "C")
#: Most customers the page offers: drawing stays fluid up to here.
MAX_CUSTOMERS = 2000


@dataclass(frozen=True)
class Control:
    """One control of the page: a slider or a choice."""

    name: str
    label: str
    kind: str  # "float", "int" or "select"
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> Any:
        """``value`` as this control holds it; raises :class:`InputError` if not allowed."""
        if self.kind == "select":
            if value not in self.choices:
                raise InputError(self.name, value, f"one of {', '.join(self.choices)}")
            return value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        whole = self.kind == "int"
        allowed = f"{'an integer' if whole else 'a number'} in {self.low:g}..{self.high:g}"
        if not number or not math.isfinite(value) or (whole and value != int(value)):
            raise InputError(self.name, value, allowed)
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            raise InputError(self.name, value, allowed)
        value = int(value) if whole else float(value)
        return value

    def describe(self) -> dict[str, Any]:
        """This control as the page draws it (JSON)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, ())}


CONTROLS: tuple[Control, ...] = (
    Control("loss_aversion_mean", "Mean loss aversion λ̄", "float", 2.25, 0.5, 4.0, 0.05),
    Control("initial_trust", "Initial trust T", "float", 0.5, 0.0, 1.0, 0.05),
    Control("cocreation", "Co-creation intensity c", "float", 0.05, 0.0, 1.0, 0.05),
    Control("firm_a", "Firm A strategy", "select", "incremental", choices=STRATEGY_CHOICES),
    Control(
        "firm_b", "Firm B strategy", "select", "differentiated", choices=(OFF, *STRATEGY_CHOICES)
    ),
    Control("firm_c", "Firm C strategy", "select", "radical", choices=(OFF, *STRATEGY_CHOICES)),
    Control("start", "Customers start on", "select", "spread", choices=("spread", "legacy")),
    Control("market_dynamism", "Market dynamism ρ", "float", 0.0, 0.0, 0.05, 0.001),
    Control("n_customers", "Number of customers N", "int", 1000, 100, MAX_CUSTOMERS, 100),
    Control("seed", "Seed", "int", 42, 0, 100, 1),
)
DEFAULTS: dict[str, Any] = {c.name: c.default for c in CONTROLS}
#: Settings a lesson may fix that have no control on the page.
FIXED = ("release", "extra")
_BY_NAME = {c.name: c for c in CONTROLS}


def full_settings(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every control's value (its default unless ``settings`` has it) and the fixed keys."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_BY_NAME) - set(FIXED))
    if unknown:
        raise ParameterError(
            f"{unknown[0]}: unknown classroom setting; known: {', '.join([*_BY_NAME, *FIXED])}"
        )
    return {**DEFAULTS, **dict.fromkeys(FIXED), **settings}


def check_controls(values: Mapping[str, Any]) -> dict[str, Any]:
    """The page's control values, each checked (:meth:`Control.check`); unknown keys and
    values out of range raise :class:`InputError`."""
    if not isinstance(values, Mapping):
        raise InputError("settings", values, "an object of control values")
    unknown = sorted(set(values) - set(_BY_NAME))
    if unknown:
        raise InputError(unknown[0], reason=f"unknown control; known: {', '.join(_BY_NAME)}")
    return {key: _BY_NAME[key].check(value) for key, value in values.items()}


class ClassroomModel(InnovationModel):
    """An :class:`~sim.model.InnovationModel` built from the page's controls.

    Up to three firms, A, B and C (B and C may be ``"off"``); ``seed`` is the model's
    random seed; ``release`` overrides the release parameters (cadence,
    quality_step_mean, ...) of every firm with a fixed strategy; ``extra`` holds any
    other model keywords (alpha, beta, temperature, ...). ``firm_colours`` gives each
    firm its slot's colour, the same in every panel.
    """

    def __init__(
        self,
        *,
        loss_aversion_mean: float = DEFAULTS["loss_aversion_mean"],
        initial_trust: float = DEFAULTS["initial_trust"],
        cocreation: float = DEFAULTS["cocreation"],
        firm_a: str = DEFAULTS["firm_a"],
        firm_b: str = DEFAULTS["firm_b"],
        firm_c: str = DEFAULTS["firm_c"],
        start: str = DEFAULTS["start"],
        market_dynamism: float = DEFAULTS["market_dynamism"],
        n_customers: int = DEFAULTS["n_customers"],
        seed: int | str = DEFAULTS["seed"],
        release: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        try:
            seed = int(given["seed"])
        except (TypeError, ValueError):
            raise ParameterError("seed", given["seed"], "an integer >= 0") from None
        if seed < 0:
            raise ParameterError("seed", seed, "an integer >= 0")
        firms, slots = [], []
        for slot, (name, key) in enumerate(
            zip(FIRM_SLOTS, ("firm_a", "firm_b", "firm_c"), strict=True)
        ):
            strategy = given[key]
            if strategy == OFF:
                continue
            spec: dict[str, Any] = {"name": name, "strategy": strategy}
            if not chooses_among(strategy):  # a firm that chooses takes no release overrides
                spec.update(given["release"] or {})
            firms.append(spec)
            slots.append(slot)
        if not firms:
            raise ParameterError("firm_a", "off", "at least one firm")
        self.controls: dict[str, Any] = {c.name: given[c.name] for c in CONTROLS}
        self.controls["seed"] = seed
        self.firm_slots: list[int] = slots
        self.firm_colours: list[str] = [firm_colour(slot) for slot in slots]
        super().__init__(
            n_customers=int(given["n_customers"]),
            firms=firms,
            start=given["start"],
            loss_aversion_mean=float(given["loss_aversion_mean"]),
            initial_trust=float(given["initial_trust"]),
            cocreation=float(given["cocreation"]),
            market_dynamism=float(given["market_dynamism"]),
            customer_agents=False,
            rng=seed,
            **dict(given["extra"] or {}),
        )
