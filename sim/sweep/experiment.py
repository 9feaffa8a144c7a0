"""Experiment files (TOML): a base scenario, factors, a design, replicates; validated up front.

An experiment file has the tables ``[experiment]`` (name, question, base scenario,
design, samples, replicates, steps, seed, kept observables), ``[base]`` (scenario
tables merged over the base file), ``[set]`` (dotted overrides for every run),
``[factors]`` (what varies), ``[quick]`` (smaller sizes for ``--quick``) and
``[report]`` (which figures). docs/sweeps.md describes every key. Every problem
raises :class:`ExperimentError`, a :class:`~sim.scenario.ScenarioError`, with a
one-line message naming the file, the key, the value and what is allowed, before
any run starts.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..parameters import MODEL_PARAMETERS, default_firms
from ..runner import derive_seed
from ..scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    from_dict,
    load_scenario,
    read_toml,
)

__all__ = [
    "DESIGNS",
    "SUMMARY_METRICS",
    "Experiment",
    "ExperimentError",
    "Factor",
    "load_experiment",
]

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ("grid", "lhs", "sobol")
#: Per-run, per-firm metrics that are aggregated (see :mod:`sim.sweep.executor`).
SUMMARY_METRICS = (
    "final_share",
    "final_trust",
    "first_t10",
    "first_t50",
    "first_t90",
    "first_peak_rate",
    "first_peak_step",
    "bass_p",
    "bass_q",
    "bass_m",
)
ANALYSES = ("standard", "bass")
TABLES = ("experiment", "base", "set", "factors", "quick", "report")
EXPERIMENT_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "question": str,
    "description": str,
    "base": str,
    "design": str,
    "samples": int,
    "replicates": int,
    "steps": int,
    "seed": int,
    "keep": list,
    "bootstrap": int,
}
FACTOR_KEYS = ("key", "keys", "values", "low", "high", "levels", "scale", "label", "labels")
QUICK_KEYS = ("replicates", "steps", "samples", "keep", "set", "factors", "bootstrap")
REPORT_KEYS = ("curves", "map", "metric", "metric_factor", "metrics", "analysis")
TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", float: "a number"}
#: Column names of the results that a factor may not take.
RESERVED = {
    "point",
    "replicate",
    "seed",
    "step",
    "firm",
    "firm_index",
    "strategy",
    "metric",
    "mean",
    "sd",
    "std",
    "n",
    "count",
    "low",
    "high",
    "ci_low",
    "ci_high",
    "observable",
    "cocreators",
    "releases",
    "new_adoptions",
    "winner",
    "runner_up",
    "margin",
    "clear",
    "wins",
    "graph",
    "p",
    "q",
    *SUMMARY_METRICS,
}
RESERVED_PREFIXES = (
    "share_",
    "trust_",
    "cocreators_",
    "first_",
    "version_",
    "winner_",
    "runner_up_",
    "margin_",
)


class ExperimentError(ScenarioError):
    """An experiment file is not valid; the message names file, key, value and what is allowed."""


@dataclass(frozen=True)
class Factor:
    """One thing that varies: explicit levels or a numeric range, on one or more scenario keys."""

    name: str
    keys: tuple[str, ...]
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int = 5
    scale: str = "linear"
    label: str = ""
    labels: tuple[str, ...] | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a range ``{low, high}``, False for explicit ``values``."""
        return self.values is None

    @property
    def title(self) -> str:
        """Human label for axes and tables."""
        return self.label or self.name

    def grid_levels(self) -> list[Any]:
        """Levels in a full grid: the values, or ``levels`` points spread over the range."""
        if self.values is not None:
            return [self.level_value(v) for v in self.values]
        assert self.low is not None and self.high is not None
        if self.scale == "log":
            points = np.geomspace(self.low, self.high, self.levels)
        else:
            points = np.linspace(self.low, self.high, self.levels)
        return [self.cast(x) for x in points]

    def level_value(self, value: Any) -> Any:
        """Design-table value of an explicit level (a label for multi-key levels)."""
        if isinstance(value, list):
            index = self.values.index(value) if self.values else 0
            if self.labels:
                return self.labels[index]
            return "/".join(f"{x:g}" if isinstance(x, float) else str(x) for x in value)
        return value

    def cast(self, x: float) -> float | int:
        """A sampled number as the key's type (integers rounded)."""
        return round(float(x)) if self.integer else float(x)

    def bounds(self) -> list[float]:
        """Sampling bounds (in log10 space for ``scale = "log"``)."""
        assert self.low is not None and self.high is not None
        if self.scale == "log":
            return [math.log10(self.low), math.log10(self.high)]
        return [self.low, self.high]

    def from_unit(self, x: float) -> float | int:
        """Inverse of :meth:`bounds`' transform."""
        return self.cast(10.0**x if self.scale == "log" else x)

    @property
    def templated(self) -> bool:
        """True when a key names another factor's level, e.g. ``firms.{strategy}.cocreation``."""
        return any("{" in key for key in self.keys)

    def overrides(self, level: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Scenario overrides for a design-table value of this factor.

        ``context`` maps other factors' names to their levels at the same design point,
        for keys that name them in braces.
        """
        keys = tuple(k.format(**context) for k in self.keys) if context else self.keys
        value = level
        if self.values is not None and any(isinstance(v, list) for v in self.values):
            for raw in self.values:
                if self.level_value(raw) == level:
                    value = raw
                    break
        if isinstance(value, list):
            return dict(zip(keys, value, strict=True))
        return dict.fromkeys(keys, value)


@dataclass
class Experiment:
    """A validated experiment: base scenario, factors, design table and run settings."""

    name: str
    source: str
    base: Scenario
    factors: list[Factor]
    design: str = "grid"
    samples: int = 0
    replicates: int = 5
    steps: int = 200
    seed: int = 0
    keep: tuple[str, ...] = ("share_*",)
    question: str = ""
    description: str = ""
    bootstrap: int = 1000
    report: dict[str, Any] = field(default_factory=dict)
    quick: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    point_overrides: list[dict[str, Any]] = field(default_factory=list, repr=False)
    point_kwargs: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.table)

    @property
    def n_runs(self) -> int:
        """Design points times replicates."""
        return self.n_points * self.replicates

    @property
    def factor_names(self) -> list[str]:
        """Factor names, which are also the design table's columns."""
        return [f.name for f in self.factors]

    def factor(self, name: str) -> Factor:
        """The factor called ``name``."""
        return next(f for f in self.factors if f.name == name)

    @property
    def firm_names(self) -> list[str]:
        """The base scenario's firms, in order (a firm's colour follows its position)."""
        return [f["name"] for f in self.base.firms]

    def run_seed(self, point: int, replicate: int) -> int:
        """Seed of a run: derive_seed(experiment seed, point, replicate), order-independent."""
        return derive_seed(self.seed, point, replicate)

    def parameters(self, point: int) -> dict[str, Any]:
        """The design-table values of ``point`` (factor name -> value)."""
        row = self.table.iloc[point]
        return {name: _plain(row[name]) for name in self.factor_names}

    def tasks(self) -> list[Any]:
        """Every (design point x replicate) run, as :class:`~sim.sweep.executor.RunTask`."""
        from .executor import RunTask

        return [
            RunTask(
                point=i,
                replicate=r,
                seed=self.run_seed(i, r),
                kwargs=self.point_kwargs[i],
                steps=self.steps,
                keep=self.keep,
                parameters=self.parameters(i),
            )
            for i in range(self.n_points)
            for r in range(self.replicates)
        ]

    def describe(self) -> str:
        """One line: design, points, replicates, runs, steps, customers."""
        n = self.base.resolved_parameters()["n_customers"]
        if self.design == "grid":
            levels = " x ".join(f"{f.name} {len(f.grid_levels())}" for f in self.factors)
            how = f"grid of {self.n_points} points ({levels or 'no factors'})"
        elif self.design == "lhs":
            how = f"Latin hypercube of {self.n_points} points over {len(self.factors)} factors"
        else:
            how = (
                f"Sobol/Saltelli design of {self.n_points} points (N = {self.samples}, "
                f"{len(self.factors)} factors)"
            )
        return (
            f"{how} x {self.replicates} replicates = {self.n_runs} runs of {self.steps} steps, "
            f"{n:,} customers{', quick size' if self.quick else ''}"
        )

    def fingerprint(self) -> str:
        """Hash of everything that determines the runs' results (not the report settings)."""
        content = {
            "base": self.base.to_dict(),
            "overrides": self.point_overrides,
            "table": self.table.to_dict(orient="list"),
            "replicates": self.replicates,
            "steps": self.steps,
            "seed": self.seed,
            "keep": list(self.keep),
        }
        text = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def sobol_problem(self) -> dict[str, Any]:
        """The SALib problem of a Sobol or LHS design (bounds in sampling space)."""
        return {
            "num_vars": len(self.factors),
            "names": self.factor_names,
            "bounds": [f.bounds() for f in self.factors],
        }

    def command(self) -> str:
        """The command that reproduces this sweep."""
        try:
            path = Path(self.source).resolve().relative_to(ROOT)
        except ValueError:
            path = Path(self.source)
        return f"python run.py sweep {path}{' --quick' if self.quick else ''}"


def _plain(value: Any) -> Any:
    """NumPy scalars as Python scalars (for JSON and task pickles)."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------- loading
class _Checker:
    """Builds one-line errors for one file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str) -> ExperimentError:
        return ExperimentError(f"{self.source}: {message}")

    def value(self, key: str, value: Any, expected: str) -> ExperimentError:
        return self.fail(f"{key} = {value!r}: expected {expected}")

    def typed(self, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.value(key, value, " or ".join(TYPE_NAMES.get(k, str(k)) for k in kinds))
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kinds):
            raise self.value(key, value, " or ".join(TYPE_NAMES.get(k, str(k)) for k in kinds))
        return value

    def unknown(
        self, where: str, key: str, allowed: tuple[str, ...] | list[str]
    ) -> ExperimentError:
        return self.fail(f"{where}{key}: unknown key; allowed: {', '.join(allowed)}")


