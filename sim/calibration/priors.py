"""What a calibration fits: scenario keys by dotted path, each with a prior range.

``--fit KEY=LOW:HIGH`` names a numeric key of the scenario (``diffusion.imitation``,
``customers.loss_aversion_mean``, ``firms.newco.broadcast``, ``firms.*.cadence``,
``strategies.differentiated.quality_step_mean``) and
its prior range. The scenario layer checks each key: an unknown key, one that cannot
reach the model (a market-wide default every firm overrides), or a bound outside what
the key allows is refused with the scenario's one-line error, located at ``--fit``.
Integer keys are fitted on a continuous range and rounded when applied. The prior is
uniform on the range, or with ``KEY=LOW:HIGH:log`` (LOW > 0) log-uniform: uniform in the
logarithm, for a rate whose plausible values span orders of magnitude. ABC then samples
and perturbs the key in its logarithm (:meth:`FitKey.encode`); everything stored and
reported is the key's own value.

Without ``--fit`` the three :data:`DEFAULT_FIT` keys are fitted: the Bass p and q of
awareness, log-uniform (a slow series, like the dishwasher's 40 years below 10 %, needs
a p near 1e-4, a fast one near 0.05), and the mean loss aversion, which sets the ceiling
(docs/calibration.md).

``observation.noise`` and ``observation.autocorrelation`` are calibration-only keys:
the sd and the correlation of the noise between the simulated curve and the data
(:mod:`.observation`). They are not scenario keys, never reach the model and are not
checked by the scenario layer; their ranges must lie inside :data:`.observation.
HARD_LIMITS` (a positive sd), and the correlation needs the sd fitted too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..keys import Key, apply_checked, parse_key
from ..scenario import Scenario
from ..spec import Range

__all__ = [
    "AUTOCORRELATION",
    "DEFAULT_FIT",
    "HARD_LIMITS",
    "LOG",
    "NOISE",
    "OBSERVATION",
    "OBSERVATION_PRIORS",
    "Bounds",
    "FitKey",
    "apply_values",
    "check_fit",
    "decoded",
    "hard_limits",
    "is_observation",
    "parse_fit",
    "split_bounds",
]

#: A prior range: (low, high), uniform, or (low, high, "log"), log-uniform.
Bounds = tuple[float, float] | tuple[float, float, str]
#: The scale that makes a prior log-uniform.
LOG = "log"
#: Fitted when no --fit is given: awareness (Bass p and q, log-uniform) and the ceiling
#: (loss aversion). Uniform p on [0.001, 0.1] and q on [0.05, 1] could not make a curve
#: as slow as the stove's or the dishwasher's, and ABC fitted those with a low ceiling
#: instead: their forecasts stayed flat while the data rose (docs/validation.md).
DEFAULT_FIT: dict[str, Bounds] = {
    "diffusion.broadcast": (1e-4, 0.1, LOG),
    "diffusion.imitation": (0.01, 1.0, LOG),
    "customers.loss_aversion_mean": (1.0, 6.0),
}
#: The prefix of calibration-only keys (the observation-error model, .observation).
OBSERVATION = "observation."
NOISE = "observation.noise"
AUTOCORRELATION = "observation.autocorrelation"
#: Default uniform priors: the noise's sd in shares (half a point to ten points), and
#: its correlation between points one period apart, up to 0.99: the slow series'
#: residuals wander like a random walk (their posteriors pressed against a bound at
#: 0.95), and near 1 a forecast's band widens with the horizon.
OBSERVATION_PRIORS: dict[str, tuple[float, float]] = {
    NOISE: (0.005, 0.1),
    AUTOCORRELATION: (0.0, 0.99),
}
#: What --fit may give them: a positive sd up to one share; a correlation below 1.
HARD_LIMITS: dict[str, tuple[float, float]] = {NOISE: (0.0, 1.0), AUTOCORRELATION: (0.0, 0.99)}
FLAG = "--fit"
FORMAT = (
    "KEY=LOW:HIGH with LOW < HIGH, or KEY=LOW:HIGH:log for a log-uniform prior (LOW > 0), "
    "e.g. diffusion.imitation=0.05:1"
)
#: Keys calibration sets itself or that are not parameters of the curve.
NOT_FITTED = {
    "market.n_customers": "the market size is the resolution of the simulated share, "
    "not a parameter of the curve; set it in the scenario",
    "market.start": "calibration needs market.start = 'legacy'",
}


@dataclass(frozen=True)
class FitKey:
    """One fitted key: its dotted path, prior range (:class:`~sim.spec.Range`, whole
    numbers for an integer key) and whether the prior is log-uniform (``log``).

    ABC samples a key in its *encoded* value (the logarithm for a log-uniform prior, the
    value itself otherwise), where the prior is uniform on :attr:`span`."""

    key: str
    prior: Range
    log: bool = False

    def __post_init__(self) -> None:
        if self.log and not self.prior.low > 0:
            raise ValueError(f"a log-uniform prior needs low > 0, got {self.prior.low}")

    @classmethod
    def on(cls, key: str, low: float, high: float, log: bool = False) -> FitKey:
        """The fitted ``key`` with prior range [low, high], integer if the key is."""
        return cls(key, Range(low, high, integer=parse_key(key).integer), log)

    @property
    def scale(self) -> str:
        """ "log-uniform" or "uniform": what the prior is on the range."""
        return "log-uniform" if self.log else "uniform"

    def encode(self, x: Any) -> Any:
        """The key's value(s) where ABC samples them (the log for a log-uniform prior)."""
        return np.log(x) if self.log else x

    def decode(self, u: Any) -> Any:
        """The inverse of :meth:`encode`."""
        return np.exp(u) if self.log else u

    @property
    def span(self) -> tuple[float, float]:
        """The prior's range in encoded values, where it is uniform."""
        return float(self.encode(self.low)), float(self.encode(self.high))

    @property
    def middle(self) -> float:
        """The middle of the prior's range in encoded values, decoded."""
        low, high = self.span
        return float(self.decode((low + high) / 2))

    def draw(self, rng: np.random.Generator) -> float:
        """One value from the prior."""
        return float(self.decode(rng.uniform(*self.span)))

    def bounds(self) -> Bounds:
        """(low, high) or (low, high, "log"), as :data:`DEFAULT_FIT` writes them."""
        return (self.low, self.high, LOG) if self.log else (self.low, self.high)

    @property
    def low(self) -> float:
        return self.prior.low

    @property
    def high(self) -> float:
        return self.prior.high

    @property
    def integer(self) -> bool:
        return self.prior.integer

    @property
    def width(self) -> float:
        return self.prior.width

    def value(self, x: float) -> float | int:
        """``x`` as the scenario takes it (rounded for an integer key)."""
        return self.prior.cast(x)


