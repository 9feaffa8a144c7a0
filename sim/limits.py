"""How much a command may ask for, checked before anything runs: the run settings
(steps, replicates, seed) with the same ranges on the command line as in files, and
the size of a sweep.

The ranges of steps, replicates and seeds are those of a scenario file's ``[run]``
table (:data:`sim.parameters.RUN_PARAMETERS`): ``--steps``, ``--replicates`` and
``--seed`` of ``run.py run``, and ``experiment.steps``, ``experiment.replicates`` and
``experiment.seed`` of an experiment file, are checked by :func:`run_setting`.
"""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .parameters import RUN_PARAMETERS
from .spec import check_value

__all__ = ["MAX_SWEEP_RUNS", "check_sweep_size", "run_setting"]

#: The most runs one sweep may ask for. A sweep holds every run's task and its stored
#: key in memory (about 0.5 KB a run, tests/test_limits.py), and even at 0.1 s
#: a run a million runs are 28 core-hours: more is a mistake (a stray exponent) or work
#: for several experiments.
MAX_SWEEP_RUNS = 1_000_000


def run_setting(key: str, value: Any, where: str = "") -> int:
    """``value`` of run setting ``key`` (steps, replicates or seed), checked with the
    range a scenario file's ``[run]`` table allows; the error names ``where`` (a flag
    such as ``--steps``, or ``experiment.steps``), the value and what is allowed."""
    return check_value(where or f"run.{key}", value, RUN_PARAMETERS[key])


def check_sweep_size(points: int, replicates: int, where: str) -> None:
    """Refuse a sweep of more than :data:`MAX_SWEEP_RUNS` runs, before its design is built."""
    runs = points * replicates
    if runs > MAX_SWEEP_RUNS:
        raise InputError(
            where,
            reason=f"{points:,} design points x {replicates:,} replicates = {runs:,} runs: "
            f"expected at most {MAX_SWEEP_RUNS:,} runs in one sweep (fewer points, "
            "replicates or samples)",
        )
