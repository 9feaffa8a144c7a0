"""What a value may be, and the one check that says whether it is.

A :class:`Spec` describes one setting (a model parameter, a firm's key, a run setting):
its type, default, allowed range or choices, unit and meaning. :func:`check_value` is
the project's one validator: every "is this a valid value for this key" answer comes
from it, as the value converted to the spec's type or a :class:`ParameterError` naming
the key, the value and what is allowed. A :class:`Range` is a numeric interval on a
key (a sweep factor's range, a calibration prior, a classroom slider), checked against
the key's spec by the same function.

The tables of specs are in :mod:`sim.parameters`; dotted scenario keys are resolved to
their spec by :mod:`sim.keys`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .errors import InputError

__all__ = ["ParameterError", "Range", "Spec", "check_type", "check_value", "integer"]


class ParameterError(InputError):
    """A parameter has a value outside what the model allows."""


#: How messages name a type.
TYPE_NAMES: dict[type, str] = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What one setting may be.

    ``choices`` is a tuple, or a function returning one when the allowed values can grow
    at run time (the registered strategies); ``label`` is its short name on a page;
    ``interactive`` the range (with a step) a slider offers.
    """

    section: str
    kind: type
    default: Any
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    label: str = ""
    interactive: Range | None = None

    @property
    def options(self) -> tuple[str, ...] | None:
        """The allowed choices now (None: not a choice)."""
        return self.choices() if callable(self.choices) else self.choices

    @property
    def numeric(self) -> bool:
        """Whether the setting is a number (an integer or a float)."""
        return self.kind in (int, float)

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.options is not None:
            return "one of " + ", ".join(repr(c) for c in self.options)
        if not self.numeric:
            return TYPE_NAMES[self.kind]
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self._num(self.low)}"
        hi = "" if self.high is None else f"<= {self._num(self.high)}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        return f"{TYPE_NAMES[self.kind]} {bounds}".strip()

    def _num(self, x: float) -> str:
        return f"{int(x):_}" if self.kind is int else f"{x:g}"

    def within(self, bounds: Range) -> Spec:
        """This spec narrowed to ``bounds`` (a slider's or a prior's range)."""
        return replace(self, low=bounds.low, high=bounds.high, low_open=False)


def check_value(key: str, value: Any, spec: Spec, error: type[InputError] = ParameterError) -> Any:
    """Return ``value`` converted to the spec's type, or raise ``error`` naming ``key``."""

    def fail() -> InputError:
        return error(key, value, spec.allowed())

    if spec.kind is bool:
        if not isinstance(value, bool | int) or (isinstance(value, int) and value not in (0, 1)):
            raise fail()
        return bool(value)
    if spec.kind is str:
        if not isinstance(value, str):
            raise fail()
        if spec.options is not None and value not in spec.options:
            raise fail()
        return value
    if not spec.numeric:
        if not isinstance(value, spec.kind):
            raise fail()
        return value
    # numbers: bool is an int in Python but never a valid number here
    if isinstance(value, bool):
        raise fail()
    if spec.kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise fail()
    else:
        if not isinstance(value, int | float):
            raise fail()
        value = float(value)
        if not math.isfinite(value):
            raise fail()
    if spec.low is not None and (value < spec.low or (spec.low_open and value == spec.low)):
        raise fail()
    if spec.high is not None and value > spec.high:
        raise fail()
    return value


def integer(
    key: str,
    value: Any,
    low: int | None = None,
    high: int | None = None,
    error: type[InputError] = ParameterError,
) -> int:
    """``value`` if it is an integer (never a bool) in [low, high], else ``error``."""
    spec = Spec(section="", kind=int, default=None, help="", low=low, high=high)
    return check_value(key, value, spec, error)


def check_type(
    key: str, value: Any, kinds: type | tuple[type, ...], error: type[InputError] = ParameterError
) -> Any:
    """``value`` if it is of one of ``kinds`` (an integer passes as a number, a bool never
    as a number), else ``error``: for the structure of a file (a table, a list, a name)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    expected = " or ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds)
    if isinstance(value, bool) and bool not in kinds:
        raise error(key, value, expected)
    if float in kinds and isinstance(value, int):
        return float(value)
    if not isinstance(value, kinds):
        raise error(key, value, expected)
    return value


@dataclass(frozen=True)
class Range:
    """A numeric interval on a key: ``low`` to ``high``, whole numbers or not, and for a
    slider the ``step`` between its positions."""

    low: float
    high: float
    integer: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got {self.low} and {self.high}")

    @property
    def width(self) -> float:
        """high - low."""
        return self.high - self.low

    def cast(self, x: float) -> float | int:
        """``x`` as the key takes it (rounded for an integer key)."""
        return round(float(x)) if self.integer else float(x)

    def ends(self) -> tuple[float | int, float | int]:
        """The two ends, as the key takes them."""
        return self.cast(self.low), self.cast(self.high)

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the closed interval."""
        return self.low <= x <= self.high

    def check_on(self, key: str, spec: Spec, error: type[InputError] = ParameterError) -> None:
        """Both ends must be allowed values of ``key`` (every allowed set is an interval,
        so every value between them is then allowed too)."""
        if not spec.numeric:
            raise error(key, reason=f"expected a numeric key; {key} is {spec.allowed()}")
        for end in self.ends():
            check_value(key, end, spec, error)
