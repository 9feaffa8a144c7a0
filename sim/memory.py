"""The memory a run needs, estimated from the size asked for, against the memory free,
before anything runs.

:func:`run_bytes` estimates what one model takes beyond the loaded program, from the
number of customers N, the network and its mean degree k, the dimensions D, the firms F
and the steps. The terms are fitted to the peak resident memory of runs measured in
fresh processes (``benchmarks/bench_memory.py``, which prints the estimate beside the
measurement: 1.0 to 1.3 times the measured peak, never below it, from 10,000 to
3,000,000 customers)::

    bytes = 20 MB + N x (100 + 15 D + 41 F + network + 100 min(1, steps / 100))
    network: complete 0, watts_strogatz 16 k, erdos_renyi 50 k, barabasi_albert 200 k + 200

A local worker process adds :data:`PROCESS_BYTES` (Python, NumPy, SciPy, pandas, Mesa
and the compiled kernels). :func:`available_bytes` is the least of the memory the
system has free (``MemAvailable``), what the control group still allows, and, per
process, what ``ulimit -v`` leaves. :func:`check_memory` refuses, in one line with the
estimate, a run that cannot fit, and :func:`workers_that_fit` says how many workers can
run side by side.
"""

from __future__ import annotations

import math
import os
import resource
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = [
    "PROCESS_BYTES",
    "available_bytes",
    "check_memory",
    "gigabytes",
    "plan_workers",
    "run_bytes",
    "workers_that_fit",
]

MB = 1 << 20
#: Fixed cost of a model (data collector, schedules, small tables).
FIXED_BYTES = 20 * MB
#: A local worker process after its imports and the compiled kernels (measured 256 MB).
PROCESS_BYTES = 280 * MB
#: Bytes per customer per unit of mean degree, and per customer, of each network.
NETWORK_BYTES = {
    "complete": (0, 0),
    "watts_strogatz": (16, 0),
    "erdos_renyi": (50, 0),
    "barabasi_albert": (200, 200),
}


def run_bytes(params: dict[str, Any], firms: list[Any], steps: int) -> int:
    """Estimated peak memory of one run beyond the loaded program, in bytes."""
    per_degree, per_customer = NETWORK_BYTES.get(params.get("network", ""), (50, 200))
    degree = 0 if params.get("network") == "complete" else params.get("mean_degree", 10)
    per = (
        100
        + 15 * params.get("n_dims", 2)
        + 41 * max(len(firms), 1)
        + per_degree * degree
        + per_customer
        + 100 * min(1.0, steps / 100)
    )
    return int(FIXED_BYTES + params["n_customers"] * per)


def gigabytes(count: float) -> str:
    """A byte count in GB (or MB below one GB), for messages."""
    return f"{count / 1024**3:.1f} GB" if count >= 1024**3 else f"{count / MB:.0f} MB"


def _meminfo() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup() -> int | None:
    """What the control group (v2, else v1) still allows, if it sets a limit."""
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            text = Path(limit).read_text().strip()
            if text == "max" or int(text) >= 1 << 60:
                return None
            return max(int(text) - int(Path(usage).read_text().strip()), 0)
        except (OSError, ValueError):
            continue
    return None


def _address_space() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) leaves this process, if it is set."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return soft
    return max(soft - pages * os.sysconf("SC_PAGE_SIZE"), 0)


def available_bytes() -> tuple[int | None, int | None]:
    """(memory free for all processes together, address space left to each process);
    None where there is no such limit or it cannot be read."""
    shared = [b for b in (_meminfo(), _cgroup()) if b is not None]
    return (min(shared) if shared else None), _address_space()


def workers_that_fit(need: int) -> int | None:
    """How many worker processes, each needing ``need`` bytes for its run, fit in the
    free memory at once (None: no limit known); 0 if one run does not fit a process."""
    shared, per_process = available_bytes()
    if per_process is not None and need > per_process:
        return 0
    if shared is None:
        return None
    return math.floor(shared / (need + PROCESS_BYTES))


def check_memory(
    params: dict[str, Any],
    firms: list[Any],
    steps: int,
    *,
    source: str = "",
    processes: int = 0,
    what: str = "a run",
) -> int:
    """Refuse a run whose estimate does not fit the free memory; returns the estimate.

    ``processes``: runs side by side in new worker processes (each adds
    :data:`PROCESS_BYTES`); 0: one run in this, already loaded, process. The error
    names ``market.n_customers`` (what to make smaller), the estimate and what is free.
    """
    need = run_bytes(params, firms, steps)
    shared, per_process = available_bytes()
    total = need if processes == 0 else processes * (need + PROCESS_BYTES)
    limits = [(shared, total, "free")]
    if per_process is not None:
        limits.append((per_process, need, "left under ulimit -v"))
    for free, asked, how in limits:
        if free is None or asked <= free:
            continue
        n = params["n_customers"]
        most = float(f"{n * free / asked * 0.9:.2g}")  # two significant digits
        side = f", {gigabytes(asked)} for {processes} worker processes" if processes else ""
        raise InputError(
            "market.n_customers",
            n,
            reason=f"{what} of {n:,} customers needs about {gigabytes(need)} of memory"
            f"{side} ({_describe(params, firms, steps)}), and {gigabytes(free)} is {how}: "
            f"expected at most about {int(most):,} customers"
            + (", or fewer --workers" if processes > 1 else ""),
            source=source,
        )
    return need


def plan_workers(
    params: dict[str, Any],
    firms: list[Any],
    steps: int,
    requested: int | None,
    *,
    source: str = "",
    cores: int | None = None,
) -> tuple[int, str]:
    """Local worker processes for runs as large as ``params`` at most, and a note when
    the default (all cores) is cut down to what fits in the free memory.

    One worker runs in this process. A run that fits no process is refused (see
    :func:`check_memory`); ``requested`` workers that do not fit side by side are
    refused in one line naming ``--workers``, with the estimate and how many fit."""
    if requested == 1:
        check_memory(params, firms, steps, source=source)
        return 1, ""
    need = run_bytes(params, firms, steps)
    free = gigabytes(available_bytes()[0] or 0)
    fit = workers_that_fit(need)
    if fit == 0:
        check_memory(params, firms, steps, source=source)
        fit = 1  # one run fits, not beside a worker process: run it in this one
    if requested is None:
        cores = cores or os.cpu_count() or 1
        chosen = cores if fit is None else max(min(cores, fit), 1)
        note = ""
        if chosen < cores:
            note = (
                f"memory: {chosen} worker(s), not {cores}: a run needs about "
                f"{gigabytes(need)} besides its process, and {free} is free"
            )
        return chosen, note
    if fit is not None and requested > fit:
        raise InputError(
            "--workers",
            requested,
            f"at most {fit}: each worker needs about {gigabytes(need)} for its largest run "
            f"besides its process ({gigabytes(PROCESS_BYTES)}), and {free} is free",
        )
    return requested, ""


def _describe(params: dict[str, Any], firms: list[Any], steps: int) -> str:
    network = params.get("network", "?")
    degree = "" if network == "complete" else f", mean degree {params.get('mean_degree')}"
    return (
        f"{network}{degree}, {params.get('n_dims')} dimensions, {len(firms)} firms, {steps} steps"
    )