def load_experiment(path: str | Path, quick: bool = False) -> Experiment:
    """Read and validate an experiment file; ``quick`` applies its ``[quick]`` table.

    Both the full and the quick variant are validated, so an error in either is found
    before any run starts.
    """
    source = str(path)
    data = read_toml(path, "experiment", ExperimentError)
    full = build_experiment(data, source, quick=False)
    small = build_experiment(data, source, quick=True) if "quick" in data else full
    return small if quick else full


def build_experiment(data: dict[str, Any], source: str, quick: bool = False) -> Experiment:
    """Validate parsed experiment tables and generate the design."""
    check = _Checker(source)
    raw = copy.deepcopy(data)
    for table, value in data.items():
        if table not in TABLES:
            raise check.fail(f"[{table}]: unknown table; allowed: {', '.join(TABLES)}")
        if not isinstance(value, dict):
            raise check.value(table, value, f"a table [{table}]")
    if "experiment" not in data:
        raise check.fail("[experiment]: missing table; it names the base scenario and the design")
    data = _apply_quick(data, check) if quick else copy.deepcopy(data)
    meta = data["experiment"]
    settings: dict[str, Any] = {}
    for key, value in meta.items():
        kind = EXPERIMENT_KEYS.get(key)
        if kind is None:
            raise check.unknown("experiment.", key, list(EXPERIMENT_KEYS))
        settings[key] = check.typed(f"experiment.{key}", value, kind)
    design = settings.get("design", "grid")
    if design not in DESIGNS:
        raise check.value("experiment.design", design, "one of " + ", ".join(DESIGNS))
    for key, low in (("replicates", 1), ("steps", 1), ("seed", 0), ("bootstrap", 10)):
        if key in settings and settings[key] < low:
            raise check.value(f"experiment.{key}", settings[key], f"an integer >= {low}")
    base = _base_scenario(data, settings.get("base"), Path(source), check)
    factors = _factors(data.get("factors", {}), base, check, design)
    samples = settings.get("samples", 0)
    if design == "lhs" and samples < 2:
        raise check.value("experiment.samples", samples, "an integer >= 2 (LHS points)")
    if design == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise check.value("experiment.samples", samples, "a power of 2 >= 2 (Sobol base sample N)")
    if design != "grid" and not factors:
        raise check.fail(f"[factors]: a {design} design needs at least one range factor")
    keep = tuple(settings.get("keep", ["share_*"]))
    _check_keep(keep, base, check)
    experiment = Experiment(
        name=settings.get("name") or Path(source).stem,
        source=source,
        base=base,
        factors=factors,
        design=design,
        samples=samples,
        replicates=settings.get("replicates", 5),
        steps=settings.get("steps", 200),
        seed=settings.get("seed", 0),
        keep=keep,
        question=settings.get("question", ""),
        description=settings.get("description", ""),
        bootstrap=settings.get("bootstrap", 1000),
        report=_report(data.get("report", {}), factors, design, check),
        quick=quick,
        raw=raw,
    )
    _make_design(experiment, check)
    return experiment


