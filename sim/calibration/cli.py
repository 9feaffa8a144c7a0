"""``python run.py data [FILE] [--series NAME] [--bass]``: what a data file holds, as read.

Without FILE: the series shipped in ``data/adoption/``. With FILE: a user's CSV, checked
as calibration will read it (columns found, unit detected), so mistakes show up before a
long run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..paths import DOCS, RESULTS
from .bass import fit_bass_offset
from .data import SHIPPED_DATA, AdoptionData, AdoptionSeries, load_adoption

__all__ = ["data_command", "describe"]


def data_command(args: argparse.Namespace) -> int:
    """Print what the file holds; an InputError reaches run.py's one-line handler."""
    data = _load(args, Path(args.file) if args.file else SHIPPED_DATA)
    label = "shipped data" if args.file is None else "file"
    print(describe(data, label=label, bass=args.bass, points=args.series is not None))
    return 0


def _load(args: argparse.Namespace, path: Path) -> AdoptionData:
    """The file read with the command's --series, column and --unit flags."""
    return load_adoption(
        path,
        series=args.series,
        time_column=args.time_column,
        adoption_column=args.adoption_column,
        series_column=args.series_column,
        unit=args.unit,
    )


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


# ------------------------------------------------------------------- calibrate
def calibrate_command(args: argparse.Namespace) -> int:
    """``run.py calibrate``: check every input, run (or resume), write the outputs, print
    where they are."""
    from .priors import DEFAULT_FIT, parse_fit

    if not _has_pyabc():
        return _missing_pyabc()
    from ..scenario import load_scenario
    from .abc import AbcSettings
    from .api import calibrate_problem, check_out
    from .problem import DEFAULT_SCENARIO, prepare, safe_name

    data = _load(args, Path(args.data))
    print(data.unit_note)
    _check_counts(args)
    fit = parse_fit(args.fit) if args.fit else dict(DEFAULT_FIT)
    scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
    settings = AbcSettings(
        budget=args.budget, population=args.population, max_generations=args.generations
    )
    settings.check()
    problem = prepare(
        data,
        scenario,
        fit,
        series=args.series,
        holdout=args.holdout,
        seed=args.seed,
        noise=args.noise,
        lead=args.lead,
    )
    out = Path(args.out) if args.out else RESULTS / "calibration" / safe_name(problem.series.name)
    made = not out.exists()
    check_out(out)
    workers = 1 if args.scheduler else _local_workers(problem, args.workers)
    where = f"Dask at {args.scheduler}" if args.scheduler else f"{workers} worker(s)"
    print(problem.noise_note)
    print(
        f"calibrating {problem.series.name} ({problem.n_fit} points fitted"
        + (f", {problem.holdout} held out" if problem.holdout else "")
        + f") with scenario {_shown(Path(scenario.source))}: "
        f"{', '.join(k.key for k in problem.keys)}; "
        f"budget {settings.budget} simulations, population {settings.population}, {where}"
    )
    calibration = calibrate_problem(
        problem,
        settings,
        workers=workers,
        scheduler=args.scheduler,
        out=out,
        made=made,
        progress=not args.quiet,
        on_generation=None if args.quiet else _print_generation,
        command=_command(args),
    )
    if calibration.resumed_from and not calibration.simulations_run:
        print(
            f"{out / 'history.db'} holds this calibration, finished "
            f"({calibration.resumed_from} generations): outputs written again, nothing simulated"
        )
    elif calibration.resumed_from:
        print(f"resumed after generation {calibration.resumed_from - 1} of {out / 'history.db'}")
    print(_posterior_lines(calibration))
    print(f"\nresults in {out}/ (report.md, posterior.csv, summary.csv, fit.png, pairs.png ...)")
    return 0


def _local_workers(problem: object, workers: int | None) -> int:
    """Worker processes that fit in the free memory beside each other, for the largest
    market the fitted keys may ask for (see :func:`sim.memory.plan_workers`)."""
    import sys

    from ..memory import plan_workers
    from .problem import Problem

    assert isinstance(problem, Problem)
    params = dict(problem.scenario.params)
    for key in problem.keys:  # a fitted size is as large as its prior allows
        name = key.key.split(".")[-1]
        if name in ("n_customers", "mean_degree", "n_dims"):
            params[name] = int(key.high)
    steps = problem.simulator().steps
    chosen, note = plan_workers(
        params, problem.scenario.firms, steps, workers, source=problem.scenario.source
    )
    if note:
        print(note, file=sys.stderr)
    return chosen


