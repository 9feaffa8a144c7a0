"""The class's loss aversion: the lottery list of Gächter, Johnson & Herrmann.

Gächter, Johnson & Herrmann (2007; Theory and Decision 2022) offer six 50/50
lotteries, each "win 6 or lose L" with L = 2, 3, 4, 5, 6, 7, to accept or reject.
With linear utility a person with loss aversion λ accepts "win 6 / lose L" exactly
when 0.5·6 − 0.5·λ·L ≥ 0, that is when λ ≤ 6/L. So each accepted lottery says
λ ≤ 6/L and each rejected one says λ > 6/L: a person's λ lies in a *band*, above
the largest bound of a rejected lottery and at most the smallest bound of an
accepted one.

Answers are *consistent* when nobody accepts a worse lottery (a larger loss) after
rejecting a better one; inconsistent answers have no band: they are counted, never
used.

Two bands have an open end. Rejecting all six says only λ > 3; accepting all six
says only λ ≤ 6/7. Where a number is needed (drawing customers' λ, a class mean)
they are closed where the next lottery of the list would have closed them: λ in
(3, 4] as if "win 6 / lose 1.5" had been accepted, and λ in (0.75, 6/7] as if
"win 6 / lose 8" had been rejected. The histogram shows them as "> 3" and "≤ 0.86".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..stats import t_half_width

__all__ = [
    "ACCEPT",
    "ASCENDING",
    "BANDS",
    "LOSSES",
    "REJECT",
    "WIN",
    "Band",
    "band_of",
    "band_position",
    "class_mean",
    "draw_loss_aversion",
    "first_inconsistency",
    "summarize",
]

#: The win of every lottery, and the losses of the six lotteries, in the order asked.
WIN = 6.0
LOSSES: tuple[float, ...] = (2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
ACCEPT, REJECT = "accept", "reject"
#: Where the open ends are closed (see the module docstring): 6/1.5 and 6/8.
OPEN_HIGH_CLOSED_AT = WIN / 1.5
OPEN_LOW_CLOSED_AT = WIN / 8.0


@dataclass(frozen=True)
class Band:
    """A range of λ: low < λ <= high, ``accepted`` lotteries accepted (0 to 6)."""

    accepted: int
    low: float
    high: float
    open_high: bool = False
    open_low: bool = False

    @property
    def label(self) -> str:
        """Short text for the histogram and the student's page."""
        if self.open_high:
            return f"λ > {self.low:g}"
        if self.open_low:
            return f"λ ≤ {self.high:.2f}"
        return f"{self.low:.2f} < λ ≤ {self.high:.2f}"

    @property
    def short(self) -> str:
        """The band's name under a histogram bar: "1.5–2", "> 3", "≤ 0.86"."""
        if self.open_high:
            return f"> {_number(self.low)}"
        if self.open_low:
            return f"≤ {_number(self.high)}"
        return f"{_number(self.low)}–{_number(self.high)}"

    @property
    def closed(self) -> tuple[float, float]:
        """The band with its open end closed (see the module docstring)."""
        low = OPEN_LOW_CLOSED_AT if self.open_low else self.low
        high = OPEN_HIGH_CLOSED_AT if self.open_high else self.high
        return low, high

    @property
    def midpoint(self) -> float:
        low, high = self.closed
        return (low + high) / 2


