"""Observed adoption data and the Bass benchmark that calibration compares the model with."""

from .data import SHIPPED_DATA, AdoptionData, AdoptionSeries, load_adoption, shipped_series

__all__ = [
    "SHIPPED_DATA",
    "AdoptionData",
    "AdoptionSeries",
    "load_adoption",
    "shipped_series",
]
