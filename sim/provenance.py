"""Where a result comes from: seeds, package versions, and the manifest stored beside it.

Every stored result (a scenario's replicates, a sweep, a calibration) records its seed
rule, its parameters, the package versions and the command, through :func:`manifest`,
written whole by :mod:`sim.files`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

__all__ = [
    "derive_seed",
    "digest",
    "manifest",
    "package_versions",
]

#: Packages whose versions results depend on.
PACKAGES = (
    "innovation-adoption",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "networkx",
    "numba",
    "pyabc",
    "ema_workbench",
)


def derive_seed(base: int, *keys: int) -> int:
    """A 63-bit seed for run ``keys`` of an experiment seeded ``base``.

    Seeds depend only on (base, keys), never on the order runs execute in, so results
    are the same with one worker or many.
    """
    sequence = np.random.SeedSequence(base, spawn_key=tuple(int(k) for k in keys))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def digest(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys; what JSON cannot hold, as
    text): the fingerprint of a configuration."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    found = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages results depend on."""
    return dict(_versions())


def manifest(**fields: Any) -> dict[str, Any]:
    """``fields`` plus what every stored result records: versions, command and time."""
    return {
        **fields,
        "versions": package_versions(),
        "command": fields.get("command") or " ".join(sys.argv),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
