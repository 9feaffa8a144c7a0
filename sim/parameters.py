"""Every model parameter in one schema: default, type, allowed range, unit, meaning,
and when it reaches the model.

The schema validates keyword arguments of :class:`~sim.model.InnovationModel` and
scenario files alike, so both give the same one-line errors that name the key, the
value and what is allowed (:class:`ParameterError`, an :class:`~sim.errors.InputError`).

Some parameters belong to a mechanism that a configuration may not have: the rewiring
probability to the Watts-Strogatz network, the exploration rate to adaptive firms, the
market-wide broadcast intensity to firms that set none of their own.
:func:`unused_parameters` says which parameters cannot reach the model in a given
configuration, and why, so that a scenario that sets one is refused instead of being
silently ignored (docs/ODD.md section 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .network import NETWORKS
from .strategies import STRATEGIES, TUNABLE, chooses_among, uses

__all__ = [
    "FIRM_PARAMETERS",
    "MODEL_PARAMETERS",
    "ParameterError",
    "Spec",
    "check_firms",
    "check_model_parameters",
    "check_strategies",
    "check_value",
    "default_firms",
    "strategy_overrides",
    "unused_parameters",
    "unused_strategy_keys",
]


class ParameterError(InputError):
    """A parameter has a value outside what the model allows."""


#: Why a parameter does not reach the model in a configuration (None: it does).
#: Called with the resolved model parameters and the checked firms.
UseRule = Callable[[dict[str, Any], list[dict[str, Any]]], str | None]


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What one parameter may be, and (``used``) when it reaches the model."""

    section: str
    kind: type
    default: Any
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None
    used: UseRule | None = None

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is list:
            return "a list"
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[
            self.kind
        ]
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
        return ParameterError(key, value, spec.allowed())

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


