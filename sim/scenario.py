"""Scenario files (TOML): load, validate everything up front, apply dotted overrides.

A scenario has optional tables ``[scenario]`` (name, description), ``[run]`` (steps,
replicates, seed), one table per parameter section of
:data:`sim.parameters.MODEL_PARAMETERS` (``[market]``, ``[customers]``, ``[decision]``,
``[trust]``, ``[diffusion]``, ``[network]``), ``[firms.NAME]`` tables, and
``[strategies.NAME]`` tables setting a strategy's release parameters for every firm
that follows (or chooses) it.

Every key written must reach the model: a key that the configuration cannot use (the
rewiring probability of a complete network, a market-wide default that every firm
overrides) is refused with the reason and what to set instead (:mod:`sim.usage`).
Dotted keys are :mod:`sim.keys`'s language. Any problem raises :class:`ScenarioError`
with one line naming the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .configuration import check_firms, check_model_parameters, check_strategies
from .errors import InputError
from .keys import (
    ScenarioError,
    apply_override,
    default_firm_tables,
    parse_key,
)
from .parameters import (
    RUN_PARAMETERS,
    SCENARIO_PARAMETERS,
    SECTIONS,
)
from .spec import check_value
from .usage import unused_firm_keys, unused_parameters, unused_strategy_keys

__all__ = [
    "Scenario",
    "ScenarioError",
    "from_dict",
    "load_scenario",
    "read_toml",
]


@dataclass
class Scenario:
    """A validated scenario: checked model parameters and firms, plus run settings."""

    name: str
    description: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    firms: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(
        default_factory=lambda: {k: s.default for k, s in RUN_PARAMETERS.items()}
    )
    source: str = "<scenario>"
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`sim.model.InnovationModel` (without ``rng``)."""
        kwargs = dict(self.model)
        if self.firms:
            kwargs["firms"] = copy.deepcopy(self.firms)
        if self.strategies:
            kwargs["strategies"] = copy.deepcopy(self.strategies)
        return kwargs

    def resolved_parameters(self) -> dict[str, Any]:
        """Every model parameter with its effective value (defaults filled in)."""
        return dict(self.params)

    def with_overrides(
        self, assignments: dict[str, Any], origin: str = "overrides", *, strict: bool = True
    ) -> Scenario:
        """A new scenario with ``{"section.key": value}`` overrides applied and validated.

        With ``strict`` an override that cannot reach the model is an error; a key of
        the file that an override makes unused (``market.start = "legacy"`` makes
        ``initial_quality`` unused) is superseded, not an error. Errors name the
        scenario's file and ``origin`` (e.g. ``--set``), as
        ``FILE with ORIGIN: key = value: expected ...``.
        """
        data = copy.deepcopy(self.data)
        try:
            written: list[str] = []
            for key, value in assignments.items():
                written += apply_override(data, key, value)
            scenario = from_dict(data, strict=False)
            if strict:
                _refuse_unused(scenario, written)
        except InputError as err:
            raise err.at(f"{self.source} with {origin}") from None
        scenario.source = self.source
        if not data.get("scenario", {}).get("name"):
            scenario.name = self.name
        return scenario

    def unused_keys(self, keys: list[str] | None = None) -> dict[str, str]:
        """Keys written in the scenario (or among ``keys``) that cannot reach the model,
        with the reason. A wildcard ``firms.*.KEY`` among ``keys`` is unused only when it
        reaches no firm."""
        by_name = unused_parameters(self.params, self.firms)
        unused = {
            f"{section}.{key}": by_name[key]
            for section in SECTIONS
            for key in self.data.get(section, {})
            if key in by_name
        }
        unused.update(unused_strategy_keys(self.strategies, self.firms))
        unused.update(unused_firm_keys(self.params, self.firms))
        if keys is None:
            return unused
        found = {}
        for key in keys:
            if key in unused:
                found[key] = unused[key]
            elif key.startswith("firms.*."):
                name = key.removeprefix("firms.*.")
                each = [unused.get(f"firms.{f['name']}.{name}") for f in self.firms]
                if all(each):
                    found[key] = f"for every firm: {each[0]}"
        return found

    def written_value(self, key: str) -> Any:
        """The value written for a dotted key (for ``firms.*.KEY``, the first firm's)."""
        if key.startswith("firms.*."):
            key = f"firms.{next(iter(self.data['firms']))}.{key.removeprefix('firms.*.')}"
        value: Any = self.data
        for part in key.split("."):
            value = value[part]
        return value

    def to_dict(self) -> dict[str, Any]:
        """The scenario's (raw, validated) tables, for manifests."""
        return copy.deepcopy(self.data)