def _number(value: float) -> str:
    """A band's bound in short: 1.5, 2, 0.86."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _make_bands() -> tuple[Band, ...]:
    bounds = [WIN / loss for loss in LOSSES]  # 3, 2, 1.5, 1.2, 1, 6/7
    bands = [Band(0, bounds[0], np.inf, open_high=True)]
    for k in range(1, len(LOSSES)):
        bands.append(Band(k, bounds[k], bounds[k - 1]))
    bands.append(Band(len(LOSSES), 0.0, bounds[-1], open_low=True))
    return tuple(bands)


#: The seven bands, by number of lotteries accepted (0 = rejected all six).
BANDS: tuple[Band, ...] = _make_bands()
#: The same bands from the lowest λ to the highest: the histogram's order.
ASCENDING: tuple[Band, ...] = BANDS[::-1]


def first_inconsistency(answers: Sequence[str]) -> tuple[int, int] | None:
    """(rejected, accepted): indices of a better lottery rejected and a worse one
    accepted after it, or None when the answers are consistent."""
    rejected = next((i for i, a in enumerate(answers) if a == REJECT), None)
    if rejected is None:
        return None
    accepted = next((i for i in range(rejected + 1, len(answers)) if answers[i] == ACCEPT), None)
    return None if accepted is None else (rejected, accepted)


def band_of(answers: Sequence[str]) -> Band | None:
    """The λ band of six answers ("accept"/"reject", in the order of :data:`LOSSES`),
    or None when they are inconsistent."""
    if len(answers) != len(LOSSES) or any(a not in (ACCEPT, REJECT) for a in answers):
        raise ValueError(f"expected {len(LOSSES)} answers, each {ACCEPT!r} or {REJECT!r}")
    if first_inconsistency(answers) is not None:
        return None
    return BANDS[sum(a == ACCEPT for a in answers)]


def draw_loss_aversion(bands: Sequence[Band], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of λ: each from a student picked at random, uniform in their band
    (open ends closed as in the module docstring)."""
    if not bands:
        raise ValueError("no consistent answers to draw loss aversion from")
    closed = np.array([band.closed for band in bands])
    picked = closed[rng.integers(len(bands), size=n)]
    return rng.uniform(picked[:, 0], picked[:, 1])


#: Reference values marked on the class histogram.
TVERSKY_KAHNEMAN = 2.25  # Tversky & Kahneman (1992)
META_ANALYSIS_MEAN = 1.96  # Brown, Imai, Vieider & Camerer (2024), meta-analytic mean
REFERENCES = (
    ("Tversky & Kahneman 1992", TVERSKY_KAHNEMAN),
    ("meta-analysis 2024", META_ANALYSIS_MEAN),
)


def band_position(value: float) -> float:
    """Where λ = ``value`` falls on a histogram of one equal-width bar per band (bar i
    spans i..i+1 in :data:`ASCENDING` order): its band's index plus how far into the band
    (open ends closed as in the module docstring)."""
    for i, band in enumerate(ASCENDING):
        low, high = band.closed
        if low < value <= high:
            return i + (value - low) / (high - low)
    raise ValueError(
        f"λ = {value} is outside the bands' {ASCENDING[0].closed[0]}..{ASCENDING[-1].closed[1]}"
    )


def class_mean(bands: Sequence[Band], level: float = 0.95) -> dict[str, float | None] | None:
    """The class's mean λ, from each consistent student's band midpoint, with its t
    confidence interval across students, and where they fall on the histogram
    (:func:`band_position`). None without an answer; no interval with one."""
    if not bands:
        return None
    midpoints = np.array([b.midpoint for b in bands])
    mean = float(midpoints.mean())
    low = high = None
    if midpoints.size > 1:
        half = float(t_half_width(midpoints.std(ddof=1), midpoints.size, level))
        low, high = mean - half, mean + half
    lowest, highest = ASCENDING[0].closed[0], ASCENDING[-1].closed[1]

    def position(value: float | None) -> float | None:
        return None if value is None else band_position(min(max(value, lowest + 1e-9), highest))

    return {
        "mean": mean,
        "low": low,
        "high": high,
        "level": level,
        "position": position(mean),
        "low_position": position(low),
        "high_position": position(high),
    }


def summarize(answers: Sequence[Sequence[str]]) -> dict[str, object]:
    """The class at a glance, for the teacher's page: how many answered, how many were
    inconsistent, how many fall in each band (from the lowest λ to the highest), the
    class mean with its 95 % interval and where the reference values fall."""
    bands = [band_of(a) for a in answers]
    usable = [b for b in bands if b is not None]
    mean = class_mean(usable)
    return {
        "answered": len(bands),
        "inconsistent": len(bands) - len(usable),
        "bands": [
            {
                "label": band.short,
                "low": band.closed[0],
                "high": band.closed[1],
                "open_low": band.open_low,
                "open_high": band.open_high,
                "count": sum(b is band for b in usable),
            }
            for band in ASCENDING
        ],
        "mean_midpoint": None if mean is None else mean["mean"],
        "mean": mean,
        "references": [
            {"label": label, "value": value, "position": band_position(value)}
            for label, value in REFERENCES
        ],
    }
