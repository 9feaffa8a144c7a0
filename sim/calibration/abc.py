"""The ABC-SMC run: pyabc set up for adoption curves, its SQLite history, and resume.

**Distance.** The root-mean-square error, in shares, between the observed points and
the simulated curve at its best launch time (:func:`.simulate.align`): the summary
statistic is the whole curve, not a few features of it. Series are short (5 to 108
points) and their shape is what is fitted, and it is the criterion the Bass benchmark
minimises too, so the two fits are scored alike. The distance is fixed (not adaptive),
which keeps a resumed calibration identical to an uninterrupted one.

**Schedule.** Epsilon is the median distance of the previous population
(``QuantileEpsilon``, starting from a prior sample); proposals come from a
multivariate normal kernel around the previous population. The calibration stops when
the simulation budget is spent (a generation that would exceed it is cut off and
dropped) or after ``max_generations``; both give the same result when a finished
calibration is run again.

**History and resume.** pyabc stores each finished generation in SQLite
(``history.db``) together with the calibration's fingerprint (data, series, points
fitted, scenario, fitted keys and ranges, seed, population size, versions). Run again
with the same settings, a calibration continues after its last stored generation;
with other settings it is refused. A generation interrupted half-way is run again from
its first candidate, with the same seeds, so an interrupted and resumed calibration
gives the same posterior as an uninterrupted one (``tests/test_calibration_abc.py``).
"""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..provenance import derive_seed, package_versions
from .priors import FitKey
from .sampler import MAIN_STREAM, DeterministicSampler, GenerationReport, seed_global
from .simulate import CurveSimulator, align

__all__ = ["AbcOutcome", "AbcSettings", "CurveModel", "profile_distance", "run_abc"]

HISTORY = "history.db"


@dataclass(frozen=True)
class AbcSettings:
    """How long and how wide the ABC-SMC search is; none of it changes a result but
    ``population`` (and ``budget``/``max_generations``, which say where it stops)."""

    budget: int = 10_000
    population: int = 200
    max_generations: int = 30
    batch: int = 8

    def check(self) -> None:
        """One-line errors, naming the flag, for settings out of range."""
        if self.population < 20:
            raise InputError("--population", self.population, "an integer >= 20")
        if self.budget < 3 * self.population:
            raise InputError(
                "--budget",
                self.budget,
                f"an integer >= 3 x the population ({3 * self.population}): the prior "
                "sample and the first generation take at least that",
            )
        if self.max_generations < 1:
            raise InputError("--generations", self.max_generations, "an integer >= 1")


@dataclass(frozen=True)
class CurveModel:
    """pyabc's model: fitted values to the simulated curve and the seed that made it.

    The seed is drawn from NumPy's global generator, which the sampler seeded for
    this candidate, right after pyabc drew the candidate's parameters from it.
    """

    simulator: CurveSimulator

    def __call__(self, parameters: dict[str, float]) -> dict[str, np.ndarray]:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        values = {key.key: float(parameters[key.key]) for key in self.simulator.keys}
        return {"curve": self.simulator.curve(values, seed), "seed": np.array([seed])}


def profile_distance(simulated: dict[str, Any], observed: dict[str, Any]) -> float:
    """RMSE (shares) between the observed points and the curve at its best launch."""
    return align(simulated["curve"], observed["times"], observed["shares"]).rmse


@dataclass
class AbcOutcome:
    """The last population, every stored generation, and how the run ended."""

    population: Any  # pyabc.Population of the last stored generation
    generations: pd.DataFrame  # t, epsilon, particles, simulations, acceptance_rate, ess
    reports: list[GenerationReport] = field(default_factory=list)
    resumed_from: int = 0
    simulations_run: int = 0  # in this invocation, discarded ones included
    stopped: str = ""
    sampling_seconds: float = 0.0  # pyabc's wall time of every stored generation, summed


def _priors(keys: tuple[FitKey, ...]) -> Any:
    import pyabc

    return pyabc.Distribution(**{k.key: pyabc.RV("uniform", k.low, k.width) for k in keys})


