"""Factor tables of an experiment file to :class:`~.experiment.Factor` objects.

A factor is explicit ``values`` or a range (``low``, ``high``) on one or more scenario
keys (``firms.*.KEY`` for every firm, judged as one key; ``firms.{other}.KEY`` names
another factor's level). Each key must exist and each level (or each end of a range)
must be an allowed value of its key; combinations are checked per design point by the
loader.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import InputError
from ..keys import check, parse_key
from ..scenario import Scenario
from ..spec import Range, check_type
from .columns import RESERVED, RESERVED_PREFIXES
from .experiment import ExperimentError, Factor, is_integer_key

__all__ = ["FACTOR_KEYS", "parse_factors", "typed"]

FACTOR_KEYS = ("key", "keys", "values", "low", "high", "levels", "scale", "label", "labels")


def typed(key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    """``value`` if it is of ``kind`` (ints accepted as floats), else a one-line error
    (:func:`sim.spec.check_type`, as an :class:`ExperimentError`)."""
    return check_type(key, value, kind, ExperimentError)


def unknown(key: str, allowed: tuple[str, ...] | list[str]) -> ExperimentError:
    """An unknown key, with the allowed ones."""
    return ExperimentError(key, reason=f"unknown key; allowed: {', '.join(allowed)}")


def _flatten_factors(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Factor specs by name; unquoted dotted keys in TOML nest tables, undone here."""
    out: dict[str, Any] = {}
    for name, spec in table.items():
        full = f"{prefix}{name}"
        if isinstance(spec, dict) and spec and not set(spec) & set(FACTOR_KEYS):
            out.update(_flatten_factors(spec, f"{full}."))
        else:
            out[full] = spec
    return out


def parse_factors(table: Any, base: Scenario, design: str) -> list[Factor]:
    """Every factor of a ``[factors]`` table, checked against the base scenario."""
    factors = [_factor(name, spec, base, design) for name, spec in _flatten_factors(table).items()]
    names = {f.name for f in factors}
    for factor in factors:
        for key in factor.keys:
            for ref in re.findall(r"{([^{}]*)}", key):
                if ref not in names or ref == factor.name:
                    raise ExperimentError(
                        f"factors.{factor.name}.key",
                        key,
                        "braces naming another factor, one of "
                        + (", ".join(sorted(names - {factor.name})) or "none"),
                    )
    return factors


def _factor(name: str, spec: Any, base: Scenario, design: str) -> Factor:
    where = f"factors.{name}"
    if name in RESERVED or name.startswith(RESERVED_PREFIXES):
        raise ExperimentError(
            where,
            reason=f"the name {name!r} is taken by a results column; "
            "rename the factor (its key stays the same)",
        )
    if isinstance(spec, list):
        spec = {"values": spec}
    if not isinstance(spec, dict):
        raise ExperimentError(where, spec, "a list of values or a table {key, values | low, high}")
    for key in spec:
        if key not in FACTOR_KEYS:
            raise unknown(f"{where}.{key}", FACTOR_KEYS)
    if "key" in spec and "keys" in spec:
        raise ExperimentError(where, reason="give key or keys, not both")
    raw_keys = spec.get("keys", [spec.get("key", name)])
    if not isinstance(raw_keys, list):
        raise ExperimentError(f"{where}.keys", raw_keys, "a list of dotted keys")
    keys = [typed(f"{where}.key", key, str) for key in raw_keys]
    for key in keys:
        if "{" not in key:  # a key naming another factor's level is checked per point
            _check_key(key, where, base)
    label = typed(f"{where}.label", spec.get("label", ""), str)
    integer = all(is_integer_key(k) for k in keys)
    if ("values" in spec) == ("low" in spec or "high" in spec):
        raise ExperimentError(where, reason="expected either values = [...] or low and high")
    if "values" in spec:
        return _values_factor(name, spec, tuple(keys), label, design)
    for key in ("low", "high"):
        if key not in spec:
            raise ExperimentError(f"{where}.{key}", reason="missing; a range needs low and high")
        typed(f"{where}.{key}", spec[key], (int, float))
    low, high = float(spec["low"]), float(spec["high"])
    if not low < high:
        raise ExperimentError(f"{where}.high", spec["high"], f"a number > low = {spec['low']}")
    bounds = Range(low, high, integer=integer)
    levels = typed(f"{where}.levels", spec.get("levels", 5), int)
    if levels < 2:
        raise ExperimentError(f"{where}.levels", levels, "an integer >= 2")
    scale = spec.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ExperimentError(f"{where}.scale", scale, "one of 'linear', 'log'")
    if scale == "log" and low <= 0:
        raise ExperimentError(f"{where}.low", spec["low"], "a number > 0 for scale = 'log'")
    if spec.get("labels") is not None:
        raise ExperimentError(f"{where}.labels", reason="only for explicit values")
    for key in keys:  # both ends of the range must be allowed values of every key
        for end, bound in zip(("low", "high"), bounds.ends(), strict=True):
            _check_level(key, bound, f"{where}.{end}")
    return Factor(name, tuple(keys), span=bounds, levels=levels, scale=scale, label=label)


def _values_factor(
    name: str, spec: dict[str, Any], keys: tuple[str, ...], label: str, design: str
) -> Factor:
    where = f"factors.{name}"
    values = typed(f"{where}.values", spec["values"], list)
    if not values:
        raise ExperimentError(f"{where}.values", values, "a non-empty list")
    for key in ("levels", "scale"):
        if key in spec:
            raise ExperimentError(f"{where}.{key}", reason="only for a range (low, high)")
    for value in values:
        if isinstance(value, list) and len(value) != len(keys):
            raise ExperimentError(
                f"{where}.values", value, f"a list of {len(keys)} values, one per key"
            )
        if isinstance(value, dict):
            raise ExperimentError(f"{where}.values", value, "scalars or lists")
    if len({json.dumps(v) for v in values}) != len(values):
        raise ExperimentError(f"{where}.values", values, "distinct values")
    labels = spec.get("labels")
    if labels is not None:
        labels = typed(f"{where}.labels", labels, list)
        if len(labels) != len(values) or not all(isinstance(x, str) for x in labels):
            raise ExperimentError(
                f"{where}.labels", labels, f"{len(values)} strings, one per value"
            )
    if design == "sobol":
        raise ExperimentError(
            where, reason="a sobol design samples ranges; expected low and high, not values"
        )
    for value in values:  # every level must be an allowed value of its key
        parts = value if isinstance(value, list) else [value] * len(keys)
        for key, part in zip(keys, parts, strict=True):
            _check_level(key, part, f"{where}.values")
    return Factor(
        name, keys, values=tuple(values), label=label, labels=tuple(labels) if labels else None
    )


def _check_key(key: str, where: str, base: Scenario) -> None:
    """The key must name a model key of the base scenario (:func:`sim.keys.parse_key`)."""
    try:
        parsed = parse_key(key, [f["name"] for f in base.firms])
    except InputError as err:
        raise ExperimentError(f"{where}.key", key, reason=err.message) from None
    if not parsed.is_model:
        raise ExperimentError(
            f"{where}.key",
            key,
            "a model key (SECTION.KEY or firms.NAME.KEY); "
            "steps, replicates and seed are set in [experiment]",
        )


def _check_level(key: str, value: Any, where: str) -> None:
    """A level must be an allowed value of its key (the scenario checks combinations)."""
    try:
        check(key, value)
    except InputError:
        allowed = parse_key(key).spec.allowed()
        raise ExperimentError(where, value, f"{allowed} (the values of {key})") from None
