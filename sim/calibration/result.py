"""A finished calibration: its posterior, what it predicts, how well it covers the data.

:class:`Calibration` is what :func:`.api.calibrate` returns and what
:meth:`Calibration.load` reads back from a calibration's folder (the curves are
simulated again from the particles' seeds, exactly). Its bands are the posterior
predictive of the *observed* share (:class:`.predict.Predictive`: the curve plus the
observation noise), and every table that scores them says how often the data fall
inside: in-sample (the fitted points) and out of sample (the held-out ones).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..provenance import derive_seed
from ..scenario import from_dict
from ..spec import Range, integer
from .abc import AbcSettings
from .baselines import bootstrap_draws, forecast_scores
from .bass import BassFit
from .data import AdoptionSeries
from .manifest import MANIFEST, read_manifest
from .observation import launch_quadrature
from .predict import Predictive, correlations, identification, summary_table
from .priors import AUTOCORRELATION, NOISE, FitKey
from .problem import Problem
from .sampler import GenerationReport
from .scoring import coverage, rmse
from .simulate import LEAD, CurveSimulator, align

__all__ = ["Calibration", "posterior_table"]

#: The stream of a particle's launch draw (from its model seed).
LAUNCH_STREAM = 2**32 + 13
#: The stream of the Bass benchmark's residual bootstrap (from the calibration's seed).
BASS_STREAM = 2**32 + 17
HOLDOUT_COLUMNS = [
    "series",
    "model",
    "rmse_in",
    "rmse_out",
    "crps_out",
    "coverage50_in",
    "coverage90_in",
    "coverage50_out",
    "coverage90_out",
]


@dataclass(repr=False)
class Calibration:
    """A finished calibration: posterior, summary, identification, Bass benchmark, bands."""

    problem: Problem
    settings: AbcSettings
    posterior: pd.DataFrame  # weight, fitted keys, launch, distance, [log_likelihood], seed
    generations: pd.DataFrame  # t, epsilon, particles, simulations, acceptance_rate, ess
    bass: BassFit  # fitted to the same points
    simulator: CurveSimulator
    curves: list[np.ndarray] = field(repr=False)
    stopped: str = ""
    resumed_from: int = 0
    simulations_run: int = 0
    seconds: float = 0.0  # this call
    sampling_seconds: float = 0.0  # every stored generation, across resumes (pyabc's)
    spent: int = 0  # simulations the stored history holds, the prior sample included
    next_cost: int = 0  # simulations the generation not started would have needed
    dropped: int = 0  # simulations of a generation the budget cut off (this call)
    pooled: int = 1  # generations the posterior pools (those at temperature 1)
    reports: list[GenerationReport] = field(default_factory=list, repr=False)

    # ---------------------------------------------------------------- posterior
    @property
    def keys(self) -> list[str]:
        return [k.key for k in self.problem.keys]

    @functools.cached_property
    def summary(self) -> pd.DataFrame:
        """key, mean, q05, q50, q95 of every fitted key (weighted)."""
        return summary_table(self.posterior, self.problem.keys)

    @functools.cached_property
    def correlation(self) -> pd.DataFrame:
        """Weighted correlations between the fitted keys and the launch."""
        return correlations(self.posterior, [*self.keys, "launch"])

    @functools.cached_property
    def identification(self) -> pd.DataFrame:
        """Per key: 90 % width against the prior's, bound, ridge and the verdict."""
        return identification(self.summary, self.problem.keys, self.correlation)

    @property
    def ess(self) -> float:
        """Effective sample size of the posterior, 1 / sum(w^2): how many equally weighted
        particles its weights are worth (the population size at best)."""
        weights = self._weights()
        return float(1.0 / np.sum(weights**2))

    def launch_quantiles(self) -> np.ndarray:
        """q05, q50, q95 of the launch (the time of the curve's step 0)."""
        from .predict import weighted_quantiles

        return weighted_quantiles(
            self.posterior["launch"].to_numpy(), self._weights(), (0.05, 0.5, 0.95)
        )

    # -------------------------------------------------------------- predictions
    def predictive(self, steps: int = 0) -> Predictive:
        """The posterior predictive (curves long enough for ``steps`` past the data)."""
        times = self.problem.series.times
        return Predictive.of(
            self._curves_to(times[-1] + steps),
            self.posterior,
            self.problem.fit_times[-1],
            self.problem.fit_shares[-1],
        )

    def fitted(self) -> pd.DataFrame:
        """Posterior predictive bands at every observed time, beside the data and Bass.

        Columns: time, observed, fitted (False for a held-out point), mean, q05, q25,
        q50, q75, q95, bass.
        """
        return self._fitted.copy()

    @functools.cached_property
    def _fitted(self) -> pd.DataFrame:
        series = self.problem.series
        frame = self.predictive().bands(series.times)
        frame.insert(1, "observed", series.shares)
        frame.insert(2, "fitted", np.arange(len(series)) < self.problem.n_fit)
        frame["bass"] = self.bass.predict(series.times)
        return frame

    def predict(self, steps: int = 0) -> pd.DataFrame:
        """Posterior predictive bands of the observed share for each period from the
        first observation to ``steps`` periods after the last: time, mean, q05, q25,
        q50, q75, q95 (shares).

        Particles whose stored curve ends earlier are simulated again, longer, from
        their own seeds (the stored part is reproduced exactly).
        """
        integer("steps", steps, 0, error=InputError)
        times = self.problem.series.times
        grid = np.arange(times[0], times[-1] + steps + 1e-9, 1.0)
        grid = np.union1d(grid, times)
        return self.predictive(steps).bands(grid)

    def rmse(self, points: slice | None = None) -> float:
        """RMSE of the posterior predictive median at the observed points (default:
        the fitted ones)."""
        frame = self.fitted()
        part = frame[frame["fitted"]] if points is None else frame.iloc[points]
        return rmse(part["q50"], part["observed"])

    def coverage(self) -> dict[str, float]:
        """Shares of the fitted (``_in``) and held-out (``_out``) points inside the
        model's 50 % and 90 % predictive bands (NaN without held-out points)."""
        frame = self.fitted()
        out = {}
        for part, rows in (("in", frame[frame["fitted"]]), ("out", frame[~frame["fitted"]])):
            out[f"coverage50_{part}"] = coverage(rows["q25"], rows["q75"], rows["observed"])
            out[f"coverage90_{part}"] = coverage(rows["q05"], rows["q95"], rows["observed"])
        return out

    @functools.cached_property
    def bass_draws(self) -> np.ndarray:
        """The Bass benchmark's residual-bootstrap draws at every observed time."""
        problem = self.problem
        return bootstrap_draws(
            "bass",
            problem.fit_times,
            problem.fit_shares,
            problem.series.times,
            seed=derive_seed(problem.seed, BASS_STREAM),
        )

    def holdout_table(self) -> pd.DataFrame:
        """The model (posterior predictive) and Bass (least squares, bands by residual
        bootstrap), both fitted on the same points: RMSE of the point forecast (the
        model's median) in and out of sample, CRPS out of sample, and coverage of the
        50 % and 90 % bands in and out."""
        frame = self.fitted()
        inside = frame["fitted"].to_numpy()
        observed = frame["observed"].to_numpy()
        values, weights = self.predictive().draws(frame["time"].to_numpy())
        model = forecast_scores(values, weights, frame["q50"].to_numpy(), observed, inside)
        bass = forecast_scores(self.bass_draws, None, frame["bass"].to_numpy(), observed, inside)
        name = self.problem.series.name
        rows = [
            {"series": name, "model": "abm", **model},
            {"series": name, "model": "bass", **bass},
        ]
        return pd.DataFrame(rows, columns=HOLDOUT_COLUMNS)

    # ------------------------------------------------------------------- figures
    def band(self) -> pd.DataFrame:
        """The predictive band on every period from the earliest likely launch (the
        launch's 5 % quantile) to the last observation, for the figure."""
        times = self.problem.series.times
        start = min(np.floor(self.launch_quantiles()[0]), times[0])
        grid = np.union1d(np.arange(start, times[-1] + 1e-9, 1.0), times)
        return self.predictive().bands(grid)

    def plot(self) -> Any:
        """The fit figure (data, bands, Bass, residuals) as a matplotlib Figure."""
        from .figures import fit_figure

        problem = self.problem
        band = self.band()
        if AUTOCORRELATION in self.keys:
            noise = "AR(1) observation noise"
        else:
            noise = "independent observation noise" if problem.noisy else "no observation noise"
        source = problem.series.source or problem.data_path or "data given in Python"
        return fit_figure(
            self.fitted(),
            band,
            self.bass.predict(band["time"].to_numpy()),
            title=f"{problem.series.name}: RMSE {self.rmse():.3f}",
            coverage=self.coverage(),
            time_unit=problem.time_unit,
            footer=f"source: {source[:90]}; {len(self.posterior)} particles, seed "
            f"{problem.seed}; {noise}",
        )

    def __repr__(self) -> str:
        problem = self.problem
        lines = [
            f"Calibration of {problem.series.name!r}: {problem.n_fit} points fitted"
            + (f", {problem.holdout} held out" if problem.holdout else "")
            + f"; {len(self.posterior)} particles (ESS {self.ess:.0f}), "
            f"{self.spent} simulations, stopped: {self.stopped or '-'}"
        ]
        table = self.summary.merge(self.identification[["key", "verdict"]], on="key")
        for row in table.itertuples():
            lines.append(
                f"  {row.key}: {row.q50:.4g} [{row.q05:.4g}, {row.q95:.4g}]  {row.verdict}"
            )
        shares = self.coverage()
        lines.append(
            f"  RMSE {self.rmse():.4f}; fitted points in the 90 % band "
            f"{shares['coverage90_in']:.0%}"
            + (f", held-out {shares['coverage90_out']:.0%}" if problem.holdout else "")
        )
        return "\n".join(lines)

    # ---------------------------------------------------------------- internals
    def _weights(self) -> np.ndarray:
        return self.posterior["weight"].to_numpy()

    def _curves_to(self, time: float) -> list[np.ndarray]:
        curves = []
        seeds = self.posterior["seed"].to_numpy(dtype=np.int64)  # exact: not via a float row
        launches = self.posterior["launch"].to_numpy()
        for index, (curve, launch) in enumerate(zip(self.curves, launches, strict=True)):
            missing = math.ceil(time - launch - (curve.size - 1) - 1e-9)
            if missing > 0:
                curve = self.simulator.curve(self._values(index), int(seeds[index]), extra=missing)
            curves.append(curve)
        return curves

    def _values(self, index: int) -> dict[str, float]:
        return {k.key: float(self.posterior[k.key].iloc[index]) for k in self.problem.model_keys}

    # --------------------------------------------------------------------- load
    @classmethod
    def load(cls, directory: str | Path) -> Calibration:
        """The calibration written to ``directory`` (its manifest, posterior.csv and
        generations.csv); the particles' curves are simulated again from their seeds."""

        directory = Path(directory)
        record = read_manifest(directory)
        if record is None or record.get("kind") != "calibration":
            raise InputError(
                str(directory),
                reason=f"no finished calibration here (no readable {MANIFEST}): expected "
                "a calibration's output folder",
            )
        problem = _problem_of(record)
        settings = AbcSettings(
            **{
                k: record["abc"][k]
                for k in ("budget", "population", "max_generations", "wave", "prior_share")
            }
        )
        posterior = pd.read_csv(directory / "posterior.csv", dtype={"seed": np.int64})
        simulator = problem.simulator()
        values = [
            {k.key: float(v) for k, v in zip(problem.model_keys, row, strict=True)}
            for row in posterior[[k.key for k in problem.model_keys]].itertuples(index=False)
        ]
        curves = [
            simulator.curve(v, int(s)) for v, s in zip(values, posterior["seed"], strict=True)
        ]
        abc = record["abc"]
        return cls(
            problem=problem,
            settings=settings,
            posterior=posterior,
            generations=pd.read_csv(directory / "generations.csv"),
            bass=problem.bass(),
            simulator=simulator,
            curves=curves,
            stopped=abc.get("stopped", ""),
            resumed_from=abc.get("resumed_from_generation", 0),
            sampling_seconds=abc.get("sampling_seconds_all_runs", 0.0),
            spent=abc.get("simulations", 0),
            next_cost=abc.get("next_generation_cost", 0),
            pooled=abc.get("pooled_generations", 1),
        )