def _command(args: argparse.Namespace) -> str:
    """The command as typed (run.py's main passes its arguments on)."""
    import shlex
    import sys

    argv = getattr(args, "argv", None) or sys.argv[1:]
    return " ".join(shlex.quote(a) for a in ["python", "run.py", *argv])


def _shown(path: Path) -> str:
    """``path`` as a document names it: relative to the current directory when inside
    it (``results/backtest``), else as it is."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _has_pyabc() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyabc") is not None


def _missing_pyabc() -> int:
    import sys

    print(
        "error: calibration needs pyabc, which is not installed: "
        "pip install -e '.[calibrate]' (or '.[test]')",
        file=sys.stderr,
    )
    return 2


def _check_counts(args: argparse.Namespace) -> None:
    """Flags that must be positive integers, as one-line errors."""
    from ..errors import InputError

    if args.workers is not None and args.scheduler:
        raise InputError(
            "--workers", args.workers, reason="expected either --workers or --scheduler"
        )
    for flag, value, low in (
        ("--workers", args.workers, 1),
        ("--budget", args.budget, 1),
        ("--population", args.population, 1),
        ("--generations", args.generations, 1),
        ("--seed", args.seed, 0),
    ):
        if value is not None and value < low:
            raise InputError(flag, value, f"an integer >= {low}")


def _print_generation(report: object) -> None:
    from .sampler import GenerationReport

    assert isinstance(report, GenerationReport)
    import sys

    what = "prior sample" if report.t < 0 else f"generation {report.t}"
    eps = "" if report.t < 0 else f" threshold {report.epsilon:.4g},"
    done = "" if report.complete else " (cut off by the budget; dropped)"
    print(
        f"{what}:{eps} accepted {report.accepted} of {report.evaluations} "
        f"(rate {report.acceptance_rate:.2f}) in {report.seconds:.1f} s; "
        f"{report.total} simulations so far{done}",
        file=sys.stderr,
    )


def _posterior_lines(calibration: object) -> str:
    from .result import Calibration

    assert isinstance(calibration, Calibration)
    table = calibration.summary.merge(
        calibration.identification[["key", "ratio", "verdict", "bound", "hard_limit", "ridge"]],
        on="key",
    )
    width = max(len("key"), *(len(k) for k in table["key"]))
    lines = [
        f"\n{'key':<{width}}  {'mean':>8}  {'q05':>8}  {'q50':>8}  {'q95':>8}  "
        f"{'width/prior':>11}  verdict"
    ]
    for row in table.itertuples():
        why = ""
        if row.bound:
            why = f" ({row.bound} bound" + (", its hard limit)" if row.hard_limit else ")")
        elif row.ridge:
            why = f" (with {row.ridge})"
        lines.append(
            f"{row.key:<{width}}  {row.mean:>8.4g}  {row.q05:>8.4g}  {row.q50:>8.4g}  "
            f"{row.q95:>8.4g}  {row.ratio:>11.2f}  {row.verdict}{why}"
        )
    launch = calibration.launch_quantiles()
    lines.append(f"launch: {launch[1]:.1f} [{launch[0]:.1f}, {launch[2]:.1f}]")
    lines.append(
        f"{len(calibration.posterior)} particles, worth {calibration.ess:.0f} equally "
        "weighted ones (effective sample size)"
    )
    shares = calibration.coverage()
    lines.append(
        f"\nfit RMSE (predictive median): {calibration.rmse():.4f}; Bass: "
        f"{calibration.bass.rmse:.4f}; fitted points in the 90 % band: "
        f"{shares['coverage90_in']:.0%}; {calibration.spent} simulations in "
        f"{len(calibration.generations)} generations, the prior sample included"
    )
    if calibration.problem.holdout:
        for row in calibration.holdout_table().itertuples():
            lines.append(
                f"held out ({calibration.problem.holdout} points): {row.model} RMSE "
                f"{row.rmse_out:.4f}, CRPS {row.crps_out:.4f}, in the 90 % band "
                f"{row.coverage90_out:.0%}"
            )
    return "\n".join(lines)


# -------------------------------------------------------------------- backtest
VALIDATION_DOC = DOCS / "validation.md"


def _machine(workers: int) -> str:
    import os
    import platform

    return (
        f"{workers} worker process(es) on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()})"
    )


def backtest_command(args: argparse.Namespace) -> int:
    """``run.py backtest [DATA]``: every series from rolling origins, the model against
    Bass, logistic and Gompertz; the leaderboard to docs/validation.md."""
    import os

    if not _has_pyabc():
        return _missing_pyabc()
    from ..files import writable_directory
    from .abc import AbcSettings
    from .validation import backtest, timed, validation_markdown, write_section

    args.population, args.generations = 200, 30
    _check_counts(args)
    AbcSettings(budget=args.budget).check()
    data = load_adoption(Path(args.data) if args.data else SHIPPED_DATA)
    for name in args.series or []:
        data.get(name)
    workers = args.workers or (1 if args.scheduler else os.cpu_count() or 1)
    doc = Path(args.doc) if args.doc else VALIDATION_DOC
    writable_directory(doc.parent, "--doc")  # written last, after every series: check first
    out = writable_directory(args.out if args.out else RESULTS / "backtest")

    def show(rows: list[dict]) -> None:
        scores = ", ".join(f"{r['method']} {r['crps_out']:.4f}" for r in rows)
        model = rows[0]
        print(
            f"{model['series']} fitted {model['fitted']}: CRPS {scores}; model's 90 % band "
            f"holds {model['coverage90_out']:.0%} ({model['seconds']:.0f} s)",
            flush=True,
        )

    table, seconds = timed(
        lambda: backtest(
            data,
            args.series,
            budget=args.budget,
            seed=args.seed,
            workers=workers,
            scheduler=args.scheduler,
            out=out,
            progress=not args.quiet,
            on_case=show,
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    from ..files import write_atomic

    write_atomic(out / "backtest.csv", table.to_csv(index=False, float_format="%.6g").encode())
    sampling = float(table.loc[table["method"] == "model", "seconds"].sum())
    text = validation_markdown(
        table,
        command=_command(args),
        seconds=sampling,
        machine=_machine(workers),
        budget=args.budget,
        seed=args.seed,
        out=_shown(out),
    )
    write_section(doc, "backtest", text)
    print(
        f"\n{table['series'].nunique()} series, {len(table) // 4} cases in {seconds / 60:.1f} "
        f"min; table in {out / 'backtest.csv'}, leaderboard in {doc}"
    )
    return 0


# ------------------------------------------------------------- calibrate-check
def check_command(args: argparse.Namespace) -> int:
    """``run.py calibrate-check``: simulation-based calibration of the calibration."""
    import os
    import time

    from .priors import parse_fit

    if not _has_pyabc():
        return _missing_pyabc()
    from ..files import writable_directory
    from ..scenario import load_scenario
    from .abc import AbcSettings
    from .api import check_out
    from .priors import check_fit
    from .problem import DEFAULT_SCENARIO
    from .sbc import (
        CheckSettings,
        calibration_check,
        check_fit_keys,
        check_markdown,
        passes,
        write_check,
    )
    from .validation import write_section

    args.population = args.population or CheckSettings.population
    args.generations = 30
    _check_counts(args)
    settings = CheckSettings(
        datasets=args.datasets, budget=args.budget, population=args.population, seed=args.seed
    )
    settings.check()
    AbcSettings(budget=args.budget, population=args.population).check()
    scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
    fit = parse_fit(args.fit) if args.fit else None
    check_fit(scenario, check_fit_keys(fit, args.noise))  # one line before anything is made
    doc = Path(args.doc) if args.doc else VALIDATION_DOC
    writable_directory(doc.parent, "--doc")  # written last, after every dataset: check first
    out = check_out(Path(args.out) if args.out else RESULTS / "calibrate-check")
    workers = args.workers or (1 if args.scheduler else os.cpu_count() or 1)
    began = time.perf_counter()

    def show(record: dict) -> None:
        held = record["coverage90_out"]
        print(
            f"dataset {record['dataset']}: temperature {record['temperature']:.3g}, ESS "
            f"{record['ess']:.0f}, held-out points in the 90 % band {held:.0%} "
            f"({record['seconds']:.0f} s)",
            flush=True,
        )

    ranks, coverage, records = calibration_check(
        scenario,
        fit,
        noise=args.noise,
        settings=settings,
        workers=workers,
        scheduler=args.scheduler,
        out=out,
        on_dataset=None if args.quiet else show,
    )
    text = check_markdown(
        coverage,
        records,
        command=_command(args),
        settings=settings,
        machine=_machine(workers),
        seconds=sum(r["seconds"] for r in records),
        out=_shown(out),
    )
    write_check(out, ranks, coverage, text)
    write_section(doc, "calibrate-check", text)
    ok = passes(coverage)
    print(coverage.to_string(index=False))
    print(
        f"\n{len(records)} datasets in {(time.perf_counter() - began) / 60:.1f} min; "
        f"{int(ok.sum())} of {len(ok)} quantities within the 80-97 % band; results in {out}/"
    )
    return 0
