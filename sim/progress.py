"""One progress bar for every long job (replicates, sweeps, calibrations), on stderr."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(
    total: int, label: str, *, enabled: bool = True, initial: int = 0, unit: str = "run"
) -> Any:
    """A tqdm bar counting runs (or other ``unit``s); silent when ``enabled`` is false."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=label,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )
