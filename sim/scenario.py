"""Scenario files (TOML): load, validate everything up front, apply dotted overrides.

A scenario has optional tables ``[scenario]`` (name, description), ``[run]`` (steps,
replicates, seed), one table per parameter section of
:data:`sim.parameters.MODEL_PARAMETERS` (``[market]``, ``[customers]``, ``[decision]``,
``[trust]``, ``[diffusion]``, ``[network]``) and ``[firms.NAME]`` tables. Any problem
raises :class:`ScenarioError` with a one-line message naming the file, the key, the
value and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .parameters import (
    MODEL_PARAMETERS,
    ParameterError,
    Spec,
    check_value,
    default_firms,
    validate_firms,
    validate_model_parameters,
)

__all__ = [
    "RUN_PARAMETERS",
    "Scenario",
    "ScenarioError",
    "apply_override",
    "load_scenario",
    "parse_assignment",
    "read_toml",
]


class ScenarioError(InputError):
    """A scenario (file or override) is not valid; the message says where and why."""


RUN_PARAMETERS: dict[str, Spec] = {
    "steps": Spec("run", int, 200, "number of steps to simulate", "steps", 1, 1_000_000),
    "replicates": Spec("run", int, 5, "independent seeded replicates", "", 1, 100_000),
    "seed": Spec("run", int, 42, "base seed; replicate seeds derive from it", "", 0, 2**63 - 1),
}
SECTIONS = sorted({spec.section for spec in MODEL_PARAMETERS.values()})
META_KEYS = {"name": str, "description": str}


@dataclass
class Scenario:
    """A validated scenario: model keywords plus run settings."""

    name: str
    description: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    firms: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(
        default_factory=lambda: {k: s.default for k, s in RUN_PARAMETERS.items()}
    )
    source: str = "<scenario>"
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`sim.model.InnovationModel` (without ``rng``)."""
        kwargs = dict(self.model)
        if self.firms:
            kwargs["firms"] = copy.deepcopy(self.firms)
        return kwargs

    def resolved_parameters(self) -> dict[str, Any]:
        """Every model parameter with its effective value (defaults filled in)."""
        values = {name: spec.default for name, spec in MODEL_PARAMETERS.items()}
        values.update(self.model)
        return values

    def with_overrides(self, assignments: dict[str, Any]) -> Scenario:
        """A new scenario with ``{"section.key": value}`` overrides applied and validated."""
        data = copy.deepcopy(self.data)
        label = f"{self.source} with overrides"
        for key, value in assignments.items():
            apply_override(data, key, value, label)
        scenario = from_dict(data, label)
        scenario.source = self.source
        if not data.get("scenario", {}).get("name"):
            scenario.name = self.name
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """The scenario's (raw, validated) tables, for manifests."""
        return copy.deepcopy(self.data)


def _fail(source: str, message: str) -> ScenarioError:
    return ScenarioError(f"{source}: {message}")


