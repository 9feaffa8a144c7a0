"""Experiment files (TOML) to a validated :class:`~.experiment.Experiment`, before any run.

An experiment file has the tables ``[experiment]`` (name, question, base scenario,
design, samples, replicates, steps, seed, kept observables), ``[base]`` (scenario
tables merged over the base file), ``[set]`` (dotted overrides for every run),
``[factors]`` (what varies), ``[quick]`` (smaller sizes for ``--quick``) and
``[report]`` (which figures); docs/sweeps.md describes every key.

Each design point is validated once, as the scenario it makes. Every key the
experiment writes (in ``[base]``, ``[set]`` or a factor) must reach the model at some
design point; one that never does is refused with the reason. Every problem raises
an :class:`~sim.errors.InputError` naming the file (added here, once), the key, the
value and what is allowed.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..parameters import FIRM_PARAMETERS, MODEL_PARAMETERS, check_value
from ..scenario import Scenario, apply_override, from_dict, load_scenario, read_toml
from .columns import METRICS, RESERVED, RESERVED_PREFIXES
from .experiment import (
    DESIGNS,
    ROOT,
    UNTIL,
    DesignPoint,
    Experiment,
    ExperimentError,
    Factor,
    ReplicateRule,
    design_table,
    is_integer_key,
    plain,
)

__all__ = ["build_experiment", "load_experiment"]

ANALYSES = ("standard", "bass")
TABLES = ("experiment", "base", "set", "factors", "quick", "report")
EXPERIMENT_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "question": str,
    "description": str,
    "base": str,
    "design": str,
    "samples": int,
    "replicates": (int, dict),
    "steps": int,
    "seed": int,
    "keep": list,
    "bootstrap": int,
}
FACTOR_KEYS = ("key", "keys", "values", "low", "high", "levels", "scale", "label", "labels")
QUICK_KEYS = ("replicates", "steps", "samples", "keep", "set", "factors", "bootstrap")
REPORT_KEYS = ("curves", "map", "metric", "metric_factor", "metrics", "analysis")
TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    list: "a list",
    float: "a number",
    dict: "a table",
}
RULE_KEYS = ("min", "max", "until", "metric", "width")


def load_experiment(path: str | Path, quick: bool = False) -> Experiment:
    """Read and validate an experiment file; ``quick`` applies its ``[quick]`` table."""
    return build_experiment(read_toml(path, "experiment", ExperimentError), str(path), quick)


def build_experiment(data: dict[str, Any], source: str, quick: bool = False) -> Experiment:
    """Validate parsed experiment tables and resolve every design point."""
    try:
        return _build(data, source, quick)
    except InputError as err:
        raise err.at(source) from None


def _typed(key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    expected = " or ".join(TYPE_NAMES.get(k, str(k)) for k in kinds)
    if isinstance(value, bool) and bool not in kinds:
        raise ExperimentError(key, value, expected)
    if float in kinds and isinstance(value, int):
        return float(value)
    if not isinstance(value, kinds):
        raise ExperimentError(key, value, expected)
    return value


def _unknown(key: str, allowed: tuple[str, ...] | list[str]) -> ExperimentError:
    return ExperimentError(key, reason=f"unknown key; allowed: {', '.join(allowed)}")


def _build(data: dict[str, Any], source: str, quick: bool) -> Experiment:
    raw = copy.deepcopy(data)
    for table, value in data.items():
        if table not in TABLES:
            raise ExperimentError(
                f"[{table}]", reason=f"unknown table; allowed: {', '.join(TABLES)}"
            )
        if not isinstance(value, dict):
            raise ExperimentError(table, value, f"a table [{table}]")
    if "experiment" not in data:
        raise ExperimentError(
            "[experiment]", reason="missing table; it names the base scenario and the design"
        )
    small = _apply_quick(data)  # checks [quick] whichever size is asked for
    data = small if quick else copy.deepcopy(data)
    settings: dict[str, Any] = {}
    for key, value in data["experiment"].items():
        kind = EXPERIMENT_KEYS.get(key)
        if kind is None:
            raise _unknown(f"experiment.{key}", list(EXPERIMENT_KEYS))
        settings[key] = _typed(f"experiment.{key}", value, kind)
    design = settings.get("design", "grid")
    if design not in DESIGNS:
        raise ExperimentError("experiment.design", design, "one of " + ", ".join(DESIGNS))
    rule = None
    if isinstance(settings.get("replicates"), dict):
        rule = _replicate_rule(settings.pop("replicates"))
        settings["replicates"] = rule.max
    for key, low in (("replicates", 1), ("steps", 1), ("seed", 0), ("bootstrap", 10)):
        if key in settings and settings[key] < low:
            raise ExperimentError(f"experiment.{key}", settings[key], f"an integer >= {low}")
    base, written = _base_scenario(data, settings.get("base"), Path(source))
    factors = _factors(data.get("factors", {}), base, design)
    samples = settings.get("samples", 0)
    if design == "lhs" and samples < 2:
        raise ExperimentError("experiment.samples", samples, "an integer >= 2 (LHS points)")
    if design == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise ExperimentError(
            "experiment.samples", samples, "a power of 2 >= 2 (Sobol base sample N)"
        )
    if design != "grid" and not factors:
        raise ExperimentError("[factors]", reason=f"a {design} design needs a range factor")
    keep = tuple(settings.get("keep", ["share_*"]))
    _check_keep(keep, base)
    if rule and rule.until == "winner" and len(base.firms) < 2:
        raise ExperimentError(
            "experiment.replicates.until", "winner", "a scenario with two firms or more"
        )
    experiment = Experiment(
        name=settings.get("name") or Path(source).stem,
        source=source,
        base=base,
        factors=factors,
        design=design,
        samples=samples,
        replicates=settings.get("replicates", 5),
        rule=rule,
        steps=settings.get("steps", 200),
        seed=settings.get("seed", 0),
        keep=keep,
        question=settings.get("question", ""),
        description=settings.get("description", ""),
        bootstrap=settings.get("bootstrap", 1000),
        report=_report(data.get("report", {}), factors),
        quick=quick,
        raw=raw,
    )
    experiment.table = design_table(factors, design, samples, experiment.seed)
    _resolve_points(experiment, written)
    return experiment


def _replicate_rule(table: dict[str, Any]) -> ReplicateRule:
    """``replicates = {min = 8, max = 256, until = "winner"}`` (or ``until = "ci"`` with
    ``metric`` and ``width``)."""
    where = "experiment.replicates"
    for key in table:
        if key not in RULE_KEYS:
            raise _unknown(f"{where}.{key}", RULE_KEYS)
    for key in ("min", "max", "until"):
        if key not in table:
            raise ExperimentError(f"{where}.{key}", reason="missing; e.g. replicates = "
                                  '{ min = 8, max = 256, until = "winner" }')  # fmt: skip
    low, high = _typed(f"{where}.min", table["min"], int), _typed(f"{where}.max", table["max"], int)
    if low < 2:
        raise ExperimentError(f"{where}.min", low, "an integer >= 2 (a CI needs two replicates)")
    if high < low:
        raise ExperimentError(f"{where}.max", high, f"an integer >= min = {low}")
    until = table["until"]
    if until not in UNTIL:
        raise ExperimentError(f"{where}.until", until, "one of " + ", ".join(map(repr, UNTIL)))
    metric = _typed(f"{where}.metric", table.get("metric", "final_share"), str)
    if metric not in METRICS:
        raise ExperimentError(f"{where}.metric", metric, "one of " + ", ".join(METRICS))
    width = _typed(f"{where}.width", table.get("width", 0.0), (int, float))
    if until == "ci" and not width > 0:
        raise ExperimentError(f"{where}.width", width, 'a number > 0 with until = "ci"')
    if until == "winner" and ("metric" in table or "width" in table):
        raise ExperimentError(f"{where}", reason='metric and width are for until = "ci"')
    return ReplicateRule(low, high, until, metric, float(width))


def _apply_quick(data: dict[str, Any]) -> dict[str, Any]:
    """The tables with ``[quick]`` merged in (sizes replaced, set and factors merged)."""
    data = copy.deepcopy(data)
    quick = data.pop("quick", {})
    for key, value in quick.items():
        if key not in QUICK_KEYS:
            raise _unknown(f"quick.{key}", QUICK_KEYS)
        if key == "set":
            data.setdefault("set", {}).update(_typed("quick.set", value, dict))
        elif key == "factors":
            factors = data.setdefault("factors", {})
            for name, spec in _typed("quick.factors", value, dict).items():
                if name not in factors:
                    raise ExperimentError(
                        f"quick.factors.{name}",
                        reason=f"no factor {name!r} in [factors]; factors: "
                        + (", ".join(factors) or "none"),
                    )
                old = factors[name]
                if isinstance(spec, list) or not isinstance(old, dict):
                    factors[name] = spec
                    continue
                spec = _typed(f"quick.factors.{name}", spec, dict)
                if "values" in spec:
                    old = {k: v for k, v in old.items() if k not in ("low", "high", "levels")}
                if "low" in spec or "high" in spec:
                    old = {k: v for k, v in old.items() if k not in ("values", "labels")}
                factors[name] = {**old, **spec}
        else:
            data["experiment"][key] = value
    return data


def _base_scenario(
    data: dict[str, Any], base: str | None, path: Path
) -> tuple[Scenario, dict[str, str]]:
    """The base scenario (the file named by ``experiment.base``, then ``[base]``, then
    ``[set]``) and the keys the experiment itself writes there, with where."""
    tables: dict[str, Any] = {}
    if base is not None:
        candidates = [path.parent / base, ROOT / base, Path(base)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ExperimentError(
                "experiment.base", base, "a scenario file (relative to the experiment or the repo)"
            )
        tables = load_scenario(found).to_dict()  # its errors name the scenario file
    written: dict[str, str] = {}
    for section, table in copy.deepcopy(data.get("base", {})).items():
        if section == "firms" or not isinstance(table, dict):
            tables[section] = table
            continue
        tables[section] = {**tables.get(section, {}), **table}
        written.update({f"{section}.{key}": "[base]" for key in table})
    scenario = from_dict(tables, strict=False)
    scenario.source = str(path)
    overrides = data.get("set", {})
    for key, value in overrides.items():
        if isinstance(value, dict):
            raise ExperimentError(f"set.{key}", value, 'a value; quote dotted keys: "market.x" = 1')
        written.update(dict.fromkeys(_expand(key, scenario), "[set]"))
    if overrides:
        scenario = scenario.with_overrides(dict(overrides), "[set]", strict=False)
    return scenario, written


def _expand(key: str, base: Scenario) -> list[str]:
    """``firms.*.KEY`` means the key of every firm of the base scenario."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "firms" and parts[1] == "*":
        return [f"firms.{f['name']}.{parts[2]}" for f in base.firms]
    return [key]


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


