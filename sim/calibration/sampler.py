"""A pyabc sampler whose populations do not depend on the number of workers or on timing.

pyabc's own parallel samplers accept particles in the order simulations *finish*, and
reseed each worker from the operating system, so two runs with the same seed differ.
:class:`DeterministicSampler` instead numbers the candidates of generation ``t`` 0, 1,
2 ... and seeds candidate ``i`` from ``derive_seed(seed, t + 1, i)`` (t = -1 is the
prior sample pyabc calibrates its first threshold on): that seed sets NumPy's global
generator, from which pyabc draws the proposal and the model its own seed.

Candidates are evaluated in **waves** of ``wave`` (here, in local worker processes or
on a Dask cluster, split in batches), and a wave is evaluated whole before the next
starts. The population is candidates 0 .. j, where j is the candidate of the n-th
acceptance; the candidates after j in its wave were simulated too and are counted.
So the simulations a generation counts are a whole number of waves, whatever the
workers and whenever each batch finished: the count, the budget left and every
decision taken on them are reproducible, and what is counted is what ran. No wave
goes past the budget left: the budget is honoured exactly.

The calling process draws random numbers too between generations; after each
generation the sampler seeds NumPy's global generator from
``derive_seed(seed, t + 1, MAIN_STREAM)``, and a resumed calibration does the same
before it continues (:mod:`.abc`), so that part is reproducible as well.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

from ..progress import progress_bar
from ..provenance import derive_seed
from ..workers import POLL_SECONDS, DeferredInterrupt, submit, terminate, worker_pool

__all__ = ["MAIN_STREAM", "DeterministicSampler", "GenerationReport", "seed_global"]

#: The key of the calling process's stream after generation t (no candidate has it).
MAIN_STREAM = 2**32


@dataclass(frozen=True)
class GenerationReport:
    """What one generation took: its number, epsilon, particles and simulations."""

    t: int
    epsilon: float
    accepted: int
    evaluations: int
    complete: bool
    seconds: float
    total: int = 0  # simulations of the whole calibration so far, this generation's included

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.evaluations if self.evaluations else 0.0


def seed_global(seed: int) -> None:
    """Seed NumPy's global (legacy) generator with all 63 bits of ``seed``."""
    np.random.seed([seed & 0xFFFFFFFF, seed >> 32])


def evaluate_batch(payload: bytes, seeds: Sequence[int]) -> list[Any]:
    """Run pyabc's ``simulate_one`` (pickled in ``payload``) once per seed, in order."""
    simulate_one = cloudpickle.loads(payload)
    particles = []
    for seed in seeds:
        seed_global(seed)
        particles.append(simulate_one())
    return particles


