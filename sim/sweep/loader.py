"""Experiment files (TOML) to a validated :class:`~.experiment.Experiment`, before any run.

An experiment file has the tables ``[experiment]`` (name, question, base scenario,
design, samples, replicates, steps, seed, kept observables), ``[base]`` (scenario
tables merged over the base file), ``[set]`` (dotted overrides for every run),
``[factors]`` (what varies), ``[quick]`` (smaller sizes for ``--quick``),
``[report]`` (which figures), ``[robust]`` (a focal firm that takes each strategy in
turn in every sampled future) and ``[discovery]`` (where each strategy wins, by PRIM);
docs/sweeps.md describes every key.

Each design point is validated once, as the scenario it makes. Every key the
experiment writes (in ``[base]``, ``[set]`` or a factor) must reach the model at some
design point; one that never does is refused with the reason. Every problem raises
an :class:`~sim.errors.InputError` naming the file (added here, once), the key, the
value and what is allowed.
"""

from __future__ import annotations

import copy
import fnmatch
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..observables import observable_names
from ..paths import ROOT
from ..scenario import Scenario, from_dict, load_scenario, read_toml
from .columns import METRICS
from .experiment import (
    DESIGNS,
    UNTIL,
    DesignPoint,
    Experiment,
    ExperimentError,
    Factor,
    ReplicateRule,
    design_table,
    plain,
)
from .factors import parse_factors, typed, unknown

__all__ = ["build_experiment", "load_experiment"]

ANALYSES = ("standard", "bass")
TABLES = ("experiment", "base", "set", "factors", "quick", "report", "robust", "discovery")
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
QUICK_KEYS = ("replicates", "steps", "samples", "keep", "set", "factors", "bootstrap")
REPORT_KEYS = ("curves", "map", "metric", "metric_factor", "metrics", "analysis")
RULE_KEYS = ("min", "max", "until", "metric", "width")
ROBUST_KEYS = ("focal", "strategies")
#: [discovery] settings, their defaults and what is allowed (low, high), both open.
DISCOVERY_KEYS: dict[str, tuple[float, float, float]] = {
    "peel_alpha": (0.05, 0.0, 0.5),  # share of the box peeled off at each PRIM step
    "mass_min": (0.05, 0.0, 1.0),  # PRIM stops peeling below this share of all runs
    "significance": (0.05, 0.0, 1.0),  # a restriction's quasi-p value must be below it
}
#: Name of the factor that [robust] adds: the focal firm's strategy.
FOCAL_FACTOR = "focal_strategy"


def load_experiment(path: str | Path, quick: bool = False) -> Experiment:
    """Read and validate an experiment file; ``quick`` applies its ``[quick]`` table."""
    return build_experiment(read_toml(path, "experiment", ExperimentError), str(path), quick)


def build_experiment(data: dict[str, Any], source: str, quick: bool = False) -> Experiment:
    """Validate parsed experiment tables and resolve every design point."""
    try:
        return _build(data, source, quick)
    except InputError as err:
        raise err.at(source) from None


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
            raise unknown(f"experiment.{key}", list(EXPERIMENT_KEYS))
        settings[key] = typed(f"experiment.{key}", value, kind)
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
    factors = parse_factors(data.get("factors", {}), base, design)
    discovery = _discovery(data.get("discovery"), design)
    robust = _robust(data.get("robust"), base, design, factors)
    if robust:
        factors.append(robust.pop("factor"))
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
        discovery=discovery,
        robust=robust,
    )
    experiment.table, experiment.futures = design_table(factors, design, samples, experiment.seed)
    _resolve_points(experiment, written)
    return experiment


def _replicate_rule(table: dict[str, Any]) -> ReplicateRule:
    """``replicates = {min = 8, max = 256, until = "winner"}`` (or ``until = "ci"`` with
    ``metric`` and ``width``)."""
    where = "experiment.replicates"
    for key in table:
        if key not in RULE_KEYS:
            raise unknown(f"{where}.{key}", RULE_KEYS)
    for key in ("min", "max", "until"):
        if key not in table:
            raise ExperimentError(
                f"{where}.{key}",
                reason='missing; e.g. replicates = { min = 8, max = 256, until = "winner" }',
            )
    low, high = typed(f"{where}.min", table["min"], int), typed(f"{where}.max", table["max"], int)
    if low < 2:
        raise ExperimentError(f"{where}.min", low, "an integer >= 2 (a CI needs two replicates)")
    if high < low:
        raise ExperimentError(f"{where}.max", high, f"an integer >= min = {low}")
    until = table["until"]
    if until not in UNTIL:
        raise ExperimentError(f"{where}.until", until, "one of " + ", ".join(map(repr, UNTIL)))
    metric = typed(f"{where}.metric", table.get("metric", "final_share"), str)
    if metric not in METRICS:
        raise ExperimentError(f"{where}.metric", metric, "one of " + ", ".join(METRICS))
    width = typed(f"{where}.width", table.get("width", 0.0), (int, float))
    if until == "ci" and not width > 0:
        raise ExperimentError(f"{where}.width", width, 'a number > 0 with until = "ci"')
    if until == "winner" and ("metric" in table or "width" in table):
        raise ExperimentError(f"{where}", reason='metric and width are for until = "ci"')
    return ReplicateRule(low, high, until, metric, float(width))