def _apply_quick(data: dict[str, Any], check: _Checker) -> dict[str, Any]:
    """The tables with ``[quick]`` merged in (sizes replaced, set and factors merged)."""
    data = copy.deepcopy(data)
    quick = data.pop("quick", {})
    for key, value in quick.items():
        if key not in QUICK_KEYS:
            raise check.unknown("quick.", key, QUICK_KEYS)
        if key == "set":
            data.setdefault("set", {}).update(check.typed("quick.set", value, dict))
        elif key == "factors":
            for name, spec in check.typed("quick.factors", value, dict).items():
                factors = data.setdefault("factors", {})
                if name not in factors:
                    raise check.fail(
                        f"quick.factors.{name}: no factor {name!r} in [factors]; "
                        f"factors: {', '.join(factors) or 'none'}"
                    )
                old = factors[name]
                if isinstance(spec, list) or not isinstance(old, dict):
                    factors[name] = spec
                    continue
                spec = check.typed(f"quick.factors.{name}", spec, dict)
                if "values" in spec:
                    old = {k: v for k, v in old.items() if k not in ("low", "high", "levels")}
                if "low" in spec or "high" in spec:
                    old = {k: v for k, v in old.items() if k not in ("values", "labels")}
                factors[name] = {**old, **spec}
        else:
            data["experiment"][key] = value
    return data


