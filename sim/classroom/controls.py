"""The classroom's controls and the model they build.

The page shows one control per entry of :data:`CONTROLS`; pressing Reset builds a
:class:`ClassroomModel` from their values, checked by :func:`check_controls`.
Lessons set the same keywords, plus fixed ones the page does not show (``extra``
model keywords and ``release``, the release parameters of every firm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..keys import parse_key
from ..model import InnovationModel
from ..spec import ParameterError, Spec, check_value, integer
from ..strategies import chooses_among
from ..style import firm_colour

__all__ = [
    "CONTROLS",
    "DEFAULTS",
    "FIRM_SLOTS",
    "FIXED",
    "OFF",
    "ClassroomModel",
    "Control",
    "check_controls",
    "full_settings",
]


#: The value that leaves firm B or C out of the market.
OFF = "off"
#: Firm names on the page; a firm's colour follows its slot, so it never changes.
FIRM_SLOTS = ("A", "B", "C")


@dataclass(frozen=True)
class Control:
    """One control of the page: a slider or a choice for one scenario ``key``.

    Its label, limits, step and choices come from the key's entry in the parameter
    table (:mod:`sim.parameters`: ``label`` and the slider's ``interactive`` range), and
    its values are checked by the project's one validator against that range. A control
    may add choices of its own (``extra``: a firm that is ``"off"``) and its own
    ``title`` and ``start`` value.
    """

    name: str
    key: str
    title: str = ""
    start: Any = None
    extra: tuple[str, ...] = ()

    @property
    def spec(self) -> Spec:
        """The key's spec, narrowed to the slider's range."""
        spec = parse_key(self.key).spec
        return spec.within(spec.interactive) if spec.interactive is not None else spec

    @property
    def label(self) -> str:
        return self.title or parse_key(self.key).spec.label

    @property
    def default(self) -> Any:
        return parse_key(self.key).spec.default if self.start is None else self.start

    @property
    def kind(self) -> str:
        """How the page draws it: "select", "int" or "float"."""
        spec = self.spec
        if spec.options is not None:
            return "select"
        return "int" if spec.kind is int else "float"

    @property
    def choices(self) -> tuple[str, ...]:
        return (*self.extra, *(self.spec.options or ()))

    def check(self, value: Any) -> Any:
        """``value`` as this control holds it; raises :class:`InputError` if not allowed."""
        if value in self.extra:
            return value
        return check_value(self.name, value, self.spec, InputError)

    def describe(self) -> dict[str, Any]:
        """This control as the page draws it (JSON)."""
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "default": self.default,
        }
        if self.kind == "select":
            out["choices"] = self.choices
        else:
            bounds = parse_key(self.key).spec.interactive
            assert bounds is not None, f"{self.key} has no slider range in the parameter table"
            out |= {"low": bounds.low, "high": bounds.high, "step": bounds.step}
        return out


CONTROLS: tuple[Control, ...] = (
    Control("loss_aversion_mean", "customers.loss_aversion_mean"),
    Control("initial_trust", "customers.initial_trust"),
    Control("cocreation", "diffusion.cocreation"),
    Control("firm_a", "firms.A.strategy", "Firm A strategy", "incremental"),
    Control("firm_b", "firms.B.strategy", "Firm B strategy", "differentiated", (OFF,)),
    Control("firm_c", "firms.C.strategy", "Firm C strategy", "radical", (OFF,)),
    Control("start", "market.start"),
    Control("market_dynamism", "market.market_dynamism"),
    Control("n_customers", "market.n_customers", start=1000),
    Control("seed", "run.seed"),
)
DEFAULTS: dict[str, Any] = {c.name: c.default for c in CONTROLS}
#: Settings a lesson may fix that have no control on the page.
FIXED = ("release", "extra")
_BY_NAME = {c.name: c for c in CONTROLS}
#: Most customers the page offers: drawing stays fluid up to here.
MAX_CUSTOMERS = int(_BY_NAME["n_customers"].spec.high or 0)


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
    launch_step, ...) of every firm with a fixed strategy; ``extra`` holds any
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
        seed = integer("seed", seed, low=0)
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