def run_abc(
    simulator: CurveSimulator,
    times: np.ndarray,
    shares: np.ndarray,
    fingerprint: dict[str, Any],
    settings: AbcSettings,
    *,
    seed: int,
    history: Path | None,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    finished: int | None = None,
) -> AbcOutcome:
    """Run (or resume) ABC-SMC of the simulator's fitted keys on (times, shares).

    ``history`` is the SQLite file (None: in memory, no resume). A stored history with
    another ``fingerprint`` is refused with an InputError naming what differs. If it
    holds exactly ``finished`` generations (a calibration that already stopped with
    these settings), nothing is sampled again.
    """
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    reports: list[GenerationReport] = []

    def report(generation: GenerationReport) -> None:
        reports.append(generation)
        if on_generation is not None:
            on_generation(generation)

    sampler = DeterministicSampler(
        seed,
        workers=workers,
        scheduler=scheduler,
        batch=settings.batch,
        progress=progress,
        on_generation=report,
    )
    abc = pyabc.ABCSMC(
        pyabc.FunctionModel(CurveModel(simulator), name="adoption"),
        _priors(simulator.keys),
        pyabc.FunctionDistance(profile_distance),
        population_size=settings.population,
        eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample", alpha=0.5),
        sampler=sampler,
    )
    observed = {"times": np.asarray(times, dtype=float), "shares": np.asarray(shares, dtype=float)}
    stamp = json.dumps(fingerprint, sort_keys=True, default=str)
    url = f"sqlite:///{history}" if history is not None else "sqlite://"
    stored = _stored_generations(history, stamp)
    if stored:
        abc.load(url, 1)
        seed_global(derive_seed(seed, stored, MAIN_STREAM))  # as after generation stored - 1
    else:
        if history is not None and history.exists():
            history.unlink()  # a history with no finished generation: start afresh
        abc.new(url, observed, meta_info={"calibration": stamp})
        seed_global(derive_seed(seed, 0, MAIN_STREAM))
    remaining = settings.max_generations - stored
    stopped = "generations" if remaining <= 0 else ""
    if stored and stored == finished:
        remaining, stopped = 0, "budget"
    if remaining > 0 and abc.history.total_nr_simulations < settings.budget:
        try:
            abc.run(max_nr_populations=remaining, max_total_nr_simulations=settings.budget)
        finally:
            sampler.stop()
    abc_history = abc.history
    generations = _generations(abc_history)
    if not stopped:
        stopped = _stop_reason(generations, reports, settings)
    if generations.empty:
        raise InputError(
            "--budget",
            settings.budget,
            reason="the budget ran out before the first generation was complete: expected "
            "a larger budget",
        )
    return AbcOutcome(
        population=abc_history.get_population(t=int(generations["t"].iloc[-1])),
        generations=generations,
        reports=reports,
        resumed_from=stored,
        simulations_run=sampler.simulations_run,
        stopped=stopped,
        sampling_seconds=float(abc_history.get_all_populations()["wall_time"].sum()),
    )


def _stored_generations(history: Path | None, stamp: str) -> int:
    """Generations a history on disk holds for this fingerprint (0: none, start afresh).

    A history for other settings is an InputError naming the settings that differ."""
    if history is None or not history.exists():
        return 0
    import pyabc

    try:
        stored = pyabc.History(f"sqlite:///{history}", _id=1, create=False)
        meta = ast.literal_eval(stored.get_abc().json_parameters)
        n = int(stored.n_populations)
    except Exception:  # not a pyabc history, or an empty or damaged one
        raise InputError(
            "--out",
            str(history.parent),
            reason=f"{history.name} there is not a calibration history this command can "
            "continue: expected another --out directory, or that file removed",
        ) from None
    theirs = json.loads(meta.get("calibration", "{}"))
    ours = json.loads(stamp)
    if theirs != ours:
        differing = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        raise InputError(
            "--out",
            str(history.parent),
            reason=f"{history.name} holds a calibration with other settings (differing: "
            f"{', '.join(differing)}): expected another --out directory, or the same "
            "data, scenario, --fit, --series, --holdout, --seed and --population to resume",
        )
    return n


def _generations(history: Any) -> pd.DataFrame:
    """One row per stored generation (the prior sample excluded)."""
    frame = history.get_all_populations()
    frame = frame[frame["t"] >= 0].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "generation": frame["t"].astype(int),
            "epsilon": frame["epsilon"].astype(float),
            "particles": frame["particles"].astype(int),
            "simulations": frame["samples"].astype(int),
        }
    )
    out["acceptance_rate"] = out["particles"] / out["simulations"]
    out["ess"] = [_ess(history.get_distribution(m=0, t=int(t))[1]) for t in out["generation"]]
    return out.rename(columns={"generation": "t"})


def _ess(weights: np.ndarray) -> float:
    """Effective sample size, 1 / sum of squared normalised weights."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


def _stop_reason(
    generations: pd.DataFrame, reports: list[GenerationReport], settings: AbcSettings
) -> str:
    if reports and not reports[-1].complete:
        return "budget"
    if len(generations) >= settings.max_generations:
        return "generations"
    return "budget"


def settings_record(settings: AbcSettings) -> dict[str, Any]:
    """The settings as stored in the fingerprint and manifest."""
    return asdict(settings) | {"pyabc": package_versions().get("pyabc", "")}
