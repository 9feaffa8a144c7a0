"""A sweep's experiment: what varies (factors), the design table, each design point's
checked parameters, and the runs they make.

Reading and validating an experiment file is :mod:`.loader`'s job; this module holds
what the loader builds and what the rest of the sweep reads.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keys import parse_key
from ..outputs import RunSpec
from ..paths import ROOT
from ..provenance import derive_seed, digest
from ..scenario import Scenario
from ..spec import Range
from .text import fmt

__all__ = [
    "DESIGNS",
    "DesignPoint",
    "Experiment",
    "ExperimentError",
    "Factor",
    "ReplicateRule",
    "design_table",
    "is_integer_key",
    "plain",
    "sampling_problem",
]

DESIGNS = ("grid", "lhs", "sobol")


class ExperimentError(InputError):
    """An experiment (file or option) is not valid: names file, key, value and what is allowed."""


@dataclass(frozen=True)
class Factor:
    """One thing that varies: explicit levels or a numeric range, on one or more scenario keys."""

    name: str
    keys: tuple[str, ...]
    values: tuple[Any, ...] | None = None
    span: Range | None = None
    levels: int = 5
    scale: str = "linear"
    label: str = ""
    labels: tuple[str, ...] | None = None

    @property
    def is_range(self) -> bool:
        """True for a range ``{low, high}``, False for explicit ``values``."""
        return self.values is None

    @property
    def low(self) -> float | None:
        """The range's low end (None for explicit values)."""
        return None if self.span is None else self.span.low

    @property
    def high(self) -> float | None:
        """The range's high end (None for explicit values)."""
        return None if self.span is None else self.span.high

    @property
    def integer(self) -> bool:
        """Whether the range's keys take whole numbers (sampled levels are rounded)."""
        return self.span is not None and self.span.integer

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
        assert self.span is not None
        return self.span.cast(x)

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

    def keys_at(self, context: dict[str, Any]) -> tuple[str, ...]:
        """The keys this factor sets at a design point (braces filled from ``context``)."""
        return tuple(k.format(**context) for k in self.keys) if self.templated else self.keys

    def overrides(self, level: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Scenario overrides for a design-table value of this factor.

        ``context`` maps other factors' names to their levels at the same design point,
        for keys that name them in braces.
        """
        keys = self.keys_at(context or {})
        value = level
        if self.values is not None and any(isinstance(v, list) for v in self.values):
            for raw in self.values:
                if self.level_value(raw) == level:
                    value = raw
                    break
        if isinstance(value, list):
            return dict(zip(keys, value, strict=True))
        return dict.fromkeys(keys, value)


UNTIL = ("winner", "ci")


@dataclass(frozen=True)
class ReplicateRule:
    """Replicates until the answer is clear, per design point.

    Every point starts with ``min`` replicates; a point still undecided gets more, the
    count doubling (``min``, ``2 min``, ... up to ``max``), until it is decided or has
    ``max``. Decided means, with ``until = "winner"``, that the winner's margin over the
    runner-up has a confidence interval above 0, and with ``until = "ci"`` that every
    firm's ``metric`` has a confidence interval at most ``width`` wide. Deciding after
    each round is a look at the data; so that looking several times does not make a
    tie look like a win, each look uses the level 1 - 0.05 / looks (Bonferroni).
    """

    min: int
    max: int
    until: str = "winner"
    metric: str = "final_share"
    width: float = 0.0

    def schedule(self) -> list[int]:
        """Replicates a point has after each round: min, 2 min, ..., max."""
        counts = [self.min]
        while counts[-1] < self.max:
            counts.append(min(2 * counts[-1], self.max))
        return counts

    @property
    def level(self) -> float:
        """Confidence level of each look (95 % over all looks together)."""
        return 1 - 0.05 / len(self.schedule())

    def describe(self) -> str:
        """How many replicates and until what, in words."""
        what = (
            "the winner is clear"
            if self.until == "winner"
            else f"every firm's {self.metric} CI is at most {self.width:g} wide"
        )
        return f"{self.min} to {self.max} replicates per point, doubling until {what}"


@dataclass(frozen=True)
class DesignPoint:
    """One row of the design: its factor values, the overrides they make, and the
    model parameters and firms they resolve to (checked once)."""

    index: int
    values: dict[str, Any]
    overrides: dict[str, Any]
    params: dict[str, Any]
    firms: list[dict[str, Any]]
    strategies: dict[str, dict[str, Any]]


@dataclass
class Experiment:
    """A validated experiment: base scenario, factors, design table and run settings."""

    name: str
    source: str
    base: Scenario
    factors: list[Factor]
    design: str = "grid"
    samples: int = 0
    replicates: int = 5  # per point; with a rule, the most a point may get
    rule: ReplicateRule | None = None
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
    points: list[DesignPoint] = field(default_factory=list, repr=False)
    futures: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    notes: list[str] = field(default_factory=list)
    discovery: dict[str, Any] | None = None
    robust: dict[str, Any] | None = None

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.table)

    @property
    def n_runs(self) -> int:
        """Design points times replicates (with a rule: the most it may take)."""
        return self.n_points * self.replicates

    @property
    def decision_level(self) -> float:
        """Confidence level at which a winner is called clear."""
        return self.rule.level if self.rule else 0.95

    @property
    def replicates_text(self) -> str:
        """The replicates per point, for figures' footers."""
        if self.rule:
            return f"{self.rule.min}-{self.rule.max} replicates"
        return f"{self.replicates} replicates"

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

    @property
    def point_kwargs(self) -> list[dict[str, Any]]:
        """Each design point as keyword arguments of :class:`~sim.model.InnovationModel`."""
        return [{**p.params, "firms": p.firms, "strategies": p.strategies} for p in self.points]

    @property
    def crossed(self) -> bool:
        """Whether factors with explicit values are crossed with a random design."""
        return self.design != "grid" and any(not f.is_range for f in self.factors)

    @property
    def seed_rule(self) -> str:
        """How a run's seed derives from the experiment's (for manifests and reports)."""
        if self.crossed:
            return (
                f"run (point i, replicate r) uses derive_seed({self.seed}, f, r), f the "
                "sampled future of point i, so every variant of a future shares its seeds "
                "(common random numbers)"
            )
        return f"run (point i, replicate r) uses derive_seed({self.seed}, i, r)"

    def run_seed(self, point: int, replicate: int) -> int:
        """Seed of a run: derive_seed(seed, the point's future, replicate), order-independent.

        The future is the point itself unless explicit factors are crossed with a random
        design: then the variants of one sampled future share seeds (common random
        numbers, so that they differ only by what varies)."""
        return derive_seed(self.seed, int(self.futures[point]), replicate)

    def parameters(self, point: int) -> dict[str, Any]:
        """The design-table values of ``point`` (factor name -> value)."""
        return dict(self.points[point].values)

    def task(self, point: int, replicate: int) -> RunSpec:
        """The run (``point``, ``replicate``): labelled with both, its seed and the values."""
        design = self.points[point]
        seed = self.run_seed(point, replicate)
        return RunSpec(
            params=design.params,
            firms=design.firms,
            strategies=design.strategies,
            steps=self.steps,
            seed=seed,
            labels={"point": point, "replicate": replicate, "seed": seed, **design.values},
            keep=self.keep,
            releases=False,  # the store keeps each firm's first release, not every release
        )

    def tasks(self) -> list[RunSpec]:
        """Every (design point x replicate) run, in design order."""
        return [self.task(i, r) for i in range(self.n_points) for r in range(self.replicates)]

    def describe(self) -> str:
        """One line: design, points, replicates, runs, steps, customers."""
        n = self.base.resolved_parameters()["n_customers"]
        if self.design == "grid":
            levels = " x ".join(f"{f.name} {len(f.grid_levels())}" for f in self.factors)
            how = f"grid of {self.n_points} points ({levels or 'no factors'})"
        elif self.design == "lhs":
            ranges = [f for f in self.factors if f.is_range]
            how = f"Latin hypercube of {self.samples} futures over {len(ranges)} factors"
            if self.crossed:
                how += f", each run at {self.n_points // self.samples} variants"
        else:
            how = (
                f"Sobol/Saltelli design of {self.n_points} points (N = {self.samples}, "
                f"{len(self.factors)} factors)"
            )
        if self.rule:
            runs = (
                f"{self.rule.describe()} = {self.n_points * self.rule.min} to {self.n_runs} "
                f"runs of {self.steps} steps"
            )
        else:
            runs = f"{self.replicates} replicates = {self.n_runs} runs of {self.steps} steps"
        return f"{how} x {runs}, {n:,} customers{', quick size' if self.quick else ''}"

    def fingerprint(self) -> str:
        """Hash of everything that determines the runs' results (not the report settings)."""
        content = {
            "base": self.base.to_dict(),
            "overrides": [p.overrides for p in self.points],
            "table": self.table.to_dict(orient="list"),
            "replicates": self.replicates,
            "rule": repr(self.rule),
            "steps": self.steps,
            "seed": self.seed,
            "keep": list(self.keep),
        }
        return digest(content)[:16]

    def sobol_problem(self) -> dict[str, Any]:
        """The SALib problem of a Sobol or LHS design (bounds in sampling space)."""
        return sampling_problem(self.factors)

    def command(self) -> str:
        """The command that reproduces this sweep."""
        try:
            path = Path(self.source).resolve().relative_to(ROOT)
        except ValueError:
            path = Path(self.source)
        return f"python run.py sweep {path}{' --quick' if self.quick else ''}"

    def levels(self, name: str) -> list[Any]:
        """The levels of a factor in design order."""
        return list(dict.fromkeys(self.table[name].tolist()))

    def others_fixed(self, shown: list[str]) -> tuple[np.ndarray, str]:
        """Mask of design points where factors not ``shown`` are at their first level,
        and a note saying so."""
        mask = np.ones(self.n_points, dtype=bool)
        notes = []
        for name in self.factor_names:
            if name in shown:
                continue
            first = self.levels(name)[0]
            mask &= (self.table[name] == first).to_numpy()
            notes.append(f"{self.factor(name).title} = {fmt(first)}")
        return mask, ", ".join(notes)

    def bass_parameters(self, point: int) -> tuple[float, float]:
        """Bass p (the first firm's broadcast, its own or the market's) and q (imitation)."""
        design = self.points[point]
        firm = design.firms[0]
        return float(firm.get("broadcast", design.params["broadcast"])), float(
            design.params["imitation"]
        )


def design_table(
    factors: list[Factor], design: str, samples: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The design and each point's future.

    A grid is every combination of the factors' levels. A Latin hypercube or a
    Saltelli (Sobol) design samples the range factors (SALib, seeded by ``seed``); in a
    Latin hypercube, factors with explicit values are crossed with the sample, so each
    sampled *future* is run at every combination of them (e.g. every strategy of a
    focal firm). The second result gives each point's future: the sample it comes
    from (its own index when nothing is crossed).
    """
    if not factors:
        return pd.DataFrame(index=range(1)), np.zeros(1, dtype=np.int64)
    names = [f.name for f in factors]
    if design == "grid":
        rows = [list(combo) for combo in itertools.product(*[f.grid_levels() for f in factors])]
        return pd.DataFrame(rows, columns=names), np.arange(len(rows), dtype=np.int64)
    from SALib.sample import latin
    from SALib.sample import sobol as sobol_sample

    ranges = [f for f in factors if f.is_range]
    crossed = [f for f in factors if not f.is_range]
    problem = sampling_problem(ranges)
    if design == "lhs":
        unit = latin.sample(problem, samples, seed=seed % 2**32)
    else:
        unit = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed % 2**32)
    sampled = [{f.name: f.from_unit(x) for f, x in zip(ranges, row, strict=True)} for row in unit]
    combos = list(itertools.product(*[f.grid_levels() for f in crossed]))
    rows, futures = [], []
    for future, values in enumerate(sampled):
        for combo in combos:
            rows.append({**values, **dict(zip([f.name for f in crossed], combo, strict=True))})
            futures.append(future)
    return pd.DataFrame(rows, columns=names), np.asarray(futures, dtype=np.int64)


def sampling_problem(factors: list[Factor]) -> dict[str, Any]:
    """SALib's problem for the factors' ranges (bounds in sampling space)."""
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [f.bounds() for f in factors],
    }


def plain(value: Any) -> Any:
    """NumPy scalars as Python scalars (for JSON and task pickles)."""
    return value.item() if isinstance(value, np.generic) else value


def is_integer_key(key: str) -> bool:
    """Whether a scenario key takes integers (factor levels are rounded for it); a key
    naming another factor's level in braces is read with the brace as a firm name."""
    return parse_key(key).integer
