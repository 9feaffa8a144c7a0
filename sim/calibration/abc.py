"""The ABC-SMC run: pyabc set up for adoption curves, its SQLite history, and resume.

Two ways to accept a simulated curve, chosen by the fitted keys:

- **With the observation-error model** (the default: ``observation.noise`` fitted,
  :mod:`.observation`): a curve is accepted with probability given by the density of
  the data around it, tempered to 1 over the generations (:mod:`.tempering`); at
  temperature 1 the weighted population samples the exact posterior of model plus
  noise. ``epsilon`` in the history is the temperature.
- **Without it** (``--noise off``): the distance is the root-mean-square error, in
  shares, between the observed points and the curve at its best launch
  (:func:`.simulate.align`), and a curve is accepted below epsilon, the median
  distance of the previous population (``QuantileEpsilon``). The posterior is then
  that of the keys that bring the curve within epsilon, and the predictive band holds
  no noise: it is kept for comparison, and it fails the coverage checks.

Proposals come from a multivariate normal kernel around the previous population.

**One generation per pyabc run, and the budget.** Each generation is run by a fresh
pyabc object loaded from the history, exactly as a resumed calibration is, so an
interrupted and resumed calibration gives the same posterior as an uninterrupted one
by construction. Before each generation the budget left is compared with what that
generation should cost (the population over the previous acceptance rate, with a
margin for the rate falling): a generation the budget cannot finish is not started.
Every simulation is counted (:mod:`.sampler`: whole waves), the prior sample
included, and none runs past the budget; if a generation is cut off all the same, it
is dropped and its simulations are counted in the manifest.

**History and resume.** pyabc stores each finished generation in SQLite
(``history.db``) together with the calibration's fingerprint (data, series, points
fitted, scenario, fitted keys and ranges, seed, population and wave sizes, versions).
Run again with the same settings, a calibration continues after its last stored
generation; with other settings it is refused.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyabc.parameters import Parameter
from pyabc.transition import MultivariateNormalTransition, Transition

from ..errors import InputError
from ..provenance import derive_seed, package_versions
from .priors import FitKey, decoded
from .sampler import MAIN_STREAM, DeterministicSampler, GenerationReport, seed_global
from .simulate import CurveSimulator, align
from .tempering import FIRST_RATE, CurveKernel, PdfNorm, Tempering, expected_rate

__all__ = [
    "AbcOutcome",
    "AbcSettings",
    "CurveModel",
    "minimum_budget",
    "profile_distance",
    "run_abc",
]

HISTORY = "history.db"
#: The first generation may cost this much more than population / FIRST_RATE.
FIRST_MARGIN = 1.25
#: Without the noise model a later generation is predicted to cost population /
#: (previous acceptance rate) times FALLING (epsilon keeps falling); with it, population
#: / (predicted rate) times MARGIN (:func:`_predicted_rate`).
FALLING = 1.5
MARGIN = 1.25


def minimum_budget(population: int, wave: int) -> int:
    """The prior sample, a first generation with a margin, and one wave of waste."""
    return population + math.ceil(FIRST_MARGIN * population / FIRST_RATE) + wave


@dataclass(frozen=True)
class AbcSettings:
    """How long and how wide the ABC-SMC search is; ``population``, ``wave`` and
    ``prior_share`` change the result (``budget``/``max_generations`` say where it
    stops)."""

    budget: int = 10_000
    population: int = 200
    max_generations: int = 30
    wave: int = 48
    prior_share: float = 0.15  # of proposals drawn from the prior (DefensiveTransition)

    def check(self) -> None:
        """One-line errors, naming the flag, for settings out of range: a budget too
        small for a first generation is refused before anything is simulated."""
        if self.population < 20:
            raise InputError("--population", self.population, "an integer >= 20")
        least = minimum_budget(self.population, self.wave)
        if self.budget < least:
            raise InputError(
                "--budget",
                self.budget,
                f"an integer >= {least}: the prior sample ({self.population}) and a "
                f"first generation (about {round(self.population / FIRST_RATE)} "
                "simulations, more with bad luck) need that",
            )
        if self.max_generations < 1:
            raise InputError("--generations", self.max_generations, "an integer >= 1")


@dataclass(frozen=True)
class CurveModel:
    """pyabc's model: fitted values to the simulated curve and the seed that made it.

    The seed is drawn from NumPy's global generator, which the sampler seeded for
    this candidate, right after pyabc drew the candidate's parameters from it. Keys
    of the observation model are not the simulator's: they only reach the kernel.
    """

    simulator: CurveSimulator

    def __call__(self, parameters: dict[str, float]) -> dict[str, np.ndarray]:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        values = decoded(self.simulator.keys, parameters)
        return {"curve": self.simulator.curve(values, seed), "seed": np.array([seed])}


def profile_distance(simulated: dict[str, Any], observed: dict[str, Any]) -> float:
    """RMSE (shares) between the observed points and the curve at its best launch."""
    lead = float(observed["lead"][0])
    return align(simulated["curve"], observed["times"], observed["shares"], lead).rmse


@dataclass
class AbcOutcome:
    """The last population, every stored generation, and how the run ended."""

    populations: list[tuple[Any, float]]  # pooled pyabc Populations, each's weight share
    generations: pd.DataFrame  # t, epsilon, particles, simulations, acceptance_rate, ess
    reports: list[GenerationReport] = field(default_factory=list)
    resumed_from: int = 0
    simulations_run: int = 0  # in this invocation, a dropped generation's included
    stopped: str = ""
    sampling_seconds: float = 0.0  # pyabc's wall time of every stored generation, summed
    spent: int = 0  # simulations of the stored history: the prior sample and generations
    next_cost: int = 0  # what the generation not started would have needed
    dropped: int = 0  # simulations of a generation cut off by the budget (this run)


class DefensiveTransition(Transition):
    """Proposals from a multivariate normal kernel around the previous population
    (pyabc's), mixed with a share drawn from the prior (Hesterberg 1995): every part of
    the prior keeps being proposed, so a posterior's tails are not lost to a population
    that drifted, and no importance weight exceeds 1 / share times the prior's over the
    kernel's bound. The density is the mixture's, so the weights stay exact."""

    def __init__(self, bounds: dict[str, tuple[float, float]], share: float) -> None:
        self.bounds = bounds
        self.share = share
        self.kernel = MultivariateNormalTransition()

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        self.kernel.fit(X, w)

    def rvs_single(self) -> Parameter:
        if self.share > 0 and np.random.uniform() < self.share:
            return Parameter({key: np.random.uniform(*self.bounds[key]) for key in self.X.columns})
        return self.kernel.rvs_single()

    def pdf(self, x: Any) -> Any:
        kernel = self.kernel.pdf(x)
        if self.share <= 0:
            return kernel
        frame = pd.DataFrame([dict(x)]) if not isinstance(x, pd.DataFrame) else x
        inside = np.ones(len(frame), dtype=bool)
        volume = 1.0
        for key in self.X.columns:
            low, high = self.bounds[key]
            values = frame[key].to_numpy(dtype=float)
            inside &= (values >= low) & (values <= high)
            volume *= high - low
        mixed = self.share * inside / volume + (1.0 - self.share) * np.asarray(kernel)
        return float(mixed[0]) if not isinstance(x, pd.DataFrame) else mixed


def _priors(keys: tuple[FitKey, ...]) -> Any:
    import pyabc

    return pyabc.Distribution(
        **{k.key: pyabc.RV("uniform", k.span[0], k.span[1] - k.span[0]) for k in keys}
    )


def _abcsmc(
    simulator: CurveSimulator,
    keys: tuple[FitKey, ...],
    observed: dict[str, np.ndarray],
    settings: AbcSettings,
    sampler: DeterministicSampler,
    *,
    noisy: bool,
    temperatures: dict[int, float],
) -> Any:
    """A pyabc ABCSMC for one generation: the stochastic acceptor with the noise's
    density, or the RMSE distance with a median epsilon."""
    import pyabc

    model = pyabc.FunctionModel(CurveModel(simulator), name="adoption")
    transition = DefensiveTransition({k.key: k.span for k in keys}, settings.prior_share)
    if noisy:
        return pyabc.ABCSMC(
            model,
            _priors(keys),
            CurveKernel(observed["times"], observed["shares"], float(observed["lead"][0]), keys),
            transitions=transition,
            population_size=settings.population,
            eps=Tempering(temperatures),
            acceptor=pyabc.StochasticAcceptor(pdf_norm_method=PdfNorm()),
            sampler=sampler,
        )
    return pyabc.ABCSMC(
        model,
        _priors(keys),
        pyabc.FunctionDistance(profile_distance),
        transitions=transition,
        population_size=settings.population,
        eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample", alpha=0.5),
        sampler=sampler,
    )


def run_abc(
    simulator: CurveSimulator,
    keys: tuple[FitKey, ...],
    times: np.ndarray,
    shares: np.ndarray,
    fingerprint: dict[str, Any],
    settings: AbcSettings,
    *,
    noisy: bool,
    lead: float,
    seed: int,
    history: Path | None,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    finished: int | None = None,
) -> AbcOutcome:
    """Run (or resume) ABC-SMC of ``keys`` on (times, shares), a generation at a time.

    ``history`` is the SQLite file (None: a temporary one, no resume). A stored
    history with another ``fingerprint`` is refused with an InputError naming what
    differs. If it holds exactly ``finished`` generations (a calibration whose last
    generation the same budget cut off), nothing is sampled again.
    """
    if history is None:
        with tempfile.TemporaryDirectory() as scratch:
            return run_abc(
                simulator,
                keys,
                times,
                shares,
                fingerprint,
                settings,
                noisy=noisy,
                lead=lead,
                seed=seed,
                history=Path(scratch) / HISTORY,
                workers=workers,
                scheduler=scheduler,
                progress=progress,
                on_generation=on_generation,
                finished=finished,
            )
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
        wave=settings.wave,
        progress=progress,
        on_generation=report,
    )
    observed = {
        "times": np.asarray(times, dtype=float),
        "shares": np.asarray(shares, dtype=float),
        "lead": np.array([float(lead)]),
    }
    stamp = json.dumps(fingerprint, sort_keys=True, default=str)
    url = f"sqlite:///{history}"
    stored = resumed_from = _stored_generations(history, stamp)
    if not stored and history.exists():
        history.unlink()  # a history with no finished generation: start afresh
    stopped, next_cost, dropped = "", 0, 0
    try:
        while True:
            state = _State.read(url) if stored else _State.empty()
            stopped, next_cost = _plan(state, settings, noisy=noisy)
            if stored and stored == finished:
                stopped = "budget"
            if stopped:
                break
            abc = _abcsmc(
                simulator,
                keys,
                observed,
                settings,
                sampler,
                noisy=noisy,
                temperatures=state.temperatures(),
            )
            if stored:
                abc.load(url, 1)
            else:
                abc.new(url, observed, meta_info={"calibration": stamp})
            seed_global(derive_seed(seed, stored, MAIN_STREAM))
            abc.run(max_nr_populations=1, max_total_nr_simulations=settings.budget)
            if int(abc.history.n_populations) == stored:  # cut off by the budget: dropped
                stopped = "budget"
                dropped = reports[-1].evaluations if reports else 0
                break
            stored += 1
    finally:
        sampler.close()
    if not stored:
        history.unlink(missing_ok=True)  # nothing half-done is left to resume
        raise InputError(
            "--budget",
            settings.budget,
            reason="the budget ran out before the first generation was complete: expected "
            "a larger budget",
        )
    import pyabc

    abc_history = pyabc.History(url, _id=1, create=False)
    state = _State.read(url)
    pooled = state.pooled(noisy=noisy)
    return AbcOutcome(
        populations=[
            (abc_history.get_population(t=int(t)), share)
            for t, share in zip(pooled["t"], pooled["share"], strict=True)
        ],
        generations=state.generations,
        reports=reports,
        resumed_from=resumed_from,
        simulations_run=sampler.simulations_run,
        stopped=stopped,
        sampling_seconds=state.wall_time,
        spent=state.spent,
        next_cost=next_cost,
        dropped=dropped,
    )


@dataclass(frozen=True)
class _State:
    """What the stored history says: its generations (t, epsilon, particles,
    simulations, acceptance_rate, ess), the simulations it holds (the prior sample
    included) and the sampling time."""

    generations: pd.DataFrame
    spent: int
    wall_time: float
    #: log-densities and weights of the last stored populations (t -> (values, weights)),
    #: the prior sample's at t = -1
    populations: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> _State:
        return cls(pd.DataFrame(columns=["t", "epsilon", "particles", "simulations", "ess"]), 0, 0)

    @classmethod
    def read(cls, url: str) -> _State:
        import pyabc

        history = pyabc.History(url, _id=1, create=False)
        frame = history.get_all_populations()
        generations = _generations(history, frame)
        last = [int(t) for t in generations["t"].iloc[-2:]]
        populations = {}
        for t in last:
            weighted = history.get_weighted_distances(t=t)
            populations[t] = (
                weighted["distance"].to_numpy(dtype=float),
                weighted["w"].to_numpy(dtype=float),
            )
        return cls(
            generations,
            int(frame["samples"].sum()),
            float(frame["wall_time"].sum()),
            populations,
        )

    def temperatures(self) -> dict[int, float]:
        return {
            int(t): float(e)
            for t, e in zip(self.generations["t"], self.generations["epsilon"], strict=True)
        }

    def pooled(self, *, noisy: bool) -> pd.DataFrame:
        """The generations the posterior pools: with the noise model every generation at
        temperature 1 (each an importance sample of the same exact posterior), weighted by
        its effective sample size; else, or before 1 is reached, the last alone. Columns
        t, share (of the posterior's weight)."""
        done = self.generations
        last = done.iloc[[-1]]
        final = (
            done[done["epsilon"] <= 1.0]
            if noisy and float(last["epsilon"].iloc[0]) <= 1.0
            else last
        )
        return pd.DataFrame({"t": final["t"], "share": final["ess"] / final["ess"].sum()})


def _plan(state: _State, settings: AbcSettings, *, noisy: bool) -> tuple[str, int]:
    """Why not to start another generation ("" to start one), and what it would cost:
    enough generations, a posterior already worth a population of independent
    particles at temperature 1 ("converged"), or a budget that cannot pay for it."""
    done = state.generations
    if len(done) >= settings.max_generations:
        return "generations", 0
    n = settings.population
    if done.empty:
        need = minimum_budget(n, settings.wave) - settings.wave
    else:
        last = done.iloc[-1]
        steady = noisy and float(last["epsilon"]) <= 1.0
        if steady and float(done.loc[done["epsilon"] <= 1.0, "ess"].sum()) >= n:
            return "converged", 0
        rate = float(last["particles"]) / float(last["simulations"])
        if noisy:
            need = math.ceil(n / _predicted_rate(state) * MARGIN)
        else:
            need = math.ceil(n / rate * FALLING)
    if settings.budget - state.spent < need:
        return "budget", need
    return "", need


def _predicted_rate(state: _State) -> float:
    """The next generation's acceptance rate: what the last population promises
    (:func:`.tempering.expected_rate`) times the share of its own promise the last
    generation kept (its rate over what the population before it promised, the prior
    sample's FIRST_RATE for the first)."""
    done = state.generations
    last = done.iloc[-1]
    values, weights = state.populations[int(last["t"])]
    promise = expected_rate(values, weights, float(last["epsilon"]))
    kept = float(last["particles"]) / float(last["simulations"])
    if len(done) >= 2:
        before = done.iloc[-2]
        earlier = state.populations[int(before["t"])]
        kept /= expected_rate(*earlier, float(before["epsilon"]))
    else:
        kept /= FIRST_RATE
    return max(promise * min(kept, 1.0), 1e-3)


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


def _generations(history: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per stored generation (the prior sample excluded)."""
    frame = frame[frame["t"] >= 0].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "t": frame["t"].astype(int),
            "epsilon": frame["epsilon"].astype(float),
            "particles": frame["particles"].astype(int),
            "simulations": frame["samples"].astype(int),
        }
    )
    out["acceptance_rate"] = out["particles"] / out["simulations"]
    out["ess"] = [_ess(history.get_distribution(m=0, t=int(t))[1]) for t in out["t"]]
    return out


def _ess(weights: np.ndarray) -> float:
    """Effective sample size, 1 / sum of squared normalised weights."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


def settings_record(settings: AbcSettings) -> dict[str, Any]:
    """The settings as stored in the fingerprint and manifest."""
    return asdict(settings) | {"pyabc": package_versions().get("pyabc", "")}
