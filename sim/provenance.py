"""Where a result comes from: seeds, package versions, and the manifest stored beside it.

Every stored result (a scenario's replicates, a sweep, a calibration) records its seed
rule, its parameters, the package versions and the command, through :func:`manifest`
and :func:`write_json`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "derive_seed",
    "digest",
    "manifest",
    "package_versions",
    "write_atomic",
    "write_json",
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


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a flushed temporary file and os.replace: the file
    is either whole or absent, never half-written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write a manifest (or any JSON record) atomically; returns the path."""
    write_atomic(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())
    return Path(path)
