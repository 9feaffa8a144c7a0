"""Every model parameter in one schema: default, type, allowed range, unit, meaning.

The schema validates keyword arguments of :class:`~sim.model.InnovationModel` and
scenario files alike, so both give the same one-line errors that name the key, the
value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .network import NETWORKS
from .strategies import STRATEGIES, TUNABLE

__all__ = [
    "FIRM_PARAMETERS",
    "MODEL_PARAMETERS",
    "ParameterError",
    "Spec",
    "check_value",
    "default_firms",
    "validate_firms",
    "validate_model_parameters",
]


class ParameterError(InputError):
    """A parameter has a value outside what the model allows."""


@dataclass(frozen=True)
class Spec:
    """What one parameter may be."""

    section: str
    kind: type
    default: Any
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[
            self.kind
        ]
        if self.kind is list:  # pragma: no cover - lists are described by their owner
            return "a list"
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self._num(self.low)}"
        hi = "" if self.high is None else f"<= {self._num(self.high)}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        return f"{kind} {bounds}".strip()

    def _num(self, x: float) -> str:
        return f"{int(x):_}" if self.kind is int else f"{x:g}"

    def range_text(self) -> str:
        """Short range for documentation: [low, high] or the choices."""
        if self.choices is not None:
            return " | ".join(self.choices)
        if self.kind is bool:
            return "true | false"

        lo = "-inf" if self.low is None else self._num(self.low)
        hi = "inf" if self.high is None else self._num(self.high)
        return f"{'(' if self.low_open else '['}{lo}, {hi}]"


def check_value(key: str, value: Any, spec: Spec) -> Any:
    """Return ``value`` converted to the spec's type, or raise ParameterError."""

    def fail() -> ParameterError:
        return ParameterError(f"{key} = {value!r}: expected {spec.allowed()}")

    if spec.kind is bool:
        if not isinstance(value, bool | int) or (isinstance(value, int) and value not in (0, 1)):
            raise fail()
        return bool(value)
    if spec.kind is str:
        if not isinstance(value, str):
            raise fail()
        if spec.choices is not None and value not in spec.choices:
            raise fail()
        return value
    # numbers: bool is an int in Python but never a valid number here
    if isinstance(value, bool):
        raise fail()
    if spec.kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise fail()
    else:
        if not isinstance(value, int | float):
            raise fail()
        value = float(value)
        if not math.isfinite(value):
            raise fail()
    if spec.low is not None and (value < spec.low or (spec.low_open and value == spec.low)):
        raise fail()
    if spec.high is not None and value > spec.high:
        raise fail()
    return value