# ------------------------------------------------------------- when a key is used
def _with_network(*names: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if params["network"] in names:
            return None
        wanted = " or ".join(repr(n) for n in names)
        return (
            f"used only with network.network = {wanted}, and the network is {params['network']!r}"
        )

    return rule


def _with_neighbours(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if params["network"] != "complete":
        return None
    return "not used under complete mixing (network.network = 'complete'), which has no neighbours"


def _with_start(start: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if params["start"] == start:
            return None
        return f"used only with market.start = {start!r}, and the start is {params['start']!r}"

    return rule


def _with_choosing_firm(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if any(chooses_among(f["strategy"]) for f in firms):
        return None
    return "used only by firms that choose among strategies (adaptive), and no firm here does"


#: How the reasons name what a strategy uses (see sim.strategies.INFORMATION).
_USES = {"forecast": "a forecast of future needs", "customer_needs": "an estimate of needs"}


def _with_firm_using(information: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if any(information in uses(f["strategy"]) for f in firms):
            return None
        return f"used only by firms that make {_no_firm(information)}"

    return rule


def _no_firm(information: str) -> str:
    users = ", ".join(sorted(n for n in STRATEGIES if information in uses(n)))
    return f"{_USES[information]} ({users}), and no firm here does"


def _with_future(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if params["market_dynamism"] > 0 or any("forecast" in uses(f["strategy"]) for f in firms):
        return None
    return (
        "used only when needs drift (market.market_dynamism > 0) or by firms that make "
        + _no_firm("forecast")
    )


def _default_for_firms(name: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        own = [f["name"] for f in firms if name in f]
        if len(own) < len(firms):
            return None
        keys = ", ".join(f"firms.{n}.{name}" for n in own[:3]) + (", ..." if len(own) > 3 else "")
        return (
            f"every firm sets its own {name} ({keys}), which overrides this market-wide "
            f"default, so it would change nothing; set firms.*.{name} (every firm) or "
            f"firms.NAME.{name} instead"
        )

    return rule


MODEL_PARAMETERS: dict[str, Spec] = {
    # market
    "n_customers": Spec(
        section="market",
        kind=int,
        default=2000,
        help="number of customers N",
        unit="customers",
        low=2,
        high=20_000_000,
    ),
    "start": Spec(
        section="market",
        kind=str,
        default="spread",
        help="initial condition: customers spread evenly over the firms' first products, "
        "or all on a legacy product no firm improves",
        choices=("spread", "legacy"),
    ),
    "n_dims": Spec(
        section="market",
        kind=int,
        default=2,
        help="dimensions D of the attribute (needs) space",
        unit="",
        low=1,
        high=10,
    ),
    "market_dynamism": Spec(
        section="market",
        kind=float,
        default=0.0,
        help="rate rho at which needs drift toward the future need point",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    "future_need": Spec(
        section="market",
        kind=float,
        default=0.9,
        help="future need point (the same value on every axis)",
        unit="attribute units",
        low=0.0,
        high=1.0,
        used=_with_future,
    ),
    "forecast_error": Spec(
        section="market",
        kind=float,
        default=0.1,
        help="sd of a radical firm's forecast of the future need point",
        unit="attribute units",
        low=0.0,
        high=1.0,
        used=_with_firm_using("forecast"),
    ),
    "estimate_noise": Spec(
        section="market",
        kind=float,
        default=0.2,
        help="sd of a firm's guess of current needs without co-creators",
        unit="attribute units",
        low=0.0,
        high=1.0,
        used=_with_firm_using("customer_needs"),
    ),
    "initial_quality": Spec(
        section="market",
        kind=float,
        default=1.0,
        help="quality of every firm's first product",
        unit="quality units",
        low=0.0,
        high=100.0,
        used=_with_start("spread"),
    ),
    "legacy_quality": Spec(
        section="market",
        kind=float,
        default=1.0,
        help="quality of the legacy product (start = 'legacy')",
        unit="quality units",
        low=0.0,
        high=100.0,
        used=_with_start("legacy"),
    ),
    # customers
    "loss_aversion_mean": Spec(
        section="customers",
        kind=float,
        default=2.25,
        help="mean loss aversion lambda-bar across customers",
        unit="",
        low=0.0,
        high=20.0,
    ),
    "loss_aversion_sd": Spec(
        section="customers",
        kind=float,
        default=0.3,
        help="sigma of log loss aversion (0: every customer has lambda-bar)",
        unit="",
        low=0.0,
        high=3.0,
    ),
    "alpha": Spec(
        section="customers",
        kind=float,
        default=0.88,
        help="value-function curvature for gains",
        unit="",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    "beta": Spec(
        section="customers",
        kind=float,
        default=0.88,
        help="value-function curvature for losses",
        unit="",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    "initial_trust": Spec(
        section="customers",
        kind=float,
        default=0.5,
        help="initial trust in every firm",
        unit="",
        low=0.0,
        high=1.0,
    ),
    # decision
    "fit_weight": Spec(
        section="decision",
        kind=float,
        default=0.5,
        help="d: value of moving one unit closer to one's needs",
        unit="quality units per attribute unit",
        low=0.0,
        high=10.0,
    ),
    "switching_cost": Spec(
        section="decision",
        kind=float,
        default=0.05,
        help="s: loss of leaving one provider for another",
        unit="quality units",
        low=0.0,
        high=10.0,
    ),
    "learning_cost": Spec(
        section="decision",
        kind=float,
        default=0.3,
        help="l: loss per unit of distance between old and new product",
        unit="quality units per attribute unit",
        low=0.0,
        high=10.0,
    ),
    "cocreation_discount": Spec(
        section="decision",
        kind=float,
        default=0.5,
        help="kappa: share of the learning cost a co-creator is spared",
        unit="",
        low=0.0,
        high=1.0,
    ),
    "social_proof": Spec(
        section="decision",
        kind=float,
        default=0.2,
        help="w_s: gain per unit share of neighbours using the release",
        unit="quality units",
        low=0.0,
        high=10.0,
    ),
    "temperature": Spec(
        section="decision",
        kind=float,
        default=0.02,
        help="tau of the logistic choice (0: adopt exactly when V > 0)",
        unit="value units",
        low=0.0,
        high=10.0,
    ),
    # trust
    "trust_rate": Spec(
        section="trust",
        kind=float,
        default=0.3,
        help="eta: trust moved per unit value of a quality surprise",
        unit="",
        low=0.0,
        high=10.0,
    ),
    "cocreation_trust_growth": Spec(
        section="trust",
        kind=float,
        default=0.01,
        help="delta: a co-creator's trust grows by delta*(1 - T) each step",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    # diffusion and firms' defaults
    "imitation": Spec(
        section="diffusion",
        kind=float,
        default=0.38,
        help="Bass q: awareness from the share of neighbours using a release",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    "broadcast": Spec(
        section="diffusion",
        kind=float,
        default=0.03,
        help="Bass p: awareness from advertising, per step (default for firms that set none)",
        unit="per step",
        low=0.0,
        high=1.0,
        used=_default_for_firms("broadcast"),
    ),
    "cocreation": Spec(
        section="diffusion",
        kind=float,
        default=0.05,
        help="share of a firm's customers who co-create with it (default for firms that set none)",
        unit="",
        low=0.0,
        high=1.0,
        used=_default_for_firms("cocreation"),
    ),
    "exploration": Spec(
        section="diffusion",
        kind=float,
        default=0.1,
        help="epsilon: an adaptive firm's chance of a random strategy",
        unit="",
        low=0.0,
        high=1.0,
        used=_with_choosing_firm,
    ),
    # network
    "network": Spec(
        section="network",
        kind=str,
        default="watts_strogatz",
        help="social network",
        choices=NETWORKS,
    ),
    "mean_degree": Spec(
        section="network",
        kind=int,
        default=10,
        help="mean number of neighbours",
        unit="customers",
        low=1,
        high=10_000,
        used=_with_neighbours,
    ),
    "rewiring": Spec(
        section="network",
        kind=float,
        default=0.1,
        help="Watts-Strogatz rewiring probability",
        unit="",
        low=0.0,
        high=1.0,
        used=_with_network("watts_strogatz"),
    ),
}

#: Keys of one firm's table. ``None`` defaults come from the model or the strategy.
FIRM_PARAMETERS: dict[str, Spec] = {
    # choices are checked against the live registry (see check_firms)
    "strategy": Spec(
        section="firm",
        kind=str,
        default="incremental",
        help="innovation strategy",
        choices=tuple(STRATEGIES),
    ),
    "cocreation": Spec(
        section="firm",
        kind=float,
        default=None,
        help="c_k: share of its customers who co-create",
        unit="",
        low=0,
        high=1,
    ),
    "broadcast": Spec(
        section="firm",
        kind=float,
        default=None,
        help="p_k: Bass advertising intensity",
        unit="per step",
        low=0,
        high=1,
    ),
    "first_release": Spec(
        section="firm",
        kind=int,
        default=None,
        help="step of the first release (default: its cadence; 0 with start = 'legacy')",
        unit="step",
        low=0,
        high=1_000_000,
    ),
    "cadence": Spec(
        section="firm",
        kind=int,
        default=None,
        help="steps between releases",
        unit="steps",
        low=1,
        high=1_000_000,
    ),
    "quality_step_mean": Spec(
        section="firm",
        kind=float,
        default=None,
        help="mean claimed quality gain of a release",
        unit="quality units",
        low=-10,
        high=10,
    ),
    "quality_step_sd": Spec(
        section="firm",
        kind=float,
        default=None,
        help="sd of the claimed quality gain",
        unit="quality units",
        low=0,
        high=10,
    ),
    "move": Spec(
        section="firm",
        kind=float,
        default=None,
        help="share of the way toward its target a release moves",
        unit="",
        low=0,
        high=1,
    ),
    "risk": Spec(
        section="firm",
        kind=float,
        default=None,
        help="sd of true minus claimed quality",
        unit="quality units",
        low=0,
        high=10,
    ),
    "position": Spec(
        section="firm",
        kind=list,
        default=None,
        help="initial position in attribute space (one value per axis in [0, 1])",
    ),
}
assert set(TUNABLE) <= set(FIRM_PARAMETERS)


def default_firms() -> list[dict[str, Any]]:
    """Three firms, one per fixed strategy (docs/ODD.md section 2)."""
    return [{"name": s, "strategy": s} for s in ("incremental", "differentiated", "radical")]


def check_model_parameters(values: dict[str, Any], *, dotted: bool = False) -> dict[str, Any]:
    """Check model parameters against the schema; return every parameter, converted.

    Missing parameters take their defaults. Errors name a parameter by its keyword
    (``loss_aversion_mean``), or with ``dotted`` by its scenario key
    (``customers.loss_aversion_mean``).
    """
    out = {name: spec.default for name, spec in MODEL_PARAMETERS.items()}
    for name, value in values.items():
        spec = MODEL_PARAMETERS.get(name)
        if spec is None:
            raise ParameterError(
                name, reason=f"unknown parameter; known: {', '.join(MODEL_PARAMETERS)}"
            )
        out[name] = check_value(f"{spec.section}.{name}" if dotted else name, value, spec)
    if out["network"] != "complete" and out["mean_degree"] >= out["n_customers"]:
        key = "network.mean_degree" if dotted else "mean_degree"
        raise ParameterError(
            key, out["mean_degree"], f"fewer than n_customers = {out['n_customers']}"
        )
    return out


def check_firms(firms: Any, n_dims: int = 2) -> list[dict[str, Any]]:
    """Normalise firm specifications to a list of dicts with a unique ``name``.

    Accepts strategy names (``"radical"``), dicts with the keys of
    :data:`FIRM_PARAMETERS` plus ``name``, or a dict mapping names to such dicts
    (the scenario-file form). Errors name a key as ``firms.NAME.KEY``.
    """
    if isinstance(firms, dict):
        items = [
            ({**spec, "name": name} if isinstance(spec, dict) else spec)
            for name, spec in firms.items()
        ]
    elif isinstance(firms, list | tuple):
        items = list(firms)
    else:
        raise ParameterError("firms", firms, "a list of firms or a table")
    if not items:
        raise ParameterError("firms", reason="expected at least one firm")
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"name": item, "strategy": item}
        if not isinstance(item, dict):
            raise ParameterError(f"firms[{i}]", item, "a strategy name or a table")
        name = str(item.get("name", item.get("strategy", f"firm{i}")))
        key = f"firms.{name}"
        firm: dict[str, Any] = {"name": name}
        for field_name, value in item.items():
            if field_name == "name":
                continue
            spec = FIRM_PARAMETERS.get(field_name)
            if spec is None:
                raise ParameterError(
                    f"{key}.{field_name}",
                    reason=f"unknown firm key; known: {', '.join(FIRM_PARAMETERS)}",
                )
            if field_name == "position":
                firm["position"] = _check_position(f"{key}.position", value, n_dims)
            elif field_name == "strategy":  # checked against the live registry
                live = Spec(
                    section="firm", kind=str, default=None, help="", choices=tuple(STRATEGIES)
                )
                firm["strategy"] = check_value(f"{key}.strategy", value, live)
            else:
                firm[field_name] = check_value(f"{key}.{field_name}", value, spec)
        firm.setdefault("strategy", "incremental")
        tuned = [k for k in TUNABLE if k in firm]
        options = chooses_among(firm["strategy"])
        if options and tuned:
            raise ParameterError(
                f"{key}.{tuned[0]}",
                reason=f"a firm with strategy {firm['strategy']!r} takes no release "
                f"parameters; it uses those of the strategy it chooses ({', '.join(options)})",
            )
        result.append(firm)
    names = [f["name"] for f in result]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError("firms", reason=f"firm names must be unique, {dupes[0]!r} repeats")
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
        raise ParameterError(key, value, f"a list of {n_dims} numbers in [0, 1] (one per axis)")
    return [float(x) for x in value]


def unused_parameters(params: dict[str, Any], firms: list[dict[str, Any]]) -> dict[str, str]:
    """Model parameters that cannot reach the model in this configuration, with why.

    ``params`` are resolved (every parameter), ``firms`` checked. A parameter is unused
    when the mechanism it belongs to is absent (see each :class:`Spec`'s ``used``);
    a value that switches a mechanism off (a co-creation intensity of 0) still counts
    as used.
    """
    unused = {}
    for name, spec in MODEL_PARAMETERS.items():
        reason = spec.used(params, firms) if spec.used is not None else None
        if reason is not None:
            unused[name] = reason
    return unused


def check_strategies(strategies: Any) -> dict[str, dict[str, float | int]]:
    """Release parameters set for a strategy, ``{name: {key: value}}``: they apply to
    every firm that follows it and to the options of firms that choose among
    strategies; a firm's own value of a key wins over its strategy's."""
    if strategies is None:
        return {}
    if not isinstance(strategies, dict):
        raise ParameterError("strategies", strategies, "a table of strategies' release parameters")
    fixed = [name for name in STRATEGIES if not chooses_among(name)]
    checked: dict[str, dict[str, float | int]] = {}
    for name, table in strategies.items():
        if name not in STRATEGIES or chooses_among(name):
            raise ParameterError(
                f"strategies.{name}",
                reason="expected a strategy that takes release parameters, one of "
                + ", ".join(fixed),
            )
        if not isinstance(table, dict):
            raise ParameterError(f"strategies.{name}", table, "a table of release parameters")
        checked[name] = {}
        for key, value in table.items():
            if key not in TUNABLE:
                raise ParameterError(
                    f"strategies.{name}.{key}", reason=f"unknown key; allowed: {', '.join(TUNABLE)}"
                )
            checked[name][key] = check_value(
                f"strategies.{name}.{key}", value, FIRM_PARAMETERS[key]
            )
    return checked


def unused_strategy_keys(
    strategies: dict[str, dict[str, float | int]], firms: list[dict[str, Any]]
) -> dict[str, str]:
    """Strategy-level keys (``strategies.NAME.KEY``) that reach no firm, with why."""
    unused = {}
    for name, table in strategies.items():
        followers = [f for f in firms if f["strategy"] == name]
        choosers = [f["name"] for f in firms if name in chooses_among(f["strategy"])]
        for key in table:
            if not followers and not choosers:
                reason = f"no firm follows strategy {name!r} or chooses among strategies"
            elif not choosers and all(key in f for f in followers):
                own = ", ".join(f"firms.{f['name']}.{key}" for f in followers)
                reason = f"every firm following {name!r} sets its own {key} ({own})"
            else:
                continue
            unused[f"strategies.{name}.{key}"] = reason
    return unused


def strategy_overrides(firm: dict[str, Any]) -> dict[str, float | int]:
    """The release parameters a firm's table overrides."""
    return {k: firm[k] for k in TUNABLE if k in firm}
