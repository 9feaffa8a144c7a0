"""A market's configuration, checked: model parameters, firms, strategies' parameters.

:func:`check_model_parameters`, :func:`check_firms` and :func:`check_strategies` turn
what a caller wrote (keyword arguments, a scenario's tables) into the checked form the
model is built from, with one-line errors naming each key as a scenario writes it
(``customers.loss_aversion_mean``, ``firms.NAME.KEY``, ``strategies.NAME.KEY``). Values
are checked by :func:`sim.spec.check_value` against the tables of :mod:`sim.parameters`.
The default market (one firm per fixed strategy) is defined here, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .parameters import (
    DEFAULT_STRATEGY,
    FIRM_PARAMETERS,
    MODEL_PARAMETERS,
    REPLACED_KEYS,
    STRATEGY_PARAMETERS,
)
from .spec import ParameterError, check_value
from .strategies import STRATEGIES, TUNABLE, chooses_among

__all__ = [
    "DEFAULT_MARKET",
    "check_firms",
    "check_model_parameters",
    "check_strategies",
    "default_firms",
    "strategy_overrides",
    "unknown_key",
]

#: The default market: one firm per fixed strategy, named after it (docs/ODD.md section 2).
DEFAULT_MARKET: tuple[str, ...] = ("incremental", "differentiated", "radical")


def default_firms() -> list[dict[str, Any]]:
    """The default market's firms, ``[{"name": ..., "strategy": ...}, ...]`` (new dicts)."""
    return [{"name": s, "strategy": s} for s in DEFAULT_MARKET]


def unknown_key(
    key: str, allowed: Iterable[str], what: str = "unknown key; allowed"
) -> ParameterError:
    """The error for a key a table does not have: what replaced it, if it once existed
    (:data:`~sim.parameters.REPLACED_KEYS`), else the keys allowed."""
    name = key.rsplit(".", 1)[-1]
    if name in REPLACED_KEYS:
        return ParameterError(key, reason=f"no longer exists: {REPLACED_KEYS[name]}")
    return ParameterError(key, reason=f"{what}: {', '.join(allowed)}")


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
    :data:`~sim.parameters.FIRM_PARAMETERS` plus ``name``, or a dict mapping names to
    such dicts (the scenario-file form). Errors name a key as ``firms.NAME.KEY``.
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
                raise unknown_key(f"{key}.{field_name}", FIRM_PARAMETERS, "unknown firm key; known")
            if field_name == "position":
                firm["position"] = _check_position(f"{key}.position", value, n_dims)
            else:
                firm[field_name] = check_value(f"{key}.{field_name}", value, spec)
        firm.setdefault("strategy", DEFAULT_STRATEGY)
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
            spec = STRATEGY_PARAMETERS.get(key)
            if spec is None:
                raise unknown_key(f"strategies.{name}.{key}", STRATEGY_PARAMETERS)
            checked[name][key] = check_value(f"strategies.{name}.{key}", value, spec)
    return checked


def strategy_overrides(firm: dict[str, Any]) -> dict[str, float | int]:
    """The release parameters a firm's table overrides."""
    return {k: firm[k] for k in TUNABLE if k in firm}
