"""Observed adoption data and the Bass benchmark that calibration compares the model with."""

from .bass import BassFit, HoldoutScore, fit_bass_offset, holdout_rmse
from .data import SHIPPED_DATA, AdoptionData, AdoptionSeries, load_adoption, shipped_series

__all__ = [
    "SHIPPED_DATA",
    "AdoptionData",
    "AdoptionSeries",
    "BassFit",
    "HoldoutScore",
    "fit_bass_offset",
    "holdout_rmse",
    "load_adoption",
    "shipped_series",
]