def from_dict(data: dict[str, Any], source: str = "", *, strict: bool = True) -> Scenario:
    """Validate a scenario given as nested tables (the parsed TOML).

    With ``strict`` a written key that cannot reach the model is an error; without,
    :meth:`Scenario.unused_keys` lists such keys for the caller to judge (a sweep
    refuses a key only if it is unused at every design point). Errors carry no source
    unless ``source`` is given: the loader that read the file adds it.
    """
    try:
        scenario = _from_dict(data)
        if strict:
            _refuse_unused(scenario)
    except InputError as err:
        raise err.at(source) from None
    scenario.source = source or scenario.source
    if not scenario.name:
        scenario.name = Path(source).stem if source else "scenario"
    return scenario


def _from_dict(data: dict[str, Any]) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(reason="expected a table of sections")
    if "firms" not in data:  # the default firms, made explicit so overrides can name them
        data = {**data, "firms": default_firm_tables()}
    known = {"scenario", "run", "firms", "strategies", *SECTIONS}
    for section, table in data.items():
        if section not in known:
            raise ScenarioError(
                f"[{section}]", reason=f"unknown section; allowed: {', '.join(sorted(known))}"
            )
        if not isinstance(table, dict):
            raise ScenarioError(section, table, f"a table [{section}]")
    meta = _checked_table(data, "scenario", SCENARIO_PARAMETERS)
    run = {k: s.default for k, s in RUN_PARAMETERS.items()}
    run.update(_checked_table(data, "run", RUN_PARAMETERS))
    model: dict[str, Any] = {}
    for section in SECTIONS:
        for key, value in data.get(section, {}).items():
            parse_key(f"{section}.{key}")  # an unknown key: one line naming what is allowed
            model[key] = value
    params = check_model_parameters(model, dotted=True)
    firms = check_firms(data["firms"], params["n_dims"])
    return Scenario(
        name=meta.get("name", ""),
        description=meta.get("description", ""),
        model={k: params[k] for k in model},
        firms=firms,
        run=run,
        data=copy.deepcopy(data),
        params=params,
        strategies=check_strategies(data.get("strategies", {})),
    )


def _checked_table(data: dict[str, Any], table: str, specs: dict[str, Any]) -> dict[str, Any]:
    """A table of settings that are not model parameters (``[scenario]``, ``[run]``)."""
    checked = {}
    for key, value in data.get(table, {}).items():
        if key not in specs:
            raise ScenarioError(
                f"{table}.{key}", reason=f"unknown key; allowed: {', '.join(specs)}"
            )
        checked[key] = check_value(f"{table}.{key}", value, specs[key], ScenarioError)
    return checked


def _refuse_unused(scenario: Scenario, keys: list[str] | None = None) -> None:
    for key, reason in scenario.unused_keys(keys).items():
        raise ScenarioError(
            key, scenario.written_value(key), reason=f"does not reach the model: {reason}"
        )


def read_toml(
    path: str | Path, what: str = "scenario", error: type[InputError] = ScenarioError
) -> dict[str, Any]:
    """Parse a TOML file; a missing file, broken TOML or a binary file raise ``error``."""
    path = Path(path)
    if not path.is_file():
        raise error(reason=f"no such {what} file", source=str(path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise error(reason=f"not valid TOML: {err}", source=str(path)) from None
    except UnicodeDecodeError:
        raise error(reason="not a UTF-8 text file", source=str(path)) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file, then apply ``{"section.key": value}`` overrides."""
    source = str(path)
    if not overrides:
        return from_dict(read_toml(path), source)
    base = from_dict(read_toml(path), source, strict=False)
    return base.with_overrides(overrides, "--set")
