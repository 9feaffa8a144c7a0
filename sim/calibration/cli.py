"""``python run.py data [FILE] [--series NAME] [--bass]``: what a data file holds, as read.

Without FILE: the series shipped in ``data/adoption/``. With FILE: a user's CSV, checked
as calibration will read it (columns found, unit detected), so mistakes show up before a
long run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .bass import fit_bass_offset
from .data import SHIPPED_DATA, AdoptionData, AdoptionSeries, load_adoption

__all__ = ["data_command", "describe"]


def data_command(args: argparse.Namespace) -> int:
    """Print what the file holds; an InputError reaches run.py's one-line handler."""
    path = Path(args.file) if args.file else SHIPPED_DATA
    data = load_adoption(
        path,
        series=args.series,
        time_column=args.time_column,
        adoption_column=args.adoption_column,
        series_column=args.series_column,
        unit=args.unit,
    )
    label = "shipped data" if args.file is None else "file"
    print(describe(data, label=label, bass=args.bass, points=args.series is not None))
    return 0


def describe(
    data: AdoptionData, *, label: str = "file", bass: bool = False, points: bool = False
) -> str:
    """A table of the series: name, first-last time, points, first and last share, source."""
    head = (
        f"{label}: {_shown(data.path)}\n"
        f"{len(data.series)} series; time column {data.time_column!r}; "
        f"sha256 {data.sha256[:16]}\n{data.unit_note}"
    )
    width = max(len("series"), *(len(name) for name in data.series))
    columns = f"{'series':<{width}}  {'years':>11}  {'points':>6}  {'first':>6}  {'last':>6}"
    if bass:
        columns += f"  {'bass p':>7}  {'q':>6}  {'m':>5}  {'launch':>7}  {'rmse':>6}"
    rows = [columns + "  source"]
    for series in data.series.values():
        row = (
            f"{series.name:<{width}}  {_span(series):>11}  {len(series):>6}  "
            f"{series.shares[0]:>6.3f}  {series.shares[-1]:>6.3f}"
        )
        if bass:
            row += _bass_cells(series)
        rows.append(f"{row}  {series.source}")
    text = f"{head}\n\n" + "\n".join(rows)
    if points:
        for series in data.series.values():
            pairs = [
                f"{_time(t)}: {s:.4g}" for t, s in zip(series.times, series.shares, strict=True)
            ]
            text += f"\n\n{series.name} (time: share adopted)\n" + "\n".join(pairs)
    if bass:
        text += (
            "\n\nBass: share(t) = m F(t - launch; p, q), least squares "
            "(sim.calibration.fit_bass_offset); * marks a parameter at its bound;\n"
            "with p at its lower bound the series looks logistic and its launch is not "
            "identified (-)"
        )
    return text


def _bass_cells(series: AdoptionSeries) -> str:
    fit = fit_bass_offset(series.times, series.shares)
    mark = {name: "*" if name in fit.at_bounds else " " for name in ("p", "q", "m")}
    launch = "-" if "p" in fit.at_bounds else f"{fit.launch:.1f}"
    return (
        f"  {fit.p:>6.4f}{mark['p']}  {fit.q:>5.3f}{mark['q']}  {fit.m:>4.2f}{mark['m']}"
        f"  {launch:>7}  {fit.rmse:>6.4f}"
    )


def _span(series: AdoptionSeries) -> str:
    return f"{_time(series.times[0])}-{_time(series.times[-1])}"


def _time(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