def from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as nested tables (the parsed TOML)."""
    if not isinstance(data, dict):
        raise _fail(source, "expected a table of sections")
    if "firms" not in data:  # the default firms, made explicit so overrides can name them
        data = {**data, "firms": {f["name"]: {"strategy": f["strategy"]} for f in default_firms()}}
    known = {"scenario", "run", "firms", *SECTIONS}
    for section, table in data.items():
        if section not in known:
            raise _fail(
                source, f"[{section}]: unknown section; allowed: {', '.join(sorted(known))}"
            )
        if not isinstance(table, dict):
            raise _fail(source, f"{section} = {table!r}: expected a table [{section}]")
    meta = data.get("scenario", {})
    for key, value in meta.items():
        if key not in META_KEYS:
            raise _fail(source, f"scenario.{key}: unknown key; allowed: name, description")
        if not isinstance(value, str):
            raise _fail(source, f"scenario.{key} = {value!r}: expected a string")
    run = {k: s.default for k, s in RUN_PARAMETERS.items()}
    for key, value in data.get("run", {}).items():
        spec = RUN_PARAMETERS.get(key)
        if spec is None:
            raise _fail(source, f"run.{key}: unknown key; allowed: {', '.join(RUN_PARAMETERS)}")
        try:
            run[key] = check_value(f"run.{key}", value, spec)
        except ParameterError as err:
            raise _fail(source, str(err)) from None
    model: dict[str, Any] = {}
    for section in SECTIONS:
        for key, value in data.get(section, {}).items():
            spec = MODEL_PARAMETERS.get(key)
            if spec is None or spec.section != section:
                allowed = [k for k, s in MODEL_PARAMETERS.items() if s.section == section]
                raise _fail(source, f"{section}.{key}: unknown key; allowed: {', '.join(allowed)}")
            model[key] = value
    try:
        model = validate_model_parameters(model, where="")
        firms = validate_firms(data["firms"], model.get("n_dims", 2))
    except ParameterError as err:
        raise _fail(source, _sectioned(str(err))) from None
    name = meta.get("name") or Path(source).stem
    return Scenario(
        name=name,
        description=meta.get("description", ""),
        model=model,
        firms=firms,
        run=run,
        source=source,
        data=copy.deepcopy(data),
    )


def _sectioned(message: str) -> str:
    """Prefix a bare model parameter name in an error with its section."""
    head = message.split(" ", 1)[0].rstrip(":")
    spec = MODEL_PARAMETERS.get(head)
    return f"{spec.section}.{message}" if spec else message


def read_toml(
    path: str | Path, what: str = "scenario", error: type[ScenarioError] = ScenarioError
) -> dict[str, Any]:
    """Parse a TOML file; a missing file, broken TOML or a binary file raise ``error``."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a UTF-8 text file") from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file, then apply ``{"section.key": value}`` overrides."""
    source = str(path)
    scenario = from_dict(read_toml(path), source)
    return scenario.with_overrides(overrides) if overrides else scenario


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is a TOML literal or a bare string."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ScenarioError(
            f"--set {text!r}: expected KEY=VALUE, e.g. customers.loss_aversion_mean=3"
        )
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as complete or radical
    return key, value


def apply_override(data: dict[str, Any], key: str, value: Any, source: str = "") -> None:
    """Set ``data[a][b]... = value`` for a dotted key that the scenario format knows."""
    parts = key.split(".")
    where = f"{source}: " if source else ""
    if parts[0] == "firms":
        if len(parts) != 3:
            raise ScenarioError(f"{where}{key}: expected firms.NAME.KEY")
        firms = data.setdefault("firms", {})
        if parts[1] not in firms:
            known = ", ".join(firms) or "none (the default three firms)"
            raise ScenarioError(
                f"{where}{key}: no firm {parts[1]!r} in the scenario; firms: {known}"
            )
        firms[parts[1]][parts[2]] = value
        return
    if len(parts) != 2:
        raise ScenarioError(
            f"{where}{key}: expected SECTION.KEY, e.g. customers.loss_aversion_mean"
        )
    section, name = parts
    if section == "run":
        if name not in RUN_PARAMETERS:
            raise ScenarioError(f"{where}{key}: unknown key; allowed: {', '.join(RUN_PARAMETERS)}")
    elif section == "scenario":
        if name not in META_KEYS:
            raise ScenarioError(f"{where}{key}: unknown key; allowed: name, description")
    else:
        spec = MODEL_PARAMETERS.get(name)
        if section not in SECTIONS:
            raise ScenarioError(
                f"{where}{key}: unknown section {section!r}; allowed: "
                f"{', '.join(['run', 'firms', *SECTIONS])}"
            )
        if spec is None or spec.section != section:
            allowed = [k for k, s in MODEL_PARAMETERS.items() if s.section == section]
            raise ScenarioError(f"{where}{key}: unknown key; allowed: {', '.join(allowed)}")
    data.setdefault(section, {})[name] = value