def _factors(table: Any, base: Scenario, design: str) -> list[Factor]:
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
            raise _unknown(f"{where}.{key}", FACTOR_KEYS)
    if "key" in spec and "keys" in spec:
        raise ExperimentError(where, reason="give key or keys, not both")
    raw_keys = spec.get("keys", [spec.get("key", name)])
    if not isinstance(raw_keys, list):
        raise ExperimentError(f"{where}.keys", raw_keys, "a list of dotted keys")
    keys: list[str] = []
    for key in raw_keys:
        keys.extend(_expand(_typed(f"{where}.key", key, str), base))
    for key in keys:
        if "{" not in key:  # a key naming another factor's level is checked per point
            _check_key(key, where, base)
    label = _typed(f"{where}.label", spec.get("label", ""), str)
    integer = all(is_integer_key(k) for k in keys)
    if ("values" in spec) == ("low" in spec or "high" in spec):
        raise ExperimentError(where, reason="expected either values = [...] or low and high")
    if "values" in spec:
        return _values_factor(name, spec, tuple(keys), label, integer, design)
    for key in ("low", "high"):
        if key not in spec:
            raise ExperimentError(f"{where}.{key}", reason="missing; a range needs low and high")
        _typed(f"{where}.{key}", spec[key], (int, float))
    low, high = float(spec["low"]), float(spec["high"])
    if not low < high:
        raise ExperimentError(f"{where}.high", spec["high"], f"a number > low = {spec['low']}")
    levels = _typed(f"{where}.levels", spec.get("levels", 5), int)
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
        for end, bound in (("low", low), ("high", high)):
            _check_level(key, round(bound) if integer else bound, f"{where}.{end}")
    return Factor(name, tuple(keys), low=low, high=high, levels=levels, scale=scale,
                  label=label, integer=integer)  # fmt: skip