P = Spec
MODEL_PARAMETERS: dict[str, Spec] = {
    # market
    "n_customers": P("market", int, 2000, "number of customers N", "customers", 2, 20_000_000),
    "start": P(
        "market",
        str,
        "spread",
        "initial condition: customers spread evenly over the firms' first products, "
        "or all on a legacy product no firm improves",
        choices=("spread", "legacy"),
    ),
    "n_dims": P("market", int, 2, "dimensions D of the attribute (needs) space", "", 1, 10),
    "market_dynamism": P(
        "market",
        float,
        0.0,
        "rate rho at which needs drift toward the future need point",
        "per step",
        0.0,
        1.0,
    ),
    "future_need": P(
        "market",
        float,
        0.9,
        "future need point (the same value on every axis)",
        "attribute units",
        0.0,
        1.0,
    ),
    "forecast_error": P(
        "market",
        float,
        0.1,
        "sd of a radical firm's forecast of the future need point",
        "attribute units",
        0.0,
        1.0,
    ),
    "estimate_noise": P(
        "market",
        float,
        0.2,
        "sd of a firm's guess of current needs without co-creators",
        "attribute units",
        0.0,
        1.0,
    ),
    "initial_quality": P(
        "market", float, 1.0, "quality of every firm's first product", "quality units", 0.0, 100.0
    ),
    "legacy_quality": P(
        "market",
        float,
        1.0,
        "quality of the legacy product (start = 'legacy')",
        "quality units",
        0.0,
        100.0,
    ),
    # customers
    "loss_aversion_mean": P(
        "customers", float, 2.25, "mean loss aversion lambda-bar across customers", "", 0.0, 20.0
    ),
    "loss_aversion_sd": P(
        "customers",
        float,
        0.3,
        "sigma of log loss aversion (0: every customer has lambda-bar)",
        "",
        0.0,
        3.0,
    ),
    "alpha": P("customers", float, 0.88, "value-function curvature for gains", "", 0.0, 1.0, True),
    "beta": P("customers", float, 0.88, "value-function curvature for losses", "", 0.0, 1.0, True),
    "initial_trust": P("customers", float, 0.5, "initial trust in every firm", "", 0.0, 1.0),
    # decision
    "fit_weight": P(
        "decision",
        float,
        0.5,
        "d: value of moving one unit closer to one's needs",
        "quality units per attribute unit",
        0.0,
        10.0,
    ),
    "switching_cost": P(
        "decision",
        float,
        0.05,
        "s: loss of leaving one provider for another",
        "quality units",
        0.0,
        10.0,
    ),
    "learning_cost": P(
        "decision",
        float,
        0.3,
        "l: loss per unit of distance between old and new product",
        "quality units per attribute unit",
        0.0,
        10.0,
    ),
    "cocreation_discount": P(
        "decision",
        float,
        0.5,
        "kappa: share of the learning cost a co-creator is spared",
        "",
        0.0,
        1.0,
    ),
    "social_proof": P(
        "decision",
        float,
        0.2,
        "w_s: gain per unit share of neighbours using the release",
        "quality units",
        0.0,
        10.0,
    ),
    "temperature": P(
        "decision",
        float,
        0.02,
        "tau of the logistic choice (0: adopt exactly when V > 0)",
        "value units",
        0.0,
        10.0,
    ),
    # trust
    "trust_rate": P(
        "trust", float, 0.3, "eta: trust moved per unit value of a quality surprise", "", 0.0, 10.0
    ),
    "cocreation_trust_growth": P(
        "trust",
        float,
        0.01,
        "delta: a co-creator's trust grows by delta*(1 - T) each step",
        "per step",
        0.0,
        1.0,
    ),
    # diffusion and firms' defaults
    "imitation": P(
        "diffusion",
        float,
        0.38,
        "Bass q: awareness from the share of neighbours using a release",
        "per step",
        0.0,
        1.0,
    ),
    "broadcast": P(
        "diffusion",
        float,
        0.03,
        "Bass p: awareness from advertising, per step (default for firms that set none)",
        "per step",
        0.0,
        1.0,
    ),
    "cocreation": P(
        "diffusion",
        float,
        0.05,
        "share of a firm's customers who co-create with it (default for firms that set none)",
        "",
        0.0,
        1.0,
    ),
    "exploration": P(
        "diffusion",
        float,
        0.1,
        "epsilon: an adaptive firm's chance of a random strategy",
        "",
        0.0,
        1.0,
    ),
    # network
    "network": P("network", str, "watts_strogatz", "social network", choices=NETWORKS),
    "mean_degree": P("network", int, 10, "mean number of neighbours", "customers", 1, 10_000),
    "rewiring": P("network", float, 0.1, "Watts-Strogatz rewiring probability", "", 0.0, 1.0),
}

#: Keys of one firm's table. ``None`` defaults come from the model or the strategy.
FIRM_PARAMETERS: dict[str, Spec] = {
    # choices are checked against the live registry (see validate_firms)
    "strategy": P("firm", str, "incremental", "innovation strategy", choices=tuple(STRATEGIES)),
    "cocreation": P("firm", float, None, "c_k: share of its customers who co-create", "", 0, 1),
    "broadcast": P("firm", float, None, "p_k: Bass advertising intensity", "per step", 0, 1),
    "first_release": P(
        "firm",
        int,
        None,
        "step of the first release (default: its cadence; 0 with start = 'legacy')",
        "step",
        0,
        1_000_000,
    ),
    "cadence": P("firm", int, None, "steps between releases", "steps", 1, 1_000_000),
    "quality_step_mean": P(
        "firm", float, None, "mean claimed quality gain of a release", "quality units", -10, 10
    ),
    "quality_step_sd": P(
        "firm", float, None, "sd of the claimed quality gain", "quality units", 0, 10
    ),
    "move": P("firm", float, None, "share of the way toward its target a release moves", "", 0, 1),
    "risk": P("firm", float, None, "sd of true minus claimed quality", "quality units", 0, 10),
    "position": P(
        "firm", list, None, "initial position in attribute space (one value per axis in [0, 1])"
    ),
}
assert set(TUNABLE) <= set(FIRM_PARAMETERS)


