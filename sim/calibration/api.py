"""Calibrate the model to an observed adoption curve: the Python API behind ``run.py calibrate``.

:func:`calibrate` checks every input before anything runs (:func:`.problem.prepare`),
runs or resumes ABC-SMC (:func:`run`, :mod:`.abc`), and returns a
:class:`~.result.Calibration`: the posterior (one row per accepted particle of the last
generation), its summary, which keys the data pin down, the Bass benchmark fitted to
the same points, and posterior predictive bands. With ``out`` the history that resumes
the calibration is kept there and :func:`.report.write_outputs` writes every output
file beside it (the one place that writes them; the command line calls it too).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import OutputError, writable_directory, write_failure
from ..scenario import Scenario
from ..spec import integer
from .abc import HISTORY, AbcSettings, run_abc
from .data import AdoptionData, AdoptionSeries
from .manifest import read_manifest
from .priors import Bounds
from .problem import DEFAULT_SCENARIO, DEFAULT_SEED, NoiseMode, Problem, prepare
from .report import write_outputs
from .result import Calibration, posterior_table
from .sampler import GenerationReport
from .simulate import LEAD

__all__ = [
    "DEFAULT_SCENARIO",
    "Calibration",
    "calibrate",
    "calibrate_problem",
    "check_out",
    "removed_if_empty",
    "run",
]


def calibrate(
    data: str | Path | AdoptionData | AdoptionSeries,
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    fit: Mapping[str, Bounds] | None = None,
    *,
    series: str | None = None,
    holdout: int = 0,
    noise: NoiseMode = "auto",
    lead: float = LEAD,
    budget: int = AbcSettings.budget,
    population: int = AbcSettings.population,
    max_generations: int = AbcSettings.max_generations,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    scheduler: Any = None,
    out: str | Path | None = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """Estimate the joint posterior of the ``fit`` keys given an observed series.

    ABC-SMC (pyabc) with a prior on each key's (low, high), uniform, or log-uniform
    for (low, high, "log") (:data:`.priors.DEFAULT_FIT`), and the observation
    noise as ``noise`` says and the launch's prior ``lead`` (:func:`.problem.prepare`),
    until ``budget`` simulations
    are spent or ``max_generations`` are done. Results depend on the data, scenario,
    keys, ``holdout``, ``noise``, ``seed`` and ``population`` only, not on ``workers``
    or ``scheduler`` (a Dask address or client). With ``out`` the outputs and the
    history that resumes the calibration are written there.
    """
    problem = prepare(
        data, scenario, fit, series=series, holdout=holdout, seed=seed, noise=noise, lead=lead
    )
    settings = AbcSettings(budget=budget, population=population, max_generations=max_generations)
    settings.check()
    integer("--workers", workers, 1, error=InputError)
    made = out is not None and not Path(out).exists()
    return calibrate_problem(
        problem,
        settings,
        workers=workers,
        scheduler=scheduler,
        out=check_out(out) if out is not None else None,
        made=made,
        progress=progress,
        on_generation=on_generation,
        command=command,
    )


def calibrate_problem(
    problem: Problem,
    settings: AbcSettings,
    *,
    workers: int = 1,
    scheduler: Any = None,
    out: Path | None = None,
    made: bool = False,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """Run (or resume) a checked problem and, with ``out`` (checked by
    :func:`check_out`), write every output file there. ``made``: the caller created
    ``out``, so it is removed again if the run fails before writing to it."""
    with removed_if_empty(out if made else None):
        calibration = run(
            problem,
            settings,
            workers=workers,
            scheduler=scheduler,
            out=out,
            progress=progress,
            on_generation=on_generation,
        )
    if out is not None:
        write_outputs(calibration, out, command=command, workers=workers, scheduler=scheduler)
    return calibration


def check_out(out: str | Path) -> Path:
    """The output folder, made if missing and tried with a small file; an OutputError
    naming ``--out`` if it cannot be one, before any simulation."""
    return writable_directory(out)


@contextlib.contextmanager
def removed_if_empty(directory: Path | None) -> Iterator[None]:
    """Remove ``directory`` (one this call made) if what runs inside fails and leaves it
    empty: a calibration refused after it started leaves no folder behind."""
    try:
        yield
    except BaseException:
        if directory is not None:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty
        raise


def run(
    problem: Problem,
    settings: AbcSettings,
    *,
    workers: int = 1,
    scheduler: Any = None,
    out: Path | None = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
) -> Calibration:
    """Run a checked problem (see :func:`calibrate`); with ``out`` its history is kept
    there and resumed. Writes no output file: :func:`.report.write_outputs` does."""
    began = time.perf_counter()
    simulator = problem.simulator()
    finished, dropped = _cut_off(out, problem, settings) if out is not None else (None, 0)
    history = out / HISTORY if out is not None else None
    try:
        outcome = run_abc(
            simulator,
            problem.keys,
            problem.fit_times,
            problem.fit_shares,
            problem.fingerprint(settings),
            settings,
            noisy=problem.noisy,
            lead=problem.lead,
            seed=problem.seed,
            history=history,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            on_generation=on_generation,
            finished=finished,
        )
    except Exception as error:  # a full disk under pyabc's SQLite history: one line
        why = write_failure(error) if history is not None else None
        if why is None:
            raise
        raise OutputError(
            str(history),
            reason=f"cannot write: {why}; the generations stored before are kept: run the "
            "same command again, once there is space, to resume",
        ) from None
    posterior, curves = posterior_table(outcome.populations, problem)
    return Calibration(
        problem=problem,
        settings=settings,
        posterior=posterior,
        generations=outcome.generations,
        bass=problem.bass(),
        simulator=simulator,
        curves=curves,
        stopped=outcome.stopped,
        resumed_from=outcome.resumed_from,
        simulations_run=outcome.simulations_run,
        seconds=time.perf_counter() - began,
        sampling_seconds=outcome.sampling_seconds,
        spent=outcome.spent,
        next_cost=outcome.next_cost,
        dropped=outcome.dropped or (dropped if outcome.resumed_from == finished else 0),
        pooled=len(outcome.populations),
        reports=outcome.reports,
    )


def _cut_off(directory: Path, problem: Problem, settings: AbcSettings) -> tuple[int | None, int]:
    """(generations, simulations dropped) of a calibration in ``directory`` whose last
    generation the same budget cut off, with the same settings (its manifest says so),
    or (None, 0): run again, it would only repeat the generation the budget cut off."""
    record = read_manifest(directory)
    fingerprint = json.loads(json.dumps(problem.fingerprint(settings), default=str))
    if record is None or record.get("fingerprint") != fingerprint:
        return None, 0
    abc = record.get("abc", {})
    if abc.get("dropped") and abc.get("budget") == settings.budget:
        return int(abc.get("generations", -1)), int(abc["dropped"])
    return None, 0