def _values_factor(
    name: str, spec: dict[str, Any], keys: tuple[str, ...], label: str, integer: bool, design: str
) -> Factor:
    where = f"factors.{name}"
    values = _typed(f"{where}.values", spec["values"], list)
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
        labels = _typed(f"{where}.labels", labels, list)
        if len(labels) != len(values) or not all(isinstance(x, str) for x in labels):
            raise ExperimentError(
                f"{where}.labels", labels, f"{len(values)} strings, one per value"
            )
    if design != "grid":
        raise ExperimentError(
            where, reason=f"a {design} design samples ranges; expected low and high, not values"
        )
    for value in values:  # every level must be an allowed value of its key
        parts = value if isinstance(value, list) else [value] * len(keys)
        for key, part in zip(keys, parts, strict=True):
            _check_level(key, part, f"{where}.values")
    return Factor(name, keys, values=tuple(values), label=label,
                  labels=tuple(labels) if labels else None, integer=integer)  # fmt: skip


def _check_key(key: str, where: str, base: Scenario) -> None:
    """The key must name a model key of the base scenario."""
    if key.split(".")[0] in ("run", "scenario"):
        raise ExperimentError(
            f"{where}.key",
            key,
            "a model key (SECTION.KEY or firms.NAME.KEY); "
            "steps, replicates and seed are set in [experiment]",
        )
    try:
        apply_override(base.to_dict(), key, None)
    except InputError as err:
        raise ExperimentError(f"{where}.key", key, reason=err.message) from None