def default_firms() -> list[dict[str, Any]]:
    """Three firms, one per fixed strategy (MODEL.md default)."""
    return [{"name": s, "strategy": s} for s in ("incremental", "differentiated", "radical")]


def validate_model_parameters(values: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Check model keyword values against the schema; return them converted."""
    out = {}
    for name, value in values.items():
        spec = MODEL_PARAMETERS.get(name)
        if spec is None:
            raise ParameterError(
                f"{where}{name}: unknown parameter; known: {', '.join(MODEL_PARAMETERS)}"
            )
        out[name] = check_value(f"{where}{spec.section}.{name}" if where else name, value, spec)
    if out.get("mean_degree", 10) >= out.get("n_customers", 2000):
        raise ParameterError(
            f"{where}network.mean_degree = {out['mean_degree']!r}: expected fewer than "
            f"n_customers = {out['n_customers']}"
        )
    return out


def validate_firms(firms: Any, n_dims: int = 2, where: str = "") -> list[dict[str, Any]]:
    """Normalise firm specifications to a list of dicts with a unique ``name``.

    Accepts strategy names (``"radical"``), dicts with the keys of
    :data:`FIRM_PARAMETERS` plus ``name``, or a dict mapping names to such dicts
    (the scenario-file form).
    """
    prefix = f"{where}firms"
    if isinstance(firms, dict):
        items = [
            ({**spec, "name": name} if isinstance(spec, dict) else spec)
            for name, spec in firms.items()
        ]
    elif isinstance(firms, list | tuple):
        items = list(firms)
    else:
        raise ParameterError(f"{prefix} = {firms!r}: expected a list of firms or a table")
    if not items:
        raise ParameterError(f"{prefix}: expected at least one firm")
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"name": item, "strategy": item}
        if not isinstance(item, dict):
            raise ParameterError(f"{prefix}[{i}] = {item!r}: expected a strategy name or a table")
        name = str(item.get("name", item.get("strategy", f"firm{i}")))
        key = f"{prefix}.{name}"
        firm: dict[str, Any] = {"name": name}
        for field_name, value in item.items():
            if field_name == "name":
                continue
            spec = FIRM_PARAMETERS.get(field_name)
            if spec is None:
                raise ParameterError(
                    f"{key}.{field_name}: unknown firm key; known: {', '.join(FIRM_PARAMETERS)}"
                )
            if field_name == "position":
                firm["position"] = _check_position(f"{key}.position", value, n_dims)
            elif field_name == "strategy":
                live = Spec("firm", str, None, spec.help, choices=tuple(STRATEGIES))
                firm["strategy"] = check_value(f"{key}.strategy", value, live)
            else:
                firm[field_name] = check_value(f"{key}.{field_name}", value, spec)
        firm.setdefault("strategy", "incremental")
        tuned = [k for k in TUNABLE if k in firm]
        if firm["strategy"] == "adaptive" and tuned:
            raise ParameterError(
                f"{key}.{tuned[0]}: an adaptive firm takes no release parameters; "
                "it uses those of the strategy it chooses"
            )
        result.append(firm)
    names = [f["name"] for f in result]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"{prefix}: firm names must be unique, {dupes[0]!r} repeats")
    return result


def _check_position(key: str, value: Any, n_dims: int) -> list[float]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == n_dims
        and all(
            isinstance(x, int | float) and not isinstance(x, bool) and 0.0 <= x <= 1.0
            for x in value
        )
    )
    if not ok:
        raise ParameterError(
            f"{key} = {value!r}: expected a list of {n_dims} numbers in [0, 1] (one per axis)"
        )
    return [float(x) for x in value]


def strategy_overrides(firm: dict[str, Any]) -> dict[str, float | int]:
    """The release parameters a firm's table overrides."""
    return {k: firm[k] for k in TUNABLE if k in firm}
