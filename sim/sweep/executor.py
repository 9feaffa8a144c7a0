"""Run a sweep's (design point x replicate) runs in local worker processes or on Dask.

A run is a pure function of its :class:`RunTask` (model keywords, steps, seed), so the
results do not depend on how many workers there are or where they run. Results come
back to the calling process, which writes each one to the store as soon as it arrives.
"""

from __future__ import annotations

import concurrent.futures as cf
import fnmatch
import functools
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import fit_bass
from ..runner import package_versions, run_model

__all__ = [
    "RunResult",
    "RunTask",
    "SweepOutcome",
    "execute_run",
    "first_release_curve",
    "run_dask",
    "run_local",
]

#: Times a failing run is tried again before it is reported.
RETRIES = 2


@dataclass(frozen=True)
class RunTask:
    """One run: a design point's model keywords, its replicate and seed."""

    point: int
    replicate: int
    seed: int
    kwargs: dict[str, Any]
    steps: int
    keep: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """What a run returns: its per-firm summary and kept time series (tidy frames)."""

    point: int
    replicate: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame | None
    seconds: float


@dataclass
class SweepOutcome:
    """How a sweep ended."""

    total: int
    skipped: int = 0
    finished: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0


@functools.cache
def _versions() -> dict[str, str]:
    return package_versions()


def first_release_curve(model: Any, firm_index: int) -> np.ndarray | None:
    """Cumulative adoption (share of all customers) of a firm's first release, by step.

    Index t counts steps since the release (adoptions in the release's own step count
    at t = 1; t = 0 is 0); the window ends at the firm's next release or the run's end.
    """
    gen = model.release_generation
    firm_rel = np.flatnonzero((model.release_firm == firm_index) & (gen >= 1))
    if firm_rel.size == 0:
        return None
    release = int(firm_rel[0])
    start = int(model.release_step[release])
    later = model.release_step[firm_rel[1:]]
    end = int(later.min()) if later.size else int(model.steps) + 1
    offset = 0 if start == 0 else 1
    counts = np.zeros(end - start + offset)
    events = model.adoptions()
    events = events[(events["release"] == release) & (events["step"] >= start)]
    events = events[events["step"] < end]
    np.add.at(counts, events["step"].to_numpy() - start + offset, events["adoptions"].to_numpy())
    return np.cumsum(counts) / model.n_customers


def execute_run(task: RunTask) -> RunResult:
    """Run one model and tidy its outputs (runs in a worker process)."""
    began = time.perf_counter()
    model = run_model(task.kwargs, task.steps, task.seed)
    summary = model.summary()
    fits = []
    for firm in model.firms:
        curve = first_release_curve(model, firm.index)
        fits.append(fit_bass(curve) if curve is not None else fit_bass(np.zeros(0)))
    summary = pd.concat([summary, pd.DataFrame(fits)], axis=1)
    summary.insert(1, "firm_index", np.arange(len(summary), dtype=np.int64))
    numeric = [c for c in summary.columns if c not in ("firm", "strategy", "firm_index")]
    summary[numeric] = summary[numeric].astype(np.float64)
    timeseries = None
    if task.keep:
        frame = model.timeseries()
        columns = [c for c in frame.columns if any(fnmatch.fnmatch(c, p) for p in task.keep)]
        timeseries = _label(frame[["step", *columns]].copy(), task)
    versions = _versions()
    summary = _label(summary, task)
    summary["version_model"] = versions.get("innovation-adoption", "")
    summary["version_mesa"] = versions.get("mesa", "")
    summary["version_numpy"] = versions.get("numpy", "")
    return RunResult(task.point, task.replicate, summary, timeseries, time.perf_counter() - began)


def _label(frame: pd.DataFrame, task: RunTask) -> pd.DataFrame:
    """Prefix the run's identity and parameter values."""
    head = {"point": task.point, "replicate": task.replicate, "seed": task.seed}
    head.update(task.parameters)
    for i, (key, value) in enumerate(head.items()):
        frame.insert(i, key, value)
    frame["point"] = frame["point"].astype(np.int64)
    frame["replicate"] = frame["replicate"].astype(np.int64)
    frame["seed"] = frame["seed"].astype(np.int64)
    return frame


def _describe(task: RunTask) -> dict[str, Any]:
    return {
        "point": task.point,
        "replicate": task.replicate,
        "seed": task.seed,
        "parameters": task.parameters,
    }