def _base_scenario(data: dict[str, Any], base: str | None, path: Path, check: _Checker) -> Scenario:
    """The base scenario: the file named by ``experiment.base``, then ``[base]``, then ``[set]``."""
    tables: dict[str, Any] = {}
    if base is not None:
        candidates = [path.parent / base, ROOT / base, Path(base)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise check.value(
                "experiment.base", base, "a scenario file (relative to the experiment or the repo)"
            )
        try:
            tables = load_scenario(found).to_dict()
        except ScenarioError as err:
            raise check.fail(f"experiment.base = {base!r}: {err}") from None
    inline = copy.deepcopy(data.get("base", {}))
    for section, table in inline.items():
        if section == "firms" or not isinstance(table, dict):
            tables[section] = table
        else:
            tables[section] = {**tables.get(section, {}), **table}
    if "firms" not in tables:
        tables["firms"] = {f["name"]: {"strategy": f["strategy"]} for f in default_firms()}
    try:
        scenario = from_dict(tables, f"{check.source} [base]")
        overrides = data.get("set", {})
        for key, value in overrides.items():
            if isinstance(value, dict):
                raise check.value(f"set.{key}", value, 'a value; quote dotted keys: "market.x" = 1')
        return scenario.with_overrides(dict(overrides)) if overrides else scenario
    except ExperimentError:
        raise
    except ScenarioError as err:
        raise check.fail(_strip_source(str(err))) from None


def _strip_source(message: str) -> str:
    """A scenario error without its leading ``FILE[ with overrides]:`` (the experiment names it)."""
    return re.sub(r"^.*?(?:\.toml|\])(?: with overrides)?: ", "", message, count=1)


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


def _expand_keys(key: str, base: Scenario) -> list[str]:
    """``firms.*.KEY`` means the key of every firm of the base scenario."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "firms" and parts[1] == "*":
        return [f"firms.{f['name']}.{parts[2]}" for f in base.firms]
    return [key]


def _factors(table: Any, base: Scenario, check: _Checker, design: str) -> list[Factor]:
    factors = []
    for name, spec in _flatten_factors(table).items():
        where = f"factors.{name}"
        if name in RESERVED or name.startswith(RESERVED_PREFIXES):
            raise check.fail(
                f"{where}: the name {name!r} is taken by a results column; "
                "rename the factor (its key stays the same)"
            )
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            raise check.value(where, spec, "a list of values or a table {key, values | low, high}")
        for key in spec:
            if key not in FACTOR_KEYS:
                raise check.unknown(f"{where}.", key, FACTOR_KEYS)
        if "key" in spec and "keys" in spec:
            raise check.fail(f"{where}: give key or keys, not both")
        raw_keys = spec.get("keys", [spec.get("key", name)])
        if not isinstance(raw_keys, list):
            raise check.value(f"{where}.keys", raw_keys, "a list of dotted keys")
        keys: list[str] = []
        for key in raw_keys:
            check.typed(f"{where}.key", key, str)
            keys.extend(_expand_keys(key, base))
        for key in keys:
            if "{" in key:
                continue  # names another factor's level: checked at every design point
            _check_key(key, where, base, check)
        integer = all(_is_integer_key(k) for k in keys)
        label = check.typed(f"{where}.label", spec.get("label", ""), str)
        has_values = "values" in spec
        has_range = "low" in spec or "high" in spec
        if has_values == has_range:
            raise check.fail(f"{where}: expected either values = [...] or low and high")
        if has_values:
            values = check.typed(f"{where}.values", spec["values"], list)
            if not values:
                raise check.value(f"{where}.values", values, "a non-empty list")
            for key in ("levels", "scale"):
                if key in spec:
                    raise check.fail(f"{where}.{key}: only for a range (low, high)")
            for value in values:
                if isinstance(value, list) and len(value) != len(keys):
                    raise check.value(
                        f"{where}.values", value, f"a list of {len(keys)} values, one per key"
                    )
                if isinstance(value, dict):
                    raise check.value(f"{where}.values", value, "scalars or lists")
            if len({json.dumps(v) for v in values}) != len(values):
                raise check.value(f"{where}.values", values, "distinct values")
            labels = spec.get("labels")
            if labels is not None:
                labels = check.typed(f"{where}.labels", labels, list)
                if len(labels) != len(values) or not all(isinstance(x, str) for x in labels):
                    raise check.value(
                        f"{where}.labels", labels, f"{len(values)} strings, one per value"
                    )
            if design != "grid":
                raise check.fail(
                    f"{where}: a {design} design samples ranges; "
                    "expected low and high instead of values"
                )
            factor = Factor(
                name,
                tuple(keys),
                values=tuple(values),
                label=label,
                labels=tuple(labels) if labels else None,
                integer=integer,
            )
            if not factor.templated:
                for value in values:
                    _check_level(factor, value, base, check)
        else:
            for key in ("low", "high"):
                if key not in spec:
                    raise check.fail(f"{where}.{key}: missing; a range needs low and high")
                check.typed(f"{where}.{key}", spec[key], (int, float))
            low, high = float(spec["low"]), float(spec["high"])
            if not low < high:
                raise check.value(f"{where}.high", spec["high"], f"a number > low = {spec['low']}")
            levels = check.typed(f"{where}.levels", spec.get("levels", 5), int)
            if levels < 2:
                raise check.value(f"{where}.levels", levels, "an integer >= 2")
            scale = spec.get("scale", "linear")
            if scale not in ("linear", "log"):
                raise check.value(f"{where}.scale", scale, "one of 'linear', 'log'")
            if scale == "log" and low <= 0:
                raise check.value(f"{where}.low", spec["low"], "a number > 0 for scale = 'log'")
            if spec.get("labels") is not None:
                raise check.fail(f"{where}.labels: only for explicit values")
            factor = Factor(
                name,
                tuple(keys),
                low=low,
                high=high,
                levels=levels,
                scale=scale,
                label=label,
                integer=integer,
            )
            if not factor.templated:
                for value in (low, high):
                    _check_level(factor, factor.cast(value), base, check)
        factors.append(factor)
    names = {f.name for f in factors}
    for factor in factors:
        for key in factor.keys:
            for ref in re.findall(r"{([^{}]*)}", key):
                if ref not in names or ref == factor.name:
                    raise check.value(
                        f"factors.{factor.name}.key",
                        key,
                        "braces naming another factor, one of "
                        + ", ".join(sorted(names - {factor.name})),
                    )
    return factors


def _is_integer_key(key: str) -> bool:
    parts = key.split(".")
    if parts[0] == "firms":
        return parts[-1] in ("cadence", "first_release")
    spec = MODEL_PARAMETERS.get(parts[-1])
    return spec is not None and spec.kind is int


def _check_key(key: str, where: str, base: Scenario, check: _Checker) -> None:
    """The key must name a model key of the base scenario."""
    section = key.split(".")[0]
    if section in ("run", "scenario"):
        raise check.value(
            f"{where}.key",
            key,
            "a model key (SECTION.KEY or firms.NAME.KEY); "
            "steps, replicates and seed are set in [experiment]",
        )
    data = base.to_dict()
    try:
        apply_override(data, key, None)
    except ScenarioError as err:
        raise check.fail(f"{where}.key = {key!r}: {_strip_source(str(err))}") from None


def _check_level(factor: Factor, value: Any, base: Scenario, check: _Checker) -> None:
    """A level must give a valid scenario."""
    overrides = (
        factor.overrides(value)
        if not isinstance(value, list)
        else dict(zip(factor.keys, value, strict=True))
    )
    try:
        base.with_overrides(overrides)
    except ScenarioError as err:
        raise check.fail(f"factors.{factor.name}: {_strip_source(str(err))}") from None


def _check_keep(keep: tuple[str, ...], base: Scenario, check: _Checker) -> None:
    """Each kept pattern must match an observable of the model."""
    from ..model import InnovationModel

    kwargs = base.model_kwargs()
    kwargs["n_customers"] = 60
    kwargs["mean_degree"] = min(kwargs.get("mean_degree", 10), 10)
    columns = list(InnovationModel(**kwargs, customer_agents=False, rng=0).timeseries().columns)
    for pattern in keep:
        if not isinstance(pattern, str):
            raise check.value("experiment.keep", pattern, "observable names or glob patterns")
        if not fnmatch.filter(columns, pattern):
            raise check.value(
                "experiment.keep", pattern, "an observable (glob) among " + ", ".join(columns)
            )


def _report(table: Any, factors: list[Factor], design: str, check: _Checker) -> dict[str, Any]:
    names = [f.name for f in factors]
    report: dict[str, Any] = {}
    for key, value in table.items():
        if key not in REPORT_KEYS:
            raise check.unknown("report.", key, REPORT_KEYS)
        report[key] = value
    for key in ("curves", "map", "metrics"):
        if key in report:
            check.typed(f"report.{key}", report[key], list)
    for key in ("metric", "metric_factor", "analysis"):
        if key in report:
            check.typed(f"report.{key}", report[key], str)
    referenced = [*report.get("curves", []), *report.get("map", [])]
    if "metric_factor" in report:
        referenced.append(report["metric_factor"])
    for name in referenced:
        if name not in names:
            raise check.value("report", name, "a factor name among " + (", ".join(names) or "none"))
    if "map" in report and len(report["map"]) != 2:
        raise check.value("report.map", report["map"], "two factor names [x, y]")
    metrics = [*report.get("metrics", []), *([report["metric"]] if "metric" in report else [])]
    for metric in metrics:
        if metric not in SUMMARY_METRICS:
            raise check.value("report.metrics", metric, "one of " + ", ".join(SUMMARY_METRICS))
    analysis = report.get("analysis", "standard")
    if analysis not in ANALYSES:
        raise check.value("report.analysis", analysis, "one of " + ", ".join(ANALYSES))
    return report


def _make_design(experiment: Experiment, check: _Checker) -> None:
    """Fill the design table, each point's overrides and model keywords; validate every point."""
    factors = experiment.factors
    if experiment.design == "grid":
        rows = [list(combo) for combo in itertools.product(*[f.grid_levels() for f in factors])]
    else:
        from SALib.sample import latin
        from SALib.sample import sobol as sobol_sample

        problem = experiment.sobol_problem()
        if experiment.design == "lhs":
            unit = latin.sample(problem, experiment.samples, seed=experiment.seed % 2**32)
        else:
            unit = sobol_sample.sample(
                problem,
                experiment.samples,
                calc_second_order=False,
                seed=experiment.seed % 2**32,
            )
        rows = [[f.from_unit(x) for f, x in zip(factors, row, strict=True)] for row in unit]
    table = pd.DataFrame(rows, columns=[f.name for f in factors])
    if not factors:
        table = pd.DataFrame(index=range(1))
    experiment.table = table
    experiment.point_overrides, experiment.point_kwargs = [], []
    for i in range(len(table)):
        overrides: dict[str, Any] = {}
        context = {f.name: _plain(table.iloc[i][f.name]) for f in factors}
        for f in factors:
            overrides.update(f.overrides(context[f.name], context if f.templated else None))
        try:
            scenario = experiment.base.with_overrides(overrides)
        except ScenarioError as err:
            raise check.fail(
                f"design point {i} ({_describe_point(overrides)}): {_strip_source(str(err))}"
            ) from None
        experiment.point_overrides.append(overrides)
        experiment.point_kwargs.append(scenario.model_kwargs())


def _describe_point(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items())
