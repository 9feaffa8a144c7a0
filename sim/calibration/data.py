"""Observed adoption series from a CSV file: read, checked, unit detected and said.

A file has a time column, an adoption column (shares in [0, 1] or percent) and, when
it holds several series, a series column; other columns are ignored, except an
optional ``source``. Every problem raises :class:`~sim.errors.InputError` with the
file as its source and one line naming the column or flag, the value and what is
allowed. Flags are named as on the command line (``--series``, ``--time-column``,
``--adoption-column``, ``--series-column``, ``--unit``); in Python they are the keyword
arguments of :func:`load_adoption` (``series``, ``time_column`` ...).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..paths import DATA

__all__ = [
    "MIN_POINTS",
    "SHIPPED_DATA",
    "AdoptionData",
    "AdoptionSeries",
    "load_adoption",
    "shipped_series",
]

SHIPPED_DATA = DATA / "adoption" / "us_household_technologies.csv"
MIN_POINTS = 5  # a Bass fit has four parameters (p, q, m and the time offset)

TIME_NAMES = ("year", "time", "period", "date", "t", "step")
ADOPTION_NAMES = (
    "share_adopted",
    "adoption_share",
    "share",
    "adoption",
    "adopted",
    "adopters",
    "penetration",
    "percent",
    "pct",
    "value",
)
ADOPTION_HINTS = ("share", "adopt", "diffusion", "penetration", "percent")
SERIES_NAMES = ("series", "entity", "technology", "product", "name")
SOURCE_NAME = "source"
TIME_VALUE = "a number (a year or a period index; dates are not read)"
COLUMN_FLAGS = {
    "time": "--time-column",
    "adoption": "--adoption-column",
    "series": "--series-column",
}
EXPECTED_FILE = "expected a CSV file with a time column and an adoption column"
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})
# in a percent column, a value <= 1 after the series has passed this looks like a share
PERCENT_MIX_LEVEL = 10.0
# ... and a value > 1, ten times a share of at least this just before it, a percent
SHARE_JUMP_FROM = 0.05
#: A largest value in (1, NEAR_ONE] is a share that rounds above 1, not a percent column.
NEAR_ONE = 1.05

Unit = Literal["share", "percent"]


@dataclass(frozen=True)
class AdoptionSeries:
    """One observed series: times strictly increasing, shares in [0, 1] (read-only arrays)."""

    name: str
    times: np.ndarray
    shares: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return int(self.times.size)


@dataclass(frozen=True)
class AdoptionData:
    """The series of one file, the columns they came from, the unit read and the file's hash."""

    path: Path
    sha256: str
    series: dict[str, AdoptionSeries]
    time_column: str
    adoption_column: str
    series_column: str | None
    unit: Unit
    unit_note: str

    @property
    def names(self) -> list[str]:
        """Series names in the order of the file."""
        return list(self.series)

    def get(self, name: str | None = None) -> AdoptionSeries:
        """The series ``name``, or the only one; an InputError if that is not one series."""
        if name is not None:
            if name not in self.series:
                raise InputError("--series", name, f"one of {_listing(self.names)}").at(
                    str(self.path)
                )
            return self.series[name]
        if len(self.series) == 1:
            return next(iter(self.series.values()))
        raise InputError(
            "--series",
            reason=f"the file holds {len(self.series)} series: expected one chosen "
            f"with --series, one of {_listing(self.names)}",
            source=str(self.path),
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: series, time, share_adopted, source; one row per observation."""
        parts = [
            pd.DataFrame(
                {
                    "series": s.name,
                    "time": s.times,
                    "share_adopted": s.shares,
                    "source": s.source,
                }
            )
            for s in self.series.values()
        ]
        return pd.concat(parts, ignore_index=True)


def shipped_series() -> AdoptionData:
    """The observed series shipped with the repository (``data/adoption/``)."""
    return load_adoption(SHIPPED_DATA)


def load_adoption(
    path: str | Path,
    *,
    series: str | None = None,
    time_column: str | None = None,
    adoption_column: str | None = None,
    series_column: str | None = None,
    unit: Unit | None = None,
) -> AdoptionData:
    """Read adoption series from a CSV file and check them.

    Columns are found by name unless given: time (year, time, period, date, t, step),
    adoption (share_adopted, share, adoption, value ...; else the one column whose name
    contains share, adopt, diffusion, penetration or percent), series (series, entity,
    technology, product, name; without one the file is one series named after it) and
    an optional source; ``time_column``, ``adoption_column`` and ``series_column`` name
    them instead. The unit is detected over the whole column unless ``unit`` says
    it: largest value <= 1 means shares, > 1 and <= 100 percent (divided by 100).
    Value checks cover every row; order and length checks (times strictly increasing,
    at least MIN_POINTS points) cover the chosen ``series``, or every series.
    """
    columns = {"time": time_column, "adoption": adoption_column, "series": series_column}
    try:
        content = _read_bytes(Path(path))
        header, rows = _read_rows(content)
        data = _parse(Path(path), header, rows, series, columns, unit)
    except InputError as err:
        raise err.at(str(path)) from None
    return replace(data, sha256=hashlib.sha256(content).hexdigest())


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(reason=f"no such file: {EXPECTED_FILE}")
    if path.is_dir():
        raise InputError(reason=f"is a directory: {EXPECTED_FILE}")
    try:
        return path.read_bytes()
    except OSError as err:
        raise InputError(reason=f"cannot be read ({err.strerror}): {EXPECTED_FILE}") from None


def _read_rows(content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of every non-blank row."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(reason=f"not a text file (not UTF-8): {EXPECTED_FILE}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = [(reader.line_num, row) for row in reader if any(f.strip() for f in row)]
    except csv.Error as err:
        raise InputError(reason=f"not valid CSV (line {reader.line_num}: {err})") from None
    if not lines:
        raise InputError(reason=f"empty file: {EXPECTED_FILE}")
    (_, header), rows = lines[0], lines[1:]
    header = [name.strip() for name in header]
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(
                f"line {line}",
                reason=f"has {len(row)} fields, the header has {len(header)}: "
                "expected a CSV file with the same number of fields on every line",
            )
    if not rows:
        raise InputError(reason=f"no data rows below the header: expected at least {MIN_POINTS}")
    return header, rows


def _parse(
    path: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    series: str | None,
    columns: dict[str, str | None],
    unit: Unit | None,
) -> AdoptionData:
    """The checked series of the file's rows (its hash is added by the caller)."""
    if unit is not None and unit not in ("share", "percent"):
        raise InputError("--unit", unit, "'share' or 'percent'")
    given = {name: _given(header, flag, columns[name]) for name, flag in COLUMN_FLAGS.items()}
    taken = {i for i in given.values() if i is not None}
    t_col = given["time"] if given["time"] is not None else _column(header, "time", taken)
    taken.add(t_col)
    s_col = given["series"] if given["series"] is not None else _find(header, SERIES_NAMES, taken)
    if s_col is not None:
        taken.add(s_col)
    src_col = _find(header, (SOURCE_NAME,), taken)
    if src_col is not None:
        taken.add(src_col)
    a_col = (
        given["adoption"] if given["adoption"] is not None else _column(header, "adoption", taken)
    )

    times = np.array([_number(header[t_col], line, row[t_col], TIME_VALUE) for line, row in rows])
    values = np.array([_number(header[a_col], line, row[a_col]) for line, row in rows])
    lines = np.array([line for line, _ in rows])
    names = [_series_name(header, s_col, line, row, path) for line, row in rows]
    order = list(dict.fromkeys(names))
    if series is not None and series not in order:
        raise InputError("--series", series, f"one of {_listing(order)}")
    chosen = order if series is None else [series]
    by_name = np.array(names, dtype=object)
    for name in chosen:  # falling times first: the unit is judged in time order
        mask = by_name == name
        _check_not_falling(name, times[mask], lines[mask], header[t_col])
    unit, note = _unit(header[a_col], values, lines, names, times, unit)
    shares = values / 100.0 if unit == "percent" else values

    found: dict[str, AdoptionSeries] = {}
    for name in chosen:
        mask = by_name == name
        sources = [rows[i][1][src_col] for i in np.flatnonzero(mask)] if src_col is not None else []
        found[name] = _series(
            name, times[mask], shares[mask], lines[mask], header[t_col], sources, s_col is None
        )
    return AdoptionData(
        path=path,
        sha256="",
        series=found,
        time_column=header[t_col],
        adoption_column=header[a_col],
        series_column=header[s_col] if s_col is not None else None,
        unit=unit,
        unit_note=note,
    )


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _find(header: list[str], names: tuple[str, ...], taken: set[int]) -> int | None:
    """Index of the first column, in the order of ``names``, whose name is one of them."""
    normal = {_normal(h): i for i, h in reversed(list(enumerate(header))) if i not in taken}
    return next((normal[n] for n in names if n in normal), None)


def _given(header: list[str], flag: str, name: str | None) -> int | None:
    """The index of the column named by ``flag``, if one was named."""
    if name is None:
        return None
    matches = [i for i, h in enumerate(header) if _normal(h) == _normal(name)]
    if not matches:
        raise InputError(flag, name, f"one of the file's columns {_listing(header)}")
    return matches[0]


def _column(header: list[str], kind: str, taken: set[int]) -> int:
    """The time or adoption column found by its name."""
    names, flag = (
        (TIME_NAMES, "--time-column") if kind == "time" else (ADOPTION_NAMES, "--adoption-column")
    )
    found = _find(header, names, taken)
    if found is not None:
        return found
    if kind == "adoption":
        hinted = [
            i
            for i, h in enumerate(header)
            if i not in taken and any(hint in _normal(h) for hint in ADOPTION_HINTS)
        ]
        if len(hinted) == 1:
            return hinted[0]
        if hinted:
            raise InputError(
                f"{kind} column",
                reason=f"several columns could be it ({_listing([header[i] for i in hinted])}): "
                f"expected one chosen with {flag}",
            )
    raise InputError(
        f"{kind} column",
        reason=f"none of the columns {_listing(header)} is named like one: expected one named "
        f"{', '.join(names)}, or chosen with {flag}",
    )


def _number(column: str, line: int, text: str, kind: str = "a number") -> float:
    """A finite number from one cell, or an InputError naming the line and column."""
    cell = text.strip()
    if cell.lower() in MISSING:
        raise InputError(f"{column} (line {line})", cell, f"{kind}; leave a gap out as a row")
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{column} (line {line})", cell, kind) from None
    if not math.isfinite(value):
        raise InputError(f"{column} (line {line})", cell, f"{kind}, finite")
    return value


def _series_name(
    header: list[str], s_col: int | None, line: int, row: list[str], path: Path
) -> str:
    if s_col is None:
        return path.stem
    name = row[s_col].strip()
    if not name:
        raise InputError(f"{header[s_col]} (line {line})", name, "a series name")
    return name


def _unit(
    column: str,
    values: np.ndarray,
    lines: np.ndarray,
    names: list[str],
    times: np.ndarray,
    unit: Unit | None,
) -> tuple[Unit, str]:
    """The column's unit (given or detected) and the one-line note that says it.

    Shares are never rescaled silently: a largest value just above 1 (at most
    NEAR_ONE) is an error naming its row, not a percent column that peaks at 1 %.
    """
    where = _Where(column, lines, names)
    negative = np.flatnonzero(values < 0)
    if negative.size:
        i = negative[0]
        raise InputError(where(i), _plain(values[i]), "a share >= 0 (or a percent >= 0)")
    top = float(values.max())
    ceiling = {"share": 1.0, "percent": 100.0}.get(unit or "", 100.0)
    above = np.flatnonzero(values > ceiling)
    if above.size:
        i = above[0]
        allowed = (
            f"a {unit} <= {_plain(ceiling)} (--unit {unit})"
            if unit
            else "a share in [0, 1] or a percent in [0, 100]"
        )
        raise InputError(where(i), _plain(values[i]), allowed)
    largest = f"largest value {_plain(top)}"
    if unit == "share":
        return "share", f"{column}: shares in [0, 1] (--unit share); {largest}"
    if unit == "percent":
        return "percent", f"{column}: percent (--unit percent), divided by 100; {largest}"
    if top <= 1.0:
        return "share", f"{column}: {largest} <= 1, read as shares in [0, 1]"
    if top <= NEAR_ONE:
        i = int(np.flatnonzero(values > 1.0)[0])
        raise InputError(
            where(i),
            _plain(values[i]),
            f"a share <= 1: the column's largest value is {_plain(top)}, just above 1, so "
            "it is not read as percent (the series would then peak at about 1 %) nor "
            "capped silently; correct the value, or choose --unit percent",
        )
    _check_not_mixed(where, values, names, times, top)
    return "percent", f"{column}: {largest} > 1, read as percent and divided by 100"


@dataclass(frozen=True)
class _Where:
    """Names a row in errors: the column, the file's line and, if several, the series."""

    column: str
    lines: np.ndarray
    names: list[str]

    def __call__(self, i: int) -> str:
        several = len(set(self.names)) > 1
        series = f", series {self.names[i]!r}" if several else ""
        return f"{self.column} (line {self.lines[i]}{series})"


def _check_not_mixed(
    where: _Where, values: np.ndarray, names: list[str], times: np.ndarray, top: float
) -> None:
    """In a column read as percent, shares mixed in: within a series (in time order) a
    value <= 1 after it passed PERCENT_MIX_LEVEL, or a jump from a share to a percent;
    then a whole series <= 1 while another reaches more."""
    by_name = np.array(names, dtype=object)
    all_small = []
    for name in dict.fromkeys(names):
        rows = np.flatnonzero(by_name == name)
        rows = rows[np.argsort(times[rows], kind="stable")]  # falling times: judged in order
        part = values[rows]
        if part.max() <= 1.0:
            all_small.append(name)
            continue
        reached = np.maximum.accumulate(part)
        before = np.concatenate([[0.0], reached[:-1]])
        odd = (
            ("a percent", "", (part <= 1.0) & (before > PERCENT_MIX_LEVEL)),
            (
                "a share",
                ", then jumps to this",
                (part > 1.0) & (before >= SHARE_JUMP_FROM) & (before <= 1.0) & (part > 10 * before),
            ),
        )
        for kind, then, mask in odd:
            found = np.flatnonzero(mask)
            if found.size:
                i = rows[found[0]]
                raise InputError(
                    where(i),
                    _plain(values[i]),
                    f"{kind} like the rest of series {name!r} (it had reached "
                    f"{_plain(before[found[0]])}{then}): shares and percent mixed? or "
                    "choose --unit percent",
                )
    if all_small:
        big = [n for n in dict.fromkeys(names) if n not in all_small]
        highest = max(big, key=lambda n: values[by_name == n].max())
        raise InputError(
            f"{where.column} (series {all_small[0]!r})",
            reason=f"every value is <= 1 while series {highest!r} reaches {_plain(top)}: "
            "expected one unit for the whole column (shares in [0, 1] or percent), "
            "or the unit chosen with --unit",
        )


def _series(
    name: str,
    times: np.ndarray,
    shares: np.ndarray,
    lines: np.ndarray,
    time_column: str,
    sources: list[str],
    whole_file: bool,
) -> AdoptionSeries:
    """One series, checked: times strictly increasing and at least MIN_POINTS points.

    ``whole_file``: the file has no series column, so repeated times may mean several
    series in one file; the error then says how to name the column.
    """
    _check_not_falling(name, times, lines, time_column)
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = bad[0] + 1
        hint = "; several series in one file need a series column (--series-column)"
        raise InputError(
            f"{time_column} (line {lines[i]})",
            _plain(times[i]),
            f"a time after {_plain(times[i - 1])} (line {lines[i - 1]}): times strictly "
            f"increasing within series {name!r}{hint if whole_file else ''}",
        )
    if times.size < MIN_POINTS:
        raise InputError("series", name, f"at least {MIN_POINTS} points, found {times.size}")
    times = times.astype(float)
    shares = shares.astype(float)
    times.setflags(write=False)
    shares.setflags(write=False)
    return AdoptionSeries(name, times, shares, "; ".join(dict.fromkeys(s.strip() for s in sources)))


def _check_not_falling(name: str, times: np.ndarray, lines: np.ndarray, column: str) -> None:
    """A series whose times fall all the way (sorted newest first) is named as such."""
    steps = np.diff(times)
    if steps.size and np.all(steps < 0):
        raise InputError(
            f"{column} (lines {lines[0]}-{lines[-1]})",
            f"{_plain(times[0])}, {_plain(times[1])} ... {_plain(times[-1])}",
            f"times increasing within series {name!r}; these fall (the rows are sorted "
            "newest first?): sort the rows by time",
        )


def _plain(value: float) -> float | int:
    """1990.0 -> 1990 in messages."""
    return int(value) if float(value).is_integer() else float(value)


def _listing(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "(none)"
