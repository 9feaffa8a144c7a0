"""Shared fixtures: the repository root and small model builders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


def one_firm(**firm: object) -> list[dict[str, object]]:
    """A single firm that releases once, at step 0 (legacy-market experiments): its
    quality gain over the legacy product is ``launch_step``; true quality as claimed."""
    spec: dict[str, object] = {
        "name": "newco",
        "strategy": "differentiated",
        "first_release": 0,
        "cadence": 1_000_000,
        "risk_ratio": 0.0,
        "move": 0.0,
        "cocreation": 0.0,
    }
    spec.update(firm)
    return [spec]


@pytest.fixture(scope="session")
def small_claims() -> dict[str, object]:
    """Every lesson measured on 20 seeds: the real code path, faster (not the lessons'
    100 seeds: those are the slow test's)."""
    from sim.classroom.lessons import LESSONS
    from sim.classroom.measured import measure

    return measure(LESSONS.values(), seeds=range(20))