def _progress(total: int, initial: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        desc="sweep",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(
    tasks: list[RunTask],
    on_result: Callable[[RunResult], None],
    *,
    workers: int | None = None,
    total: int | None = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run ``tasks`` on ``workers`` local processes (all cores by default).

    Each result goes to ``on_result`` as soon as it is back. A run that raises is tried
    again up to :data:`RETRIES` times, then reported. If a worker dies the pool is
    started again (twice at most). Ctrl-C stops the workers at once; finished runs
    are kept.
    """
    workers = workers or os.cpu_count() or 1
    total = len(tasks) if total is None else total
    outcome = SweepOutcome(total=total, skipped=total - len(tasks))
    began = time.perf_counter()
    bar = _progress(total, outcome.skipped, progress)
    pending = list(reversed(tasks))  # pop() from the end keeps the design order
    attempts: dict[tuple[int, int], int] = {}
    restarts = 0
    ctx = multiprocessing.get_context("spawn")
    window = max(2 * workers, 4)
    try:
        while pending:
            with cf.ProcessPoolExecutor(
                workers, mp_context=ctx, initializer=_ignore_sigint
            ) as pool:
                running: dict[cf.Future, RunTask] = {}
                broken = False
                try:
                    while pending or running:
                        while pending and len(running) < window:
                            task = pending.pop()
                            running[pool.submit(execute_run, task)] = task
                        done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                        for future in done:
                            task = running.pop(future)
                            error = future.exception()
                            if error is None:
                                on_result(future.result())
                                outcome.finished += 1
                                bar.update(1)
                            elif isinstance(error, BrokenProcessPool):
                                broken = True
                                pending.append(task)
                            else:
                                _retry_or_fail(task, error, attempts, pending, outcome, bar)
                        if broken:
                            pending.extend(running.values())
                            break
                except KeyboardInterrupt:
                    _stop(pool)
                    raise
            if broken:
                restarts += 1
                print(
                    f"\nsweep: a worker process died; restarting the pool ({restarts}/2)",
                    file=sys.stderr,
                )
                if restarts > 2:
                    for task in pending:
                        outcome.failures.append(
                            {**_describe(task), "error": "worker process died repeatedly"}
                        )
                    break
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        bar.close()
        outcome.seconds = time.perf_counter() - began
    return outcome


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel queued runs and end the workers now."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _retry_or_fail(
    task: RunTask,
    error: BaseException,
    attempts: dict[tuple[int, int], int],
    pending: list[RunTask],
    outcome: SweepOutcome,
    bar: Any,
) -> None:
    key = (task.point, task.replicate)
    attempts[key] = attempts.get(key, 0) + 1
    if attempts[key] <= RETRIES:
        pending.append(task)
        return
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    outcome.failures.append({**_describe(task), "error": text})
    bar.write(
        f"run failed after {RETRIES + 1} tries: point {task.point} replicate "
        f"{task.replicate} {task.parameters}: {text}"
    )


def run_dask(
    tasks: list[RunTask],
    on_result: Callable[[RunResult], None],
    *,
    scheduler: Any,
    total: int | None = None,
    progress: bool = True,
    prefix: str = "sweep",
) -> SweepOutcome:
    """Run ``tasks`` on a Dask distributed cluster (an address or a ``Client``).

    Each task is retried by Dask up to :data:`RETRIES` times; a task that still fails
    is reported with its parameters and the others go on.
    """
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler, timeout="20s") if own else scheduler
    total = len(tasks) if total is None else total
    outcome = SweepOutcome(total=total, skipped=total - len(tasks))
    began = time.perf_counter()
    bar = _progress(total, outcome.skipped, progress)
    queue = list(reversed(tasks))
    window = max(4 * sum(client.nthreads().values()), 8)
    futures: dict[Any, RunTask] = {}

    def submit() -> Any:
        task = queue.pop()
        future = client.submit(
            execute_run,
            task,
            key=f"{prefix}-p{task.point}-r{task.replicate}",
            retries=RETRIES,
            pure=False,
        )
        futures[future] = task
        return future

    try:
        stream = as_completed([submit() for _ in range(min(window, len(queue)))])
        for future in stream:
            task = futures.pop(future)
            if future.status == "error":
                error = future.exception()
                text = "".join(traceback.format_exception_only(type(error), error)).strip()
                outcome.failures.append({**_describe(task), "error": text})
                bar.write(
                    f"run failed after {RETRIES + 1} tries: point {task.point} replicate "
                    f"{task.replicate} {task.parameters}: {text}"
                )
            else:
                on_result(future.result())
                outcome.finished += 1
                bar.update(1)
            future.release()
            if queue:
                stream.add(submit())
    except KeyboardInterrupt:
        outcome.interrupted = True
        client.cancel(list(futures))
    finally:
        bar.close()
        if own:
            client.close()
        outcome.seconds = time.perf_counter() - began
    return outcome
