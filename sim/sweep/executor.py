"""Run a sweep's runs in this process, in local worker processes, or on Dask.

A run is a pure function of its :class:`~sim.outputs.RunSpec` (checked parameters,
steps, seed), so the results do not depend on how many workers there are or where
they run. Each result comes back to the calling process, which hands it to
``on_result`` (the store) as soon as it arrives.

A runner (:class:`LocalRunner`, :class:`DaskRunner`) lives for a whole sweep, so a
sweep that runs in rounds starts its worker processes, or connects to its cluster,
once. With one worker the runs execute in this process: there is nothing to gain from
a pool, and no process to start.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from ..outputs import RunOutput, RunSpec, execute
from ..progress import progress_bar
from ..workers import POLL_SECONDS, DeferredInterrupt, submit, terminate, worker_pool

__all__ = [
    "RETRIES",
    "DaskRunner",
    "LocalRunner",
    "SweepOutcome",
    "make_runner",
    "run_dask",
    "run_local",
    "task_key",
]

#: Times a failing run is tried again before it is reported.
RETRIES = 2
#: Times a dead worker pool is started again within one batch of runs.
RESTARTS = 2

OnResult = Callable[[RunOutput], None]


@dataclass
class SweepOutcome:
    """How a sweep (or one round of its runs) ended."""

    total: int
    skipped: int = 0
    finished: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    used: int = 0  # runs the tables are made of (set by the analysis)
    unused: int = 0  # stored runs beyond what the design asks for (not used)

    def add(self, other: SweepOutcome) -> None:
        """Count another round's runs in this outcome."""
        self.total += other.total
        self.skipped += other.skipped
        self.finished += other.finished
        self.failures += other.failures
        self.seconds += other.seconds
        self.interrupted = self.interrupted or other.interrupted


def task_key(task: RunSpec) -> tuple[int, int]:
    """(point, replicate) of a sweep's run."""
    return task.labels["point"], task.labels["replicate"]


def _describe(task: RunSpec, error: BaseException | str) -> dict[str, Any]:
    text = error if isinstance(error, str) else _error_text(error)
    labels = dict(task.labels)
    head = {k: labels.pop(k) for k in ("point", "replicate", "seed") if k in labels}
    return {**head, "parameters": labels, "error": text}


def _error_text(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


class _Batch:
    """Book-keeping of one call to a runner: progress bar, outcome, failures."""

    def __init__(self, tasks: list[RunSpec], total: int | None, progress: bool, label: str):
        total = len(tasks) if total is None else total
        self.outcome = SweepOutcome(total=total, skipped=total - len(tasks))
        self.bar = progress_bar(total, label, enabled=progress, initial=self.outcome.skipped)
        self.began = time.perf_counter()

    def finished(self, output: RunOutput, on_result: OnResult) -> None:
        on_result(output)
        self.outcome.finished += 1
        self.bar.update(1)

    def failed(self, task: RunSpec, error: BaseException | str) -> None:
        failure = _describe(task, error)
        self.outcome.failures.append(failure)
        self.bar.write(
            f"run failed after {RETRIES + 1} tries: point {failure['point']} replicate "
            f"{failure['replicate']} {failure['parameters']}: {failure['error']}"
        )

    def close(self) -> SweepOutcome:
        self.bar.close()
        self.outcome.seconds = time.perf_counter() - self.began
        return self.outcome


class LocalRunner:
    """Runs on ``workers`` local processes (all cores by default; one: this process).

    A run that raises is tried again up to :data:`RETRIES` times, then reported. If a
    worker dies the pool is started again (:data:`RESTARTS` times at most per call).
    Ctrl-C stops the workers at once; finished runs are kept.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: cf.ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:  # stopped by an error or Ctrl-C: do not wait for the workers
            self._stop()
        self.close()

    def close(self) -> None:
        """End the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(
        self,
        tasks: list[RunSpec],
        on_result: OnResult,
        *,
        total: int | None = None,
        progress: bool = True,
        label: str = "sweep",
    ) -> SweepOutcome:
        """Run ``tasks``; each result goes to ``on_result`` as soon as it is back."""
        batch = _Batch(tasks, total, progress, label)
        try:
            if self.workers == 1:
                self._run_here(tasks, on_result, batch)
            else:
                self._run_pool(tasks, on_result, batch)
        except KeyboardInterrupt:
            batch.outcome.interrupted = True
            self._stop()
        except BaseException:  # a result that cannot be stored (a full disk): stop now
            self._stop()
            raise
        finally:
            batch.close()
        return batch.outcome

    @staticmethod
    def _run_here(tasks: list[RunSpec], on_result: OnResult, batch: _Batch) -> None:
        for task in tasks:
            for attempt in range(RETRIES + 1):
                try:
                    output = execute(task)
                except Exception as error:  # a failing run is reported, the others go on
                    if attempt == RETRIES:
                        batch.failed(task, error)
                    continue
                batch.finished(output, on_result)
                break

    def _pool_now(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = worker_pool(self.workers)
        return self._pool

    def _run_pool(self, tasks: list[RunSpec], on_result: OnResult, batch: _Batch) -> None:
        pending = list(reversed(tasks))  # pop() from the end keeps the design order
        attempts: dict[tuple[int, int], int] = {}
        restarts = 0
        window = max(2 * self.workers, 4)
        running: dict[cf.Future, RunSpec] = {}
        with DeferredInterrupt() as interrupt:  # Ctrl-C raises below, never inside the pool
            while pending or running:
                interrupt.check()
                pool = self._pool_now()
                while pending and len(running) < window:
                    task = pending.pop()
                    running[submit(pool, execute, task)] = task
                done, _ = cf.wait(running, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
                interrupt.check()
                if self._collect(done, running, pending, attempts, on_result, batch):
                    restarts += 1
                    print(
                        f"\nsweep: a worker process died; restarting the pool "
                        f"({restarts}/{RESTARTS})",
                        file=sys.stderr,
                    )
                    if restarts > RESTARTS:
                        for task in pending:
                            batch.failed(task, "worker process died repeatedly")
                        return

    def _collect(
        self,
        done: set[cf.Future],
        running: dict[cf.Future, RunSpec],
        pending: list[RunSpec],
        attempts: dict[tuple[int, int], int],
        on_result: OnResult,
        batch: _Batch,
    ) -> bool:
        """Hand finished runs on, queue failed ones again; True if the pool broke (its
        runs are queued again and a new pool will be started)."""
        broken = False
        for future in done:
            task = running.pop(future)
            error = future.exception()
            if error is None:
                batch.finished(future.result(), on_result)
            elif isinstance(error, BrokenProcessPool):
                broken = True
                pending.append(task)
            else:
                attempts[task_key(task)] = attempts.get(task_key(task), 0) + 1
                if attempts[task_key(task)] <= RETRIES:
                    pending.append(task)
                else:
                    batch.failed(task, error)
        if broken:
            pending.extend(running.values())
            running.clear()
            self._pool = None  # a broken pool cannot be used again
        return broken

    def _stop(self) -> None:
        """Cancel queued runs and end the workers now."""
        if self._pool is not None:
            terminate(self._pool)
            self._pool = None


class DaskRunner:
    """Runs on a Dask distributed cluster (an address or a ``Client``).

    Each task is retried by Dask up to :data:`RETRIES` times; a task that still fails
    is reported with its parameters and the others go on.
    """

    def __init__(self, scheduler: Any, prefix: str = "sweep") -> None:
        from distributed import Client

        self._own = not isinstance(scheduler, Client)
        self.client = Client(scheduler, timeout="20s") if self._own else scheduler
        self.prefix = prefix

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from the cluster (if this runner connected)."""
        if self._own:
            self.client.close()

    def run(
        self,
        tasks: list[RunSpec],
        on_result: OnResult,
        *,
        total: int | None = None,
        progress: bool = True,
        label: str = "sweep",
    ) -> SweepOutcome:
        """Run ``tasks``; each result goes to ``on_result`` as soon as it is back."""
        from distributed import as_completed

        batch = _Batch(tasks, total, progress, label)
        queue = list(reversed(tasks))
        window = max(4 * sum(self.client.nthreads().values()), 8)
        futures: dict[Any, RunSpec] = {}

        def submit() -> Any:
            task = queue.pop()
            point, replicate = task_key(task)
            future = self.client.submit(
                execute,
                task,
                key=f"{self.prefix}-p{point}-r{replicate}",
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
                    batch.failed(task, future.exception())
                else:
                    batch.finished(future.result(), on_result)
                future.release()
                if queue:
                    stream.add(submit())
        except KeyboardInterrupt:
            batch.outcome.interrupted = True
            self.client.cancel(list(futures))
        except BaseException:  # a result that cannot be stored (a full disk): stop now
            self.client.cancel(list(futures))
            raise
        finally:
            batch.close()
        return batch.outcome


def make_runner(
    workers: int | None = None, scheduler: Any = None, prefix: str = "sweep"
) -> LocalRunner | DaskRunner:
    """A Dask runner when a scheduler is given, else a local one."""
    return DaskRunner(scheduler, prefix) if scheduler is not None else LocalRunner(workers)


def run_local(
    tasks: list[RunSpec], on_result: OnResult, *, workers: int | None = None, **options: Any
) -> SweepOutcome:
    """Run ``tasks`` once on local processes (see :class:`LocalRunner`)."""
    with LocalRunner(workers) as runner:
        return runner.run(tasks, on_result, **options)


def run_dask(
    tasks: list[RunSpec],
    on_result: OnResult,
    *,
    scheduler: Any,
    prefix: str = "sweep",
    **options: Any,
) -> SweepOutcome:
    """Run ``tasks`` once on a Dask cluster (see :class:`DaskRunner`)."""
    with DaskRunner(scheduler, prefix) as runner:
        return runner.run(tasks, on_result, **options)