def posterior_table(
    populations: list[tuple[Any, float]], problem: Problem
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """One row per particle of the pooled populations (each population's weights scaled
    to its share), ordered by seed: weight, fitted keys, launch, distance (RMSE at the
    best launch), log_likelihood (with the noise model) and seed; and its curve. With
    the noise model the launch is drawn from the particle's likelihood over launch times
    (its own seed's stream), else it is the best one."""
    rows, curves = [], []
    times, shares = problem.fit_times, problem.fit_shares
    particles = [
        (particle, share / sum(p.weight for p in population.particles))
        for population, share in populations
        for particle in population.particles
    ]
    particles.sort(key=lambda item: int(item[0].sum_stat["seed"][0]))
    for particle, scale in particles:
        curve = np.asarray(particle.sum_stat["curve"], dtype=float)
        seed = int(particle.sum_stat["seed"][0])
        values = {k.key: k.value(k.decode(particle.parameter[k.key])) for k in problem.keys}
        row = {"weight": particle.weight * scale, **values}
        best = align(curve, times, shares, problem.lead)
        if problem.noisy:
            sigma = float(values[NOISE])
            rho = float(values.get(AUTOCORRELATION, 0.0))
            quadrature = launch_quadrature(curve, times, shares, sigma, rho, problem.lead)
            rng = np.random.default_rng(derive_seed(seed, LAUNCH_STREAM))
            row["launch"] = quadrature.draw_launch(rng)
            row["distance"] = best.rmse
            row["log_likelihood"] = quadrature.log_likelihood
        else:
            row["launch"] = best.launch
            row["distance"] = best.rmse
        row["seed"] = seed
        rows.append(row)
        curves.append(curve)
    frame = pd.DataFrame(rows)
    frame["weight"] /= frame["weight"].sum()
    return frame, curves


def _problem_of(record: dict[str, Any]) -> Problem:
    """The problem a manifest describes (data, scenario tables, keys, holdout, seed)."""
    fingerprint = record["fingerprint"]
    data = record["data"]
    scenario_record = record["scenario"]
    scenario = from_dict(scenario_record["tables"], scenario_record.get("file", ""))
    series = AdoptionSeries(
        fingerprint["series"],
        _frozen(fingerprint["times"]),
        _frozen(fingerprint["shares"]),
        data.get("source", ""),
    )
    keys = tuple(
        FitKey(
            key,
            Range(float(spec["low"]), float(spec["high"]), bool(spec.get("integer", False))),
            log=spec.get("prior") == "log-uniform",
        )
        for key, spec in record["fit"].items()
    )
    return Problem(
        series=series,
        scenario=scenario,
        keys=keys,
        holdout=int(fingerprint["holdout"]),
        seed=int(fingerprint["seed"]),
        data_path=data.get("file", ""),
        data_sha256=data.get("sha256", ""),
        unit_note=data.get("unit_note", ""),
        noise_note=data.get("noise_note", ""),
        time_unit=data.get("time_column", "time"),
        lead=float(fingerprint.get("lead", LEAD)),
    )


def _frozen(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    array.setflags(write=False)
    return array
