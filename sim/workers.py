"""Local worker processes for many model runs (sweeps, calibrations): started alike,
ended alike, and never outliving the process that started them.

Workers are spawned (no state copied from the parent), ignore Ctrl-C, which the parent
handles, and load the compiled kernels once when they start. A worker dies with its
parent, even one killed with ``kill -9``: on Linux the kernel sends it SIGKILL when the
parent goes (``prctl(PR_SET_PDEATHSIG)``, set when the pool is started from the main
thread, the thread that spawns the workers), and everywhere a watcher thread checks
every :data:`WATCH_SECONDS` that its parent is still the one that started it. With the
workers gone, multiprocessing's resource tracker, which they share, exits too.

:func:`terminate` ends a pool at once (Ctrl-C, a full disk): the workers are killed
first and the pool's manager thread joined, so that nothing is left for the
interpreter to wait for at exit. While a pool's results are awaited, Ctrl-C is
:class:`DeferredInterrupt`-ed: it raises ``KeyboardInterrupt`` where the caller checks,
never inside ``concurrent.futures``, where it could leave a lock held that the pool's
manager thread then waits on forever (and the interpreter with it, at exit).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = [
    "POLL_SECONDS",
    "START",
    "WATCH_SECONDS",
    "DeferredInterrupt",
    "is_running",
    "processes_below",
    "submit",
    "terminate",
    "worker_pool",
]

#: How often a worker checks that its parent is alive (when the kernel cannot tell it).
WATCH_SECONDS = 0.5

#: What a new worker runs first: ignore Ctrl-C, end with its parent, then load the
#: kernels. It is source code, run by the builtin ``exec`` (pickled by name), so that a
#: worker asks to die with its parent before it imports this package, whose
#: ``__init__`` loads the model (seconds on a busy machine): a worker killed then would
#: otherwise outlive its parent for as long.
START = """
import ctypes, os, signal, sys, threading, time

signal.signal(signal.SIGINT, signal.SIG_IGN)
if hasattr(signal, "pthread_sigmask"):  # blocked since the spawn (see submit)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
if kernel_signal and sys.platform.startswith("linux"):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: the watcher alone
        pass
if os.getppid() != parent:  # the parent died before the signal was asked for
    os._exit(1)


def watch():
    while os.getppid() == parent:
        time.sleep(seconds)
    os._exit(1)


threading.Thread(target=watch, name="parent-watch", daemon=True).start()
from sim import kernels

kernels.load()
"""


def worker_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each started by :data:`START`."""
    main = threading.current_thread() is threading.main_thread()
    settings = {"parent": os.getpid(), "kernel_signal": main, "seconds": WATCH_SECONDS}
    return cf.ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exec,
        initargs=(START, settings),
    )


def submit(pool: cf.ProcessPoolExecutor, fn: Any, *args: Any) -> cf.Future:
    """``pool.submit(fn, *args)`` with SIGINT blocked in this thread meanwhile: a worker
    the pool spawns now inherits the mask, so a Ctrl-C to the whole process group (a
    terminal's) cannot stop it, with a traceback, before :data:`START` ignores it. A
    Ctrl-C meanwhile is delivered when the mask is restored, not lost."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX
        return pool.submit(fn, *args)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


#: How often a deferred Ctrl-C is looked at while results are awaited (seconds).
POLL_SECONDS = 0.2


class DeferredInterrupt:
    """Within ``with DeferredInterrupt() as interrupt:``, Ctrl-C sets a flag; the caller's
    :meth:`check` raises ``KeyboardInterrupt`` there (at a point that holds no lock).

    Only in the main thread (where Python handles signals), and not when SIGINT is
    ignored; elsewhere :meth:`check` never raises and Ctrl-C behaves as usual.
    """

    def __init__(self) -> None:
        self.pending = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):
                self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def check(self) -> None:
        """Deliver a Ctrl-C pressed since the last check: to the handler that was there
        before (``KeyboardInterrupt`` from Python's own; ``run.py`` also ignores any
        further Ctrl-C, so the orderly exit is not cut short)."""
        if self.pending:
            self.pending = False
            self._deliver()

    def _deliver(self) -> None:
        if callable(self._previous):  # Python's own handler raises KeyboardInterrupt itself
            self._previous(signal.SIGINT, None)
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            if signal.getsignal(signal.SIGINT) == self._handle:  # not replaced meanwhile
                signal.signal(signal.SIGINT, self._previous)
            if self.pending:  # pressed after the last check: not lost
                self.pending = False
                self._deliver()
            self._previous = None


def terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel queued work and end the pool's processes now (Ctrl-C, a stopped run).

    The workers are killed before the pool is shut down, so its manager thread sees
    them gone. A worker killed while it was sending a result leaves the manager thread
    waiting for the rest of that message, which never comes while this process holds
    the pipe's other end: that end is closed here, so the manager reads the end of the
    pipe, ends, and is joined (else the interpreter would wait for it at exit, forever).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
    if results is not None and processes:
        results._writer.close()  # no worker is left to write: the reader sees the end
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None and manager is not threading.current_thread():
        manager.join(timeout=10)


def processes_below(pid: int) -> list[int]:
    """Every process below ``pid`` (its children, theirs ...), read from Linux's /proc:
    what a command started, to check that none outlives it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def is_running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
