"""The language of dotted scenario keys: one place parses a key, finds its spec, checks
a value for it and says where the value goes.

A key names one setting of a scenario:

- ``SECTION.NAME``: a model parameter (``customers.loss_aversion_mean``), a run setting
  (``run.steps``) or the scenario's own description (``scenario.name``);
- ``firms.FIRM.NAME``: one firm's key (``firms.radical.cocreation``); ``firms.*.NAME``
  sets it for every firm;
- ``strategies.STRATEGY.NAME``: a strategy's release parameter, for every firm that
  follows it (``strategies.radical.cadence``).

:func:`parse_key` resolves a key to a :class:`Key` (with its :class:`~sim.spec.Spec`),
:func:`check` is the validator of a value for a key, :func:`apply_override` writes a
value into a scenario's tables and :func:`apply_checked` into checked parameters, firms
and strategies (a calibration's candidate). The command line, scenario files, sweep
factors, calibration priors and classroom controls all go through here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .configuration import default_firms, unknown_key
from .errors import InputError
from .parameters import (
    FIRM_PARAMETERS,
    MODEL_PARAMETERS,
    RUN_PARAMETERS,
    SCENARIO_PARAMETERS,
    SECTIONS,
    STRATEGY_PARAMETERS,
)
from .spec import Range, Spec, check_value
from .strategies import STRATEGIES, chooses_among

__all__ = [
    "Key",
    "ScenarioError",
    "apply_checked",
    "apply_override",
    "check",
    "check_range",
    "default_firm_tables",
    "parse_assignment",
    "parse_key",
]

#: Every table a key may start with.
TABLES: tuple[str, ...] = ("scenario", "run", *SECTIONS, "firms", "strategies")


class ScenarioError(InputError):
    """A scenario (file or override) is not valid; the message says where and why."""


@dataclass(frozen=True)
class Key:
    """A parsed dotted key: its table, its owner (a firm, ``*`` or a strategy) and name."""

    text: str
    table: str
    name: str
    owner: str | None = None

    @property
    def spec(self) -> Spec:
        """What the key's values may be."""
        if self.table == "firms":
            return FIRM_PARAMETERS[self.name]
        if self.table == "strategies":
            return STRATEGY_PARAMETERS[self.name]
        if self.table == "run":
            return RUN_PARAMETERS[self.name]
        if self.table == "scenario":
            return SCENARIO_PARAMETERS[self.name]
        return MODEL_PARAMETERS[self.name]

    @property
    def is_model(self) -> bool:
        """Whether the key sets something of the simulated market (not run or scenario)."""
        return self.table not in ("run", "scenario")

    @property
    def integer(self) -> bool:
        """Whether the key takes whole numbers."""
        return self.spec.kind is int

    def expand(self, firms: Iterable[str]) -> list[Key]:
        """``firms.*.NAME`` as one key per firm; any other key as itself."""
        if self.table == "firms" and self.owner == "*":
            return [Key(f"firms.{f}.{self.name}", "firms", self.name, f) for f in firms]
        return [self]


def _unknown(
    text: str, allowed: Iterable[str], what: str = "unknown key; allowed"
) -> ScenarioError:
    err = unknown_key(text, allowed, what)
    return ScenarioError(err.key, reason=err.reason)


def _template(owner: str) -> bool:
    return owner.startswith("{") and owner.endswith("}")