def parse_fit(texts: Iterable[str]) -> dict[str, Bounds]:
    """``["KEY=LOW:HIGH", "KEY=LOW:HIGH:log", ...]`` to ``{key: (low, high[, "log"])}``;
    a malformed one is an InputError."""
    ranges: dict[str, Bounds] = {}
    for text in texts:
        key, sep, bounds = text.partition("=")
        key = key.strip()
        low_text, colon, high_text = bounds.partition(":")
        high_text, _, scale = high_text.partition(":")
        if not (sep and colon and key):
            raise InputError(FLAG, text, FORMAT)
        if scale.strip() not in ("", LOG):
            raise InputError(FLAG, text, f"the scale after HIGH to be 'log' or nothing: {FORMAT}")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise InputError(FLAG, text, f"numbers LOW and HIGH in {FORMAT}") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(FLAG, text, f"finite LOW and HIGH in {FORMAT}")
        if low >= high:
            raise InputError(FLAG, text, f"LOW < HIGH ({low:g} >= {high:g})")
        if key in ranges:
            raise InputError(FLAG, text, reason=f"{key} is given twice: expected each key once")
        if scale.strip() == LOG:
            if low <= 0:
                raise InputError(FLAG, text, f"LOW > 0 for a log-uniform prior ({low:g} <= 0)")
            ranges[key] = (low, high, LOG)
        else:
            ranges[key] = (low, high)
    return ranges


def split_bounds(key: str, bounds: Bounds) -> tuple[float, float, bool]:
    """(low, high, log) of ``key``'s prior range as :data:`DEFAULT_FIT` writes it; any
    other shape, and a log-uniform one from LOW <= 0, is an InputError."""
    allowed = "(LOW, HIGH) for a uniform prior or (LOW, HIGH, 'log') for a log-uniform one"
    try:
        low, high, *scale = bounds
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise InputError(f"{FLAG} {key}", bounds, allowed) from None
    if scale not in ([], [LOG]) or not low < high:
        raise InputError(f"{FLAG} {key}", bounds, f"{allowed}, LOW < HIGH")
    if scale == [LOG] and low <= 0:
        raise InputError(f"{FLAG} {key}", low, "LOW > 0 for a log-uniform prior")
    return low, high, scale == [LOG]