def _robust(
    table: Any, base: Scenario, design: str, factors: list[Factor]
) -> dict[str, Any] | None:
    """``[robust] focal = "NAME"``: that firm takes each of ``strategies`` in turn (a
    factor crossed with every sampled future); the others stay as they are."""
    from ..strategies import STRATEGIES

    if table is None:
        return None
    table = typed("robust", table, dict)
    for key in table:
        if key not in ROBUST_KEYS:
            raise unknown(f"robust.{key}", ROBUST_KEYS)
    if design != "lhs":
        raise ExperimentError(
            "robust", reason=f"needs sampled futures (experiment.design = 'lhs'), not {design!r}"
        )
    names = [f["name"] for f in base.firms]
    focal = typed("robust.focal", table.get("focal", ""), str)
    if focal not in names:
        raise ExperimentError(
            "robust.focal", focal, "a firm of the base scenario, one of " + ", ".join(names)
        )
    options = typed("robust.strategies", table.get("strategies", list(STRATEGIES)), list)
    for option in options:
        if option not in STRATEGIES:
            raise ExperimentError(
                "robust.strategies", option, "strategies among " + ", ".join(STRATEGIES)
            )
    if len(set(options)) < 2 or len(set(options)) != len(options):
        raise ExperimentError("robust.strategies", options, "two or more distinct strategies")
    if any(f.name == FOCAL_FACTOR for f in factors):
        raise ExperimentError(f"factors.{FOCAL_FACTOR}", reason="the name is taken by [robust]")
    factor = Factor(
        FOCAL_FACTOR,
        (f"firms.{focal}.strategy",),
        values=tuple(options),
        label=f"strategy of {focal}",
    )
    base_strategy = next(f["strategy"] for f in base.firms if f["name"] == focal)
    if base_strategy not in options:
        raise ExperimentError(
            "robust.strategies",
            options,
            f"a list that includes {focal}'s own strategy {base_strategy!r} (the futures "
            "as the base scenario has them)",
        )
    return {"focal": focal, "strategies": options, "base": base_strategy, "factor": factor}


def _discovery(table: Any, design: str) -> dict[str, Any] | None:
    """``[discovery]``: PRIM boxes of where each strategy wins, and feature scores."""
    if table is None:
        return None
    table = typed("discovery", table, dict)
    if design not in ("lhs", "sobol"):
        raise ExperimentError(
            "discovery",
            reason="scenario discovery needs a random design (experiment.design = 'lhs'), "
            f"not {design!r}: PRIM looks for boxes in sampled futures",
        )
    settings = {}
    for key, value in table.items():
        if key not in DISCOVERY_KEYS:
            raise unknown(f"discovery.{key}", list(DISCOVERY_KEYS))
        _, low, high = DISCOVERY_KEYS[key]
        value = typed(f"discovery.{key}", value, (int, float))
        if not low < value < high:
            raise ExperimentError(f"discovery.{key}", value, f"a number > {low:g} and < {high:g}")
        settings[key] = value
    return {key: settings.get(key, default) for key, (default, _, _) in DISCOVERY_KEYS.items()}


def _apply_quick(data: dict[str, Any]) -> dict[str, Any]:
    """The tables with ``[quick]`` merged in (sizes replaced, set and factors merged)."""
    data = copy.deepcopy(data)
    quick = data.pop("quick", {})
    for key, value in quick.items():
        if key not in QUICK_KEYS:
            raise unknown(f"quick.{key}", QUICK_KEYS)
        if key == "set":
            data.setdefault("set", {}).update(typed("quick.set", value, dict))
        elif key == "factors":
            factors = data.setdefault("factors", {})
            for name, spec in typed("quick.factors", value, dict).items():
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
                spec = typed(f"quick.factors.{name}", spec, dict)
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
        written[key] = "[set]"  # a wildcard firms.*.KEY is judged as one key
    if overrides:
        scenario = scenario.with_overrides(dict(overrides), "[set]", strict=False)
    return scenario, written


def _check_keep(keep: tuple[str, ...], base: Scenario) -> None:
    """Each kept pattern must match an observable of the model."""
    columns = observable_names(base.firms)
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
            raise unknown(f"report.{key}", REPORT_KEYS)
        report[key] = value
    for key in ("curves", "map", "metrics"):
        if key in report:
            typed(f"report.{key}", report[key], list)
    for key in ("metric", "metric_factor", "analysis"):
        if key in report:
            typed(f"report.{key}", report[key], str)
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
            origins.update(dict.fromkeys(level, f"factor {f.name}"))
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
    return experiment.base.written_value(key)