def _check_level(key: str, value: Any, where: str) -> None:
    """A level must be an allowed value of its key (the scenario checks combinations)."""
    name = key.split(".")[-1]
    per_firm = key.startswith(("firms.", "strategies."))
    spec = FIRM_PARAMETERS.get(name) if per_firm else MODEL_PARAMETERS.get(name)
    if spec is not None and spec.kind is not list and name != "strategy":
        try:
            check_value(key, value, spec)
        except InputError:
            raise ExperimentError(where, value, f"{spec.allowed()} (the values of {key})") from None


def _check_keep(keep: tuple[str, ...], base: Scenario) -> None:
    """Each kept pattern must match an observable of the model."""
    from ..model import InnovationModel

    columns = InnovationModel.observable_names(base.firms)
    for pattern in keep:
        if not isinstance(pattern, str):
            raise ExperimentError("experiment.keep", pattern, "observable names or glob patterns")
        if not fnmatch.filter(columns, pattern):
            raise ExperimentError(
                "experiment.keep", pattern, "an observable (glob) among " + ", ".join(columns)
            )


def _report(table: Any, factors: list[Factor]) -> dict[str, Any]:
    names = [f.name for f in factors]
    report: dict[str, Any] = {}
    for key, value in table.items():
        if key not in REPORT_KEYS:
            raise _unknown(f"report.{key}", REPORT_KEYS)
        report[key] = value
    for key in ("curves", "map", "metrics"):
        if key in report:
            _typed(f"report.{key}", report[key], list)
    for key in ("metric", "metric_factor", "analysis"):
        if key in report:
            _typed(f"report.{key}", report[key], str)
    referenced = [*report.get("curves", []), *report.get("map", [])]
    if "metric_factor" in report:
        referenced.append(report["metric_factor"])
    for name in referenced:
        if name not in names:
            raise ExperimentError(
                "report", name, "a factor name among " + (", ".join(names) or "none")
            )
    if "map" in report and len(report["map"]) != 2:
        raise ExperimentError("report.map", report["map"], "two factor names [x, y]")
    metrics = [*report.get("metrics", []), *([report["metric"]] if "metric" in report else [])]
    for metric in metrics:
        if metric not in METRICS:
            raise ExperimentError("report.metrics", metric, "one of " + ", ".join(METRICS))
    analysis = report.get("analysis", "standard")
    if analysis not in ANALYSES:
        raise ExperimentError("report.analysis", analysis, "one of " + ", ".join(ANALYSES))
    return report


def _resolve_points(experiment: Experiment, written: dict[str, str]) -> None:
    """Each design point as a checked scenario (validated once), and the refusal of any
    key the experiment writes that reaches the model at no design point."""
    table, factors = experiment.table, experiment.factors
    never: dict[str, str] | None = None  # key -> reason, for keys unused at every point so far
    sometimes: dict[str, int] = {}
    origins = dict(written)
    for i in range(len(table)):
        values = {f.name: plain(table.iloc[i][f.name]) for f in factors}
        overrides: dict[str, Any] = {}
        for f in factors:
            level = f.overrides(values[f.name], values if f.templated else None)
            overrides.update(level)
            for key in level:
                origins.update(dict.fromkeys(_expand(key, experiment.base), f"factor {f.name}"))
        described = ", ".join(f"{k}={v}" for k, v in values.items())
        scenario = experiment.base.with_overrides(
            overrides, f"design point {i} ({described})", strict=False
        )
        unused = scenario.unused_keys(list(origins))
        for key in unused:
            sometimes[key] = sometimes.get(key, 0) + 1
        never = unused if never is None else {k: r for k, r in never.items() if k in unused}
        experiment.points.append(
            DesignPoint(i, values, overrides, scenario.params, scenario.firms, scenario.strategies)
        )
    for key, reason in (never or {}).items():
        origin = origins[key]
        value = _written_value(experiment, key, origin)
        raise ExperimentError(
            key,
            value,
            reason=f"set by {origin}, does not reach the model at any design point: {reason}",
        )
    for key, count in sometimes.items():
        experiment.notes.append(
            f"{key} reaches the model at {len(table) - count} of {len(table)} design points"
        )


def _written_value(experiment: Experiment, key: str, origin: str) -> Any:
    if origin.startswith("factor "):
        factor = experiment.factor(origin.removeprefix("factor "))
        if factor.values is None:
            return [factor.low, factor.high]
        at = factor.keys.index(key) if key in factor.keys else 0
        return [v[at] if isinstance(v, list) else v for v in factor.values]
    section, name = key.split(".", 1)
    return experiment.base.data.get(section, {}).get(name)