class DeterministicSampler(Sampler):
    """Evaluate candidates in index order, in waves, on ``workers`` processes or Dask.

    ``workers`` = 1 evaluates here; more start a pool of that many processes, kept
    until :meth:`close` (pyabc's ``stop`` after each run leaves it up: a calibration
    runs one generation per pyabc run); ``scheduler`` (an address or a
    ``distributed.Client``) sends batches to a Dask cluster instead. ``wave``
    candidates are evaluated at once (it changes what is counted, so it is a setting
    of the calibration); the batches they are split into only spread them over the
    workers. ``on_generation`` receives a :class:`GenerationReport` after each
    generation; ``progress`` shows a bar of accepted particles while one runs.
    """

    def __init__(
        self,
        seed: int,
        *,
        workers: int = 1,
        scheduler: Any = None,
        wave: int = 48,
        progress: bool = False,
        on_generation: Callable[[GenerationReport], None] | None = None,
    ) -> None:
        super().__init__()
        self.seed = int(seed)
        self.workers = max(1, int(workers))
        self.scheduler = scheduler
        self.wave = max(1, int(wave))
        self.progress = progress
        self.on_generation = on_generation
        self.simulations_run = 0  # every simulation of this sampler's life
        self._pool: cf.ProcessPoolExecutor | None = None
        self._client: Any = None
        self._own_client = False

    # --------------------------------------------------------------- backends
    @property
    def parallel(self) -> bool:
        return self.scheduler is not None or self.workers > 1

    def _slots(self) -> int:
        """Batches a wave is split into: two per worker (per Dask thread)."""
        if self.scheduler is not None:
            return 2 * max(1, sum(self._dask().nthreads().values()))
        return 2 * self.workers

    def _dask(self) -> Any:
        if self._client is None:
            from distributed import Client

            self._own_client = not isinstance(self.scheduler, Client)
            self._client = (
                Client(self.scheduler, timeout="20s") if self._own_client else self.scheduler
            )
        return self._client

    def _local(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = worker_pool(self.workers)
        return self._pool

    def _submit(self, payload: bytes, seeds: list[int]) -> Any:
        if self.scheduler is not None:
            return self._dask().submit(evaluate_batch, payload, seeds, pure=False)
        return submit(self._local(), evaluate_batch, payload, seeds)

    def _gather(self, futures: list[Any]) -> list[Any]:
        """Every batch's particles, in the order of ``futures``."""
        out: list[Any] = []
        try:
            if self.scheduler is None:  # Ctrl-C raises here, never inside the pool
                with DeferredInterrupt() as interrupt:
                    while cf.wait(futures, timeout=POLL_SECONDS)[1]:
                        interrupt.check()
            for future in futures:
                out.extend(future.result())  # a failing model raises here
        finally:
            for future in futures:
                future.cancel()
        return out

    def stop(self) -> None:
        """pyabc calls this after every run; the workers stay up for the next generation."""

    def close(self) -> None:
        """End the worker processes (or the Dask client this sampler opened)."""
        if self._pool is not None:
            terminate(self._pool)
            self._pool = None
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    # ------------------------------------------------------------- sampling
    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        """Candidates 0, 1, ... of generation ``t``, a wave at a time, until the n-th
        acceptance.

        At most ``max_eval`` candidates, and no more than the simulation budget left
        (``ana_vars.max_total_nr_simulations``); a generation that reaches that cap
        first is returned incomplete (``sample.ok`` False) and pyabc stops there. The
        prior sample (``all_accepted``) evaluates exactly ``n``.
        """
        began = time.perf_counter()
        cap = min(_cap(max_eval, ana_vars), n) if all_accepted else _cap(max_eval, ana_vars)
        epsilon = _epsilon(ana_vars, t)
        bar = progress_bar(
            n,
            f"generation {t}" if t >= 0 else "prior sample",
            enabled=self.progress,
            unit="particle",
        )
        sample = self._create_empty_sample()
        accepted = evaluations = 0
        seeds = (derive_seed(self.seed, t + 1, i) for i in range(_count(cap)))
        payload = cloudpickle.dumps(simulate_one)
        try:
            while accepted < n and (wave := list(itertools.islice(seeds, self.wave))):
                particles = self._evaluate_wave(payload, wave)
                evaluations += len(wave)
                for particle in particles:
                    if accepted == n:
                        break  # simulated and counted, not part of the population
                    sample.append(particle)
                    if particle.accepted:
                        accepted += 1
                        bar.update(1)
        finally:
            bar.close()
            seed_global(derive_seed(self.seed, t + 1, MAIN_STREAM))
        self.nr_evaluations_ = evaluations
        sample.ok = accepted == n
        if self.on_generation is not None:
            before = getattr(ana_vars, "prev_total_nr_simulations", 0) or 0
            self.on_generation(
                GenerationReport(
                    t,
                    epsilon,
                    accepted,
                    evaluations,
                    sample.ok,
                    time.perf_counter() - began,
                    total=int(before) + evaluations,
                )
            )
        return sample

    def _evaluate_wave(self, payload: bytes, seeds: list[int]) -> list[Any]:
        """The particles of ``seeds``, in order: here, or split in batches over workers."""
        self.simulations_run += len(seeds)
        if not self.parallel:
            return evaluate_batch(payload, seeds)
        size = max(1, -(-len(seeds) // self._slots()))
        futures = [self._submit(payload, seeds[i : i + size]) for i in range(0, len(seeds), size)]
        return self._gather(futures)


def _cap(max_eval: float, ana_vars: Any) -> float:
    """Candidates a generation may evaluate: ``max_eval`` and what the budget leaves."""
    cap = max_eval
    if ana_vars is not None and np.isfinite(ana_vars.max_total_nr_simulations):
        cap = min(cap, ana_vars.max_total_nr_simulations - ana_vars.prev_total_nr_simulations)
    return max(cap, 0)


def _count(cap: float) -> int:
    return int(cap) if np.isfinite(cap) else 2**62


def _epsilon(ana_vars: Any, t: int) -> float:
    try:
        return float(ana_vars.eps(t))
    except Exception:  # the prior sample has none
        return float("inf")