def parse_key(text: str, firms: Iterable[str] | None = None) -> Key:
    """Resolve a dotted key; ``firms`` (the scenario's firm names) checks the firm named.

    An unknown table, name, firm or strategy, or a key of the wrong shape, raises
    :class:`ScenarioError` naming the key and what is allowed. A firm or strategy in
    braces (``firms.{focal}.cadence``) names a sweep factor's level and is checked
    where the level fills it in.
    """
    if not isinstance(text, str):
        raise ScenarioError("key", text, "a dotted key such as customers.loss_aversion_mean")
    parts = text.split(".")
    table = parts[0]
    if table == "strategies":
        if len(parts) != 3:
            raise ScenarioError(text, reason="expected strategies.NAME.KEY")
        _, owner, name = parts
        if not _template(owner) and (owner not in STRATEGIES or chooses_among(owner)):
            fixed = [s for s in STRATEGIES if not chooses_among(s)]
            raise ScenarioError(
                f"strategies.{owner}",
                reason="expected a strategy that takes release parameters, one of "
                + ", ".join(fixed),
            )
        if name not in STRATEGY_PARAMETERS:
            raise _unknown(text, STRATEGY_PARAMETERS)
        return Key(text, table, name, owner)
    if table == "firms":
        if len(parts) != 3:
            raise ScenarioError(text, reason="expected firms.NAME.KEY or firms.*.KEY")
        _, owner, name = parts
        names = list(firms) if firms is not None else None
        if names is not None and owner != "*" and not _template(owner) and owner not in names:
            raise ScenarioError(
                text, reason=f"no firm {owner!r} in the scenario; firms: {', '.join(names)}"
            )
        if name not in FIRM_PARAMETERS:
            raise _unknown(text, FIRM_PARAMETERS, "unknown firm key; known")
        return Key(text, table, name, owner)
    if len(parts) != 2:
        raise ScenarioError(text, reason="expected SECTION.KEY, e.g. customers.loss_aversion_mean")
    name = parts[1]
    if table == "run":
        if name not in RUN_PARAMETERS:
            raise _unknown(text, RUN_PARAMETERS)
    elif table == "scenario":
        if name not in SCENARIO_PARAMETERS:
            raise _unknown(text, SCENARIO_PARAMETERS)
    elif table not in SECTIONS:
        raise ScenarioError(
            text,
            reason=f"unknown section {table!r}; allowed: "
            + ", ".join(["run", "firms", "strategies", *SECTIONS]),
        )
    elif name not in MODEL_PARAMETERS or MODEL_PARAMETERS[name].section != table:
        raise _unknown(text, [k for k, s in MODEL_PARAMETERS.items() if s.section == table])
    return Key(text, table, name)


def check(key: str | Key, value: Any) -> Any:
    """The validator: ``value`` converted to what ``key`` takes, or a
    :class:`~sim.spec.ParameterError` naming the key, the value and what is allowed.

    A list-valued key (a firm's position) is checked with the firm's other keys.
    """
    parsed = parse_key(key) if isinstance(key, str) else key
    spec = parsed.spec
    if spec.kind is list:
        return value
    return check_value(parsed.text, value, spec)


def check_range(key: str | Key, bounds: Range) -> Key:
    """A numeric ``key`` whose values may span ``bounds`` (both ends allowed); the key."""
    parsed = parse_key(key) if isinstance(key, str) else key
    bounds.check_on(parsed.text, parsed.spec)
    return parsed


def default_firm_tables() -> dict[str, dict[str, str]]:
    """The default market's firms as scenario tables, ``{name: {"strategy": ...}}``."""
    return {f["name"]: {"strategy": f["strategy"]} for f in default_firms()}


def apply_override(data: dict[str, Any], key: str, value: Any) -> list[str]:
    """Set ``value`` for a dotted key in a scenario's tables (the parsed TOML).

    ``firms.*.KEY`` sets the key of every firm. Returns the key as written (a wildcard
    is judged as one key: it reaches the model if it reaches any firm). The value is
    checked when the tables are (:func:`sim.scenario.from_dict`).
    """
    firms = data.get("firms") if isinstance(data.get("firms"), dict) else None
    parsed = parse_key(key, list(firms) if firms is not None else list(default_firm_tables()))
    if parsed.table == "strategies":
        data.setdefault("strategies", {}).setdefault(parsed.owner, {})[parsed.name] = value
        return [key]
    if parsed.table == "firms":
        tables = data.setdefault("firms", default_firm_tables())
        for one in parsed.expand(tables):
            tables[one.owner][parsed.name] = value
        return [key]
    data.setdefault(parsed.table, {})[parsed.name] = value
    return [key]


def apply_checked(
    params: Mapping[str, Any],
    firms: list[dict[str, Any]],
    strategies: Mapping[str, Mapping[str, Any]],
    values: Mapping[str | Key, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Checked model parameters, firms and strategies' parameters with ``values`` set by
    key (new copies). The values must be allowed ones (a calibration's candidates lie in
    ranges whose ends were checked); they are not checked again."""
    params = dict(params)
    firms = [dict(firm) for firm in firms]
    by_strategy = {name: dict(table) for name, table in strategies.items()}
    for key, value in values.items():
        parsed = parse_key(key) if isinstance(key, str) else key
        if parsed.table == "firms":
            for firm in firms:
                if parsed.owner in ("*", firm["name"]):
                    firm[parsed.name] = value
        elif parsed.table == "strategies":
            by_strategy.setdefault(str(parsed.owner), {})[parsed.name] = value
        elif parsed.is_model:
            params[parsed.name] = value
        else:
            raise ScenarioError(parsed.text, reason="expected a model or firm key")
    return params, firms, by_strategy


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is a TOML literal or a bare string."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ScenarioError("--set", text, "KEY=VALUE, e.g. customers.loss_aversion_mean=3")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as complete or radical
    return key, value
