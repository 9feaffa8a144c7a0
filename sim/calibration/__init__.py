"""Observed adoption data, the Bass benchmark, and calibration of the model to the data.

The data and Bass modules need only the core dependencies; :func:`calibrate` (ABC-SMC)
needs pyabc, the ``calibrate`` extra, and is imported on first use.
"""

from typing import Any

from .bass import BassFit, HoldoutScore, fit_bass_offset, holdout_rmse
from .data import SHIPPED_DATA, AdoptionData, AdoptionSeries, load_adoption, shipped_series

__all__ = [
    "SHIPPED_DATA",
    "AdoptionData",
    "AdoptionSeries",
    "BassFit",
    "Calibration",
    "HoldoutScore",
    "calibrate",
    "fit_bass_offset",
    "holdout_rmse",
    "load_adoption",
    "shipped_series",
]


def __getattr__(name: str) -> Any:
    """``calibrate`` and ``Calibration`` on first use (they import pyabc)."""
    if name in ("calibrate", "Calibration"):
        from . import api as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
