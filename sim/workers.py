"""Local worker processes for many model runs (sweeps, calibrations): started alike,
ended alike.

Workers are spawned (no state copied from the parent), ignore Ctrl-C, which the parent
handles, and load the compiled kernels once when they start.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import signal

__all__ = ["start_worker", "terminate", "worker_pool"]


def start_worker() -> None:
    """Initializer of a worker: leave Ctrl-C to the parent, load the kernels once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from . import kernels

    kernels.load()


def worker_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes started by :func:`start_worker`."""
    return cf.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker
    )


def terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel queued work and end the pool's processes now (Ctrl-C, a stopped run)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