def decoded(keys: Iterable[FitKey], sampled: Mapping[str, float]) -> dict[str, float]:
    """The values ABC sampled for ``keys`` (a pyabc Parameter: a log-uniform key's
    logarithm) as the keys' own values."""
    return {key.key: float(key.decode(sampled[key.key])) for key in keys}


def check_fit(scenario: Scenario, ranges: Mapping[str, Bounds]) -> list[FitKey]:
    """The fitted keys, checked against the scenario; errors name ``--fit``.

    Each key is applied at its low and high value by the scenario layer (``strict``:
    a key that cannot reach the model is refused), so an unknown key, a shadowed key
    and a bound outside the key's allowed values all give its one-line error; then
    all keys together, which refuses one key that shadows another.
    """
    if scenario.params["start"] != "legacy":
        raise InputError(
            "market.start",
            scenario.params["start"],
            "'legacy': calibration compares the share that left the legacy product "
            "with the observed share adopted",
            source=scenario.source,
        )
    keys = []
    for key, bounds in ranges.items():
        low, high, log = split_bounds(key, bounds)
        if is_observation(key):
            keys.append(_observation_key(key, low, high, log, ranges))
            continue
        section = key.split(".", 1)[0]
        if key in NOT_FITTED or section in ("run", "scenario"):
            reason = NOT_FITTED.get(key, "expected a model or firm key, not a run setting")
            raise InputError(f"{FLAG} {key}", reason=f"not fitted: {reason}")
        try:
            spec = parse_key(key, [f["name"] for f in scenario.firms]).spec
        except InputError as err:
            raise err.at(f"{scenario.source} with {FLAG}") from None
        if not spec.numeric:
            raise InputError(
                f"{FLAG} {key}", reason=f"expected a numeric key; {key} is {spec.allowed()}"
            )
        fit = FitKey.on(key, low, high, log)
        for value in fit.prior.ends():
            scenario.with_overrides({key: value}, FLAG)
        keys.append(fit)
    model = [k for k in keys if not is_observation(k.key)]
    for end in ("low", "high"):
        scenario.with_overrides({k.key: k.value(getattr(k, end)) for k in model}, FLAG)
    return keys


def is_observation(key: str) -> bool:
    """Whether ``key`` belongs to the observation-error model, not to the scenario."""
    return key.startswith(OBSERVATION)


def _observation_key(
    key: str, low: float, high: float, log: bool, ranges: Mapping[str, Bounds]
) -> FitKey:
    """A checked key of the observation model (its own limits, not the scenario's)."""
    if key not in HARD_LIMITS:
        names = ", ".join(k.removeprefix(OBSERVATION) for k in HARD_LIMITS)
        raise InputError(f"{FLAG} {key}", reason=f"unknown key; allowed: {names}")
    least, most = HARD_LIMITS[key]
    if not (least < low if key == NOISE else least <= low) or high > most:
        above = f"> {least:g}" if key == NOISE else f">= {least:g}"
        raise InputError(f"{FLAG} {key}", (low, high), f"LOW {above} and HIGH <= {most:g}")
    if key == AUTOCORRELATION and NOISE not in ranges:
        raise InputError(
            f"{FLAG} {key}",
            reason=f"the noise's correlation needs its sd fitted too: expected {NOISE} "
            "among the --fit keys (or --noise ar1)",
        )
    return FitKey(key, Range(low, high), log)


def hard_limits(key: str) -> tuple[float | None, float | None]:
    """The values a key can never leave (its spec's, or the observation model's):
    a prior bound there cannot be widened."""
    if is_observation(key):
        return HARD_LIMITS.get(key, (None, None))
    try:
        spec = parse_key(key).spec
    except (InputError, KeyError):
        return None, None
    return spec.low, spec.high


def apply_values(
    params: Mapping[str, Any],
    firms: list[dict[str, Any]],
    keys: Iterable[FitKey],
    values: Mapping[str, float],
    strategies: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Checked model parameters, firms and strategies' release parameters with the
    fitted ``values`` set (new copies).

    ``values`` lie inside ranges :func:`check_fit` accepted, whose ends the scenario
    layer checked: every allowed set is an interval, so no value needs checking again.
    """
    assigned: dict[str | Key, Any] = {
        key.key: key.value(values[key.key]) for key in keys if not is_observation(key.key)
    }
    return apply_checked(params, firms, strategies or {}, assigned)
