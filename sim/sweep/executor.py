"""Run a sweep's runs in this process, in local worker processes, or on Dask.

A run is a pure function of its :class:`~sim.outputs.RunSpec` (checked parameters,
steps, seed), so the results do not depend on how many workers there are or where
they run. Each result comes back to the calling process, which hands it to
``on_result`` (the store) as soon as it arrives. With one worker the runs execute in
this process: there is nothing to gain from a pool, and no process to start.
"""

from __future__ import annotations

import concurrent.futures as cf
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

from ..outputs import RunOutput, RunSpec, execute
from ..progress import progress_bar

__all__ = ["RETRIES", "SweepOutcome", "run_dask", "run_local"]

#: Times a failing run is tried again before it is reported.
RETRIES = 2


@dataclass
class SweepOutcome:
    """How a sweep (or one batch of its runs) ended."""

    total: int
    skipped: int = 0
    finished: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0


def _key(task: RunSpec) -> tuple[int, int]:
    return task.labels["point"], task.labels["replicate"]


def _describe(task: RunSpec, error: BaseException | str) -> dict[str, Any]:
    text = error if isinstance(error, str) else _error_text(error)
    labels = dict(task.labels)
    head = {k: labels.pop(k) for k in ("point", "replicate", "seed") if k in labels}
    return {**head, "parameters": labels, "error": text}


def _error_text(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _report_failure(bar: Any, failure: dict[str, Any]) -> None:
    bar.write(
        f"run failed after {RETRIES + 1} tries: point {failure['point']} replicate "
        f"{failure['replicate']} {failure['parameters']}: {failure['error']}"
    )


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(
    tasks: list[RunSpec],
    on_result: Callable[[RunOutput], None],
    *,
    workers: int | None = None,
    total: int | None = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run ``tasks`` on ``workers`` local processes (all cores by default; one: here).

    Each result goes to ``on_result`` as soon as it is back. A run that raises is tried
    again up to :data:`RETRIES` times, then reported. If a worker dies the pool is
    started again (twice at most). Ctrl-C stops the workers at once; finished runs
    are kept.
    """
    workers = workers or os.cpu_count() or 1
    total = len(tasks) if total is None else total
    outcome = SweepOutcome(total=total, skipped=total - len(tasks))
    began = time.perf_counter()
    bar = progress_bar(total, "sweep", enabled=progress, initial=outcome.skipped)
    try:
        if workers == 1:
            _run_here(tasks, on_result, outcome, bar)
        else:
            _run_pool(tasks, on_result, workers, outcome, bar)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        bar.close()
        outcome.seconds = time.perf_counter() - began
    return outcome


def _run_here(
    tasks: list[RunSpec], on_result: Callable[[RunOutput], None], outcome: SweepOutcome, bar: Any
) -> None:
    for task in tasks:
        for attempt in range(RETRIES + 1):
            try:
                output = execute(task)
            except Exception as error:  # a failing run is reported, the others go on
                if attempt == RETRIES:
                    outcome.failures.append(_describe(task, error))
                    _report_failure(bar, outcome.failures[-1])
                continue
            on_result(output)
            outcome.finished += 1
            bar.update(1)
            break


def _run_pool(
    tasks: list[RunSpec],
    on_result: Callable[[RunOutput], None],
    workers: int,
    outcome: SweepOutcome,
    bar: Any,
) -> None:
    pending = list(reversed(tasks))  # pop() from the end keeps the design order
    attempts: dict[tuple[int, int], int] = {}
    restarts = 0
    ctx = multiprocessing.get_context("spawn")
    window = max(2 * workers, 4)
    while pending:
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ignore_sigint) as pool:
            running: dict[cf.Future, RunSpec] = {}
            broken = False
            try:
                while pending or running:
                    while pending and len(running) < window:
                        task = pending.pop()
                        running[pool.submit(execute, task)] = task
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
                            attempts[_key(task)] = attempts.get(_key(task), 0) + 1
                            if attempts[_key(task)] <= RETRIES:
                                pending.append(task)
                            else:
                                outcome.failures.append(_describe(task, error))
                                _report_failure(bar, outcome.failures[-1])
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
                    outcome.failures.append(_describe(task, "worker process died repeatedly"))
                return


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel queued runs and end the workers now."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def run_dask(
    tasks: list[RunSpec],
    on_result: Callable[[RunOutput], None],
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
    bar = progress_bar(total, "sweep", enabled=progress, initial=outcome.skipped)
    queue = list(reversed(tasks))
    window = max(4 * sum(client.nthreads().values()), 8)
    futures: dict[Any, RunSpec] = {}

    def submit() -> Any:
        task = queue.pop()
        point, replicate = _key(task)
        future = client.submit(
            execute, task, key=f"{prefix}-p{point}-r{replicate}", retries=RETRIES, pure=False
        )
        futures[future] = task
        return future

    try:
        stream = as_completed([submit() for _ in range(min(window, len(queue)))])
        for future in stream:
            task = futures.pop(future)
            if future.status == "error":
                outcome.failures.append(_describe(task, future.exception()))
                _report_failure(bar, outcome.failures[-1])
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
