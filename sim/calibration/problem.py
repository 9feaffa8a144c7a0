"""A calibration problem, checked before anything is simulated.

:func:`prepare` turns what a user gave (a file or series, a scenario, fitted keys and
ranges, a holdout, a seed, how to model the noise) into a :class:`Problem`, or raises
an :class:`~sim.errors.InputError` for the first mistake: every check that can fail
happens here, before any budget is spent. That includes two checks that simulate (a
few curves, well under a second): a fitted key that cannot move the curve (the same
seed at its prior's two ends gives the same curve) is refused, not fitted for the
whole budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import InputError
from ..paths import SCENARIOS
from ..provenance import derive_seed, digest, package_versions
from ..scenario import Scenario, load_scenario
from ..spec import Spec, check_value, integer
from .bass import BassFit, fit_bass_offset
from .data import MIN_POINTS, AdoptionData, AdoptionSeries, load_adoption
from .observation import residual_autocorrelation
from .priors import (
    AUTOCORRELATION,
    DEFAULT_FIT,
    NOISE,
    OBSERVATION_PRIORS,
    Bounds,
    FitKey,
    check_fit,
    is_observation,
)
from .simulate import LEAD, CurveSimulator

__all__ = [
    "DEFAULT_SCENARIO",
    "DEFAULT_SEED",
    "NOISE_MODES",
    "Problem",
    "prepare",
    "safe_name",
]

DEFAULT_SCENARIO = SCENARIOS / "calibration.toml"
DEFAULT_SEED = 1
#: The launch's prior: the first observation lies 0 to ``lead`` periods after it.
LEAD_SPEC = Spec(section="", kind=float, default=None, help="periods", low=1, high=500)
NoiseMode = Literal["auto", "iid", "ar1", "off"]
NOISE_MODES: tuple[str, ...] = ("auto", "iid", "ar1", "off")
#: The stream of the seed the inert-key check simulates with.
INERT_STREAM = 2**32 + 7


@dataclass(frozen=True)
class Problem:
    """A checked calibration problem: the series, the points fitted, the scenario, the
    fitted keys (the observation model's included) and how the noise was chosen."""

    series: AdoptionSeries
    scenario: Scenario
    keys: tuple[FitKey, ...]
    holdout: int
    seed: int
    data_path: str = ""
    data_sha256: str = ""
    unit_note: str = ""
    noise_note: str = ""
    time_unit: str = "time"
    lead: float = LEAD  # the launch's prior: the first observation 0 to lead periods after it

    @property
    def n_fit(self) -> int:
        return len(self.series) - self.holdout

    @property
    def fit_times(self) -> np.ndarray:
        return self.series.times[: self.n_fit]

    @property
    def fit_shares(self) -> np.ndarray:
        return self.series.shares[: self.n_fit]

    @property
    def model_keys(self) -> tuple[FitKey, ...]:
        """The fitted scenario keys (what the simulator sets)."""
        return tuple(k for k in self.keys if not is_observation(k.key))

    @property
    def noisy(self) -> bool:
        """Whether the observation-error model is on (its sd is fitted)."""
        return any(k.key == NOISE for k in self.keys)

    def simulator(self) -> CurveSimulator:
        """The simulator, run for the launch's lead plus the span of every observed time
        (the held-out ones too): every launch the prior allows reaches every point."""
        times = self.series.times
        return CurveSimulator(
            params=dict(self.scenario.params),
            firms=tuple(dict(f) for f in self.scenario.firms),
            keys=self.model_keys,
            steps=math.ceil(self.lead + times[-1] - times[0]),
            strategies={k: dict(v) for k, v in self.scenario.strategies.items()},
        )

    def bass(self) -> BassFit:
        """The Bass benchmark fitted to the same points (clipped to [0, 1]: synthetic
        data with noise may leave it)."""
        return fit_bass_offset(self.fit_times, np.clip(self.fit_shares, 0.0, 1.0))

    def fingerprint(self, settings: Any) -> dict[str, Any]:
        """What the posterior depends on: a stored history must match it to resume."""
        return {
            "data_sha256": self.data_sha256,
            "series": self.series.name,
            "times": [float(t) for t in self.series.times],
            "shares": [float(s) for s in self.series.shares],
            "holdout": self.holdout,
            "scenario": digest(
                {
                    "params": self.scenario.params,
                    "firms": self.scenario.firms,
                    "strategies": self.scenario.strategies,
                }
            ),
            "fit": {k.key: list(k.bounds()) for k in self.keys},
            "seed": self.seed,
            "lead": self.lead,
            "population": settings.population,
            "wave": settings.wave,
            "prior_share": settings.prior_share,
            "versions": {
                "innovation-adoption": package_versions().get("innovation-adoption", ""),
                "pyabc": package_versions().get("pyabc", ""),
            },
        }


def prepare(
    data: str | Path | AdoptionData | AdoptionSeries,
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    fit: Mapping[str, Bounds] | None = None,
    *,
    series: str | None = None,
    holdout: int = 0,
    seed: int = DEFAULT_SEED,
    noise: NoiseMode = "auto",
    lead: float = LEAD,
) -> Problem:
    """Check every input of a calibration; raise an InputError for the first mistake.

    ``data``: a CSV path (read by :func:`.data.load_adoption`), loaded data, or one
    series; ``series`` picks one of several. ``fit``: ``{dotted key: (low, high)}``
    (uniform) or ``(low, high, "log")`` (log-uniform),
    by default :data:`.priors.DEFAULT_FIT`. ``holdout``: points at the end left out of
    the fit (at least MIN_POINTS must remain). ``noise``: the observation-error model
    when ``fit`` names none of its keys: ``auto`` (AR(1) noise if the residuals of a
    Bass fit call for it, else independent), ``iid``, ``ar1`` or ``off``. ``lead``:
    the launch's prior, uniform with the first observation 0 to ``lead`` periods after
    it.
    """
    path, sha, note, unit = "", "", "", "time"
    if isinstance(data, str | Path):
        data = load_adoption(data, series=series)
    if isinstance(data, AdoptionData):
        path, sha, note, unit = str(data.path), data.sha256, data.unit_note, data.time_column
        chosen = data.get(series)
    elif isinstance(data, AdoptionSeries):
        chosen = data
        sha = digest({"times": chosen.times.tolist(), "shares": chosen.shares.tolist()})
    else:
        raise InputError("data", type(data).__name__, "a CSV path, AdoptionData or AdoptionSeries")
    if noise not in NOISE_MODES:
        raise InputError("--noise", noise, f"one of {', '.join(NOISE_MODES)}")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    most = len(chosen) - MIN_POINTS
    try:
        integer("--holdout", holdout, 0, most, error=InputError)
    except InputError:
        raise InputError(
            "--holdout",
            holdout,
            f"an integer >= 0 and <= {most} (series {chosen.name!r} has {len(chosen)} points "
            f"and a fit needs {MIN_POINTS})",
        ) from None
    integer("--seed", seed, 0, 2**63 - 1, error=InputError)
    lead = check_value("--lead", lead, LEAD_SPEC, InputError)
    fitted = chosen.shares[: len(chosen) - holdout]
    if not np.any(fitted > 0):
        raise InputError(
            "series",
            chosen.name,
            reason=f"every fitted share is 0 ({fitted.size} points): no adoption to "
            "calibrate on; expected a series that rises above 0",
            source=path,
        )
    ranges = dict(DEFAULT_FIT if fit is None else fit)
    noise_note = _observation_model(ranges, chosen, holdout, noise)
    keys = tuple(check_fit(scenario, ranges))
    problem = Problem(
        chosen, scenario, keys, holdout, seed, path, sha, note, noise_note, unit, float(lead)
    )
    refuse_inert(problem)
    return problem


def _observation_model(
    ranges: dict[str, Bounds], series: AdoptionSeries, holdout: int, mode: str
) -> str:
    """Add the observation model's keys to ``ranges`` (in place) as ``mode`` says, unless
    ranges name them already; returns the sentence that says what was chosen."""
    given = [k for k in ranges if is_observation(k)]
    if given:
        if mode == "off":
            raise InputError(
                "--noise",
                "off",
                reason=f"the noise is off but --fit names {', '.join(given)}: expected one "
                "or the other",
            )
        kind = "AR(1)" if AUTOCORRELATION in ranges else "independent"
        return f"observation noise: {kind}, as the --fit keys give it"
    if mode == "off":
        return "observation noise: off (--noise off): the band holds no measurement error"
    if mode == "auto":
        times = series.times[: len(series) - holdout]
        shares = series.shares[: len(series) - holdout]
        clipped = np.clip(shares, 0.0, 1.0)
        residuals = clipped - fit_bass_offset(times, clipped).predict(times)
        found = residual_autocorrelation(residuals)
        mode = "ar1" if found.significant else "iid"
        sentence = f"observation noise: {found.sentence()} (--noise auto)"
    else:
        kind = "autocorrelated (AR(1))" if mode == "ar1" else "independent"
        sentence = f"observation noise: {kind} (--noise {mode})"
    ranges[NOISE] = OBSERVATION_PRIORS[NOISE]
    if mode == "ar1":
        ranges[AUTOCORRELATION] = OBSERVATION_PRIORS[AUTOCORRELATION]
    return sentence


def refuse_inert(problem: Problem) -> None:
    """Refuse a fitted scenario key that cannot move the curve: with every other key at
    its prior's middle and one seed, the curves at its prior's low and high end are
    identical (the key reaches the model, but nothing in this scenario uses it)."""
    simulator = problem.simulator()
    middle = {k.key: k.middle for k in problem.model_keys}
    seed = derive_seed(problem.seed, INERT_STREAM)
    for key in problem.model_keys:
        low = simulator.curve(middle | {key.key: key.low}, seed)
        high = simulator.curve(middle | {key.key: key.high}, seed)
        if np.array_equal(low, high):
            raise InputError(
                f"--fit {key.key}",
                f"{key.low:g}:{key.high:g}",
                reason="cannot move the curve: with one seed the simulated curves at both "
                f"ends of the range are identical (nothing in scenario "
                f"{problem.scenario.name!r} uses this key); expected a key that acts here",
            )


def safe_name(name: str) -> str:
    """A series name as a folder name: letters, digits, '.', '-' and '_' kept, any run of
    other characters (a '/' included) one '_'."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "series"
    return safe[:100]
