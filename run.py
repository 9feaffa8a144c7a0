#!/usr/bin/env python3
"""Command line of the innovation-adoption simulator.

python run.py [--out DIR]           the main job (see README)
python run.py run SCENARIO [...]    seeded replicates of one scenario
python run.py validate FILE         check a scenario or experiment file
python run.py sweep EXPERIMENT      a parameter sweep
python run.py app                   the classroom's lesson page
python run.py class                 a class session: students answer on their phones
python run.py lesson NAME           a lesson's figures as PNGs
python run.py data [FILE]           observed adoption series: shipped, or a user's CSV
python run.py calibrate DATA [...]  fit the model to an observed adoption curve (ABC-SMC)
python run.py backtest [DATA]       forecasts from rolling origins against Bass, logistic, Gompertz
python run.py calibrate-check       simulation-based calibration of the calibration
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_run(args: argparse.Namespace) -> int:
    from sim.files import writable_directory
    from sim.keys import parse_assignment
    from sim.limits import run_setting
    from sim.memory import check_memory
    from sim.paths import RESULTS
    from sim.runner import run_scenario, write_results
    from sim.scenario import load_scenario

    overrides = dict(parse_assignment(text) for text in args.set or [])
    scenario = load_scenario(args.scenario, overrides)
    settings = {
        key: run_setting(key, value, f"--{key}") if value is not None else scenario.run[key]
        for key, value in (
            ("steps", args.steps),
            ("replicates", args.replicates),
            ("seed", args.seed),
        )
    }
    check_memory(scenario.params, scenario.firms, settings["steps"], source=args.scenario)
    out = writable_directory(args.out if args.out else RESULTS / scenario.name)
    results = run_scenario(scenario, **settings, progress=not args.quiet)
    paths = write_results(results, out)
    print(_summary_table(results))
    print(f"\nresults in {out}/ ({', '.join(paths)})")
    return 0


def _summary_table(results) -> str:
    from sim.stats import mean_and_ci

    frame = results.summary
    rows = [
        f"{'firm':<16}{'strategy':<16}{'final share (95% CI)':<26}{'profit':>8}{'trust':>7}"
        f"{'first release t50':>19}"
    ]
    for name in results.firm_names:
        part = frame[frame["firm"] == name]
        ci = mean_and_ci(part.assign(_=0), "final_share", by="_").iloc[0]
        rows.append(
            f"{name:<16}{part['strategy'].iloc[0]:<16}"
            f"{ci['mean']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]{'':<4}"
            f"{part['profit'].mean():>8.1f}{part['final_trust'].mean():>7.3f}"
            f"{part['first_t50'].mean():>19.1f}"
        )
    m = results.manifest
    head = (
        f"{m['scenario']}: {m['replicates']} replicates x {m['steps']} steps, "
        f"base seed {m['base_seed']}"
    )
    return head + "\n" + "\n".join(rows)


def cmd_validate(args: argparse.Namespace) -> int:
    import tomllib

    from sim.scenario import load_scenario

    path = Path(args.file)
    try:
        is_experiment = "experiment" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        is_experiment = False  # load_scenario reports the problem
    if is_experiment:
        from sim.sweep.loader import load_experiment

        for quick in (False, True):  # both sizes, so that --quick holds no surprise
            experiment = load_experiment(path, quick=quick)
            print(f"{path}: valid experiment '{experiment.name}' ({experiment.describe()})")
        return 0
    scenario = load_scenario(path)
    print(
        f"{path}: valid scenario '{scenario.name}' ({len(scenario.firms)} firms, "
        f"{scenario.resolved_parameters()['n_customers']} customers)"
    )
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.sweep.cli import sweep_command

    return sweep_command(args)


def cmd_app(args: argparse.Namespace) -> int:
    from sim.classroom.server import app_command

    return app_command(args)


def cmd_class(args: argparse.Namespace) -> int:
    from sim.classroom.server import class_command

    return class_command(args)


def cmd_lesson(args: argparse.Namespace) -> int:
    from sim.classroom.handouts import lesson_command

    return lesson_command(args)


def cmd_data(args: argparse.Namespace) -> int:
    from sim.calibration.cli import data_command

    return data_command(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.calibration.cli import calibrate_command

    return calibrate_command(args)


def cmd_backtest(args: argparse.Namespace) -> int:
    from sim.calibration.cli import backtest_command

    return backtest_command(args)


def cmd_check(args: argparse.Namespace) -> int:
    from sim.calibration.cli import check_command

    return check_command(args)


def cmd_default(args: argparse.Namespace) -> int:
    """The main job with no command: the strategy map at quick size, its verdicts, its
    report and brief (into ``--out DIR`` if given)."""
    from sim.paths import ROOT

    args = argparse.Namespace(
        experiment=str(ROOT / "experiments" / "strategy_map.toml"),
        workers=getattr(args, "main_workers", None),
        scheduler=None,
        out=getattr(args, "main_out", None),
        quick=True,
    )
    return cmd_sweep(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Agent-based simulator of innovation adoption (loss aversion, trust, "
        "co-creation). With no command: the main job.",
    )
    parser.add_argument(
        "--out",
        dest="main_out",
        metavar="DIR",
        help="the main job's output directory (default: results/strategy_map_quick)",
    )
    parser.add_argument(
        "--workers",
        dest="main_workers",
        type=int,
        metavar="W",
        help="the main job's worker processes (default: all cores)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run seeded replicates of a scenario")
    run.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/baseline.toml")
    run.add_argument("--steps", type=int, help="steps per run (default: the scenario's)")
    run.add_argument("--replicates", type=int, help="replicates (default: the scenario's)")
    run.add_argument("--seed", type=int, help="base seed (default: the scenario's)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario key by dotted path, e.g. "
        "customers.loss_aversion_mean=3 or firms.radical.cocreation=0.2",
    )
    run.add_argument("--out", help="output directory (default: results/SCENARIO_NAME)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a scenario or experiment file")
    validate.add_argument("file")
    validate.set_defaults(func=cmd_validate)

    sweep = sub.add_parser("sweep", help="run a parameter sweep (experiment file)")
    sweep.add_argument(
        "experiment", help="experiment file (TOML), e.g. experiments/strategy_map.toml"
    )
    sweep.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: all cores, as many as fit in the free memory)",
    )
    sweep.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    sweep.add_argument("--out", help="output directory (default: results/EXPERIMENT_NAME)")
    sweep.add_argument("--quick", action="store_true", help="the experiment's quick size")
    sweep.add_argument("--quiet", action="store_true", help="no progress bars")
    sweep.set_defaults(func=cmd_sweep)

    app = sub.add_parser("app", help="start the classroom's lesson page")
    app.add_argument(
        "--host", default="127.0.0.1", help="127.0.0.1 (default: this computer only) or 0.0.0.0"
    )
    app.add_argument("--port", type=int, default=8765)
    app.set_defaults(func=cmd_app)

    klass = sub.add_parser("class", help="run a class session: students answer on their phones")
    klass.add_argument(
        "--host",
        default="127.0.0.1",
        help="127.0.0.1 (default: this computer only) or 0.0.0.0 (phones on this network)",
    )
    klass.add_argument("--port", type=int, default=8765)
    klass.add_argument(
        "--db", help="the session's SQLite file (default: results/classroom/class.sqlite3)"
    )
    klass.add_argument("--new", action="store_true", help="start a new session (a new code)")
    klass.add_argument("--no-browser", action="store_true", help="do not open the teacher's page")
    klass.add_argument(
        "--size",
        type=int,
        help="the most students who may join (default 40; the teacher's page can raise it)",
    )
    klass.add_argument(
        "--export",
        metavar="DIR",
        help="write the latest session's answers (CSV) and worksheet picture (PNG) to DIR "
        "and exit (a FILE.csv: every session's answers)",
    )
    klass.set_defaults(func=cmd_class)

    lesson = sub.add_parser("lesson", help="render a lesson's figures as PNGs")
    lesson.add_argument("name", help="lesson name (see: python run.py lesson --list)", nargs="?")
    lesson.add_argument("--out", help="output directory (default: results/lessons/NAME)")
    lesson.add_argument("--list", action="store_true", help="list the lessons")
    lesson.add_argument(
        "--numbers",
        action="store_true",
        help="measure again the numbers the lesson's text quotes (no figures)",
    )
    lesson.set_defaults(func=cmd_lesson)

    data = sub.add_parser(
        "data", help="list the shipped adoption series, or check a CSV of adoption series"
    )
    data.add_argument(
        "file", nargs="?", help="a CSV of adoption series (default: the shipped data)"
    )
    data.add_argument("--series", metavar="NAME", help="one series, with its points")
    data.add_argument("--time-column", metavar="NAME", help="the time column (default: found)")
    data.add_argument(
        "--adoption-column", metavar="NAME", help="the adoption column (default: found)"
    )
    data.add_argument(
        "--series-column", metavar="NAME", help="the series column (default: found, if any)"
    )
    data.add_argument(
        "--unit", choices=("share", "percent"), help="the adoption unit (default: detected)"
    )
    data.add_argument(
        "--bass", action="store_true", help="add a Bass fit (p, q, m, launch, RMSE) per series"
    )
    data.set_defaults(func=cmd_data)

    calibrate = sub.add_parser(
        "calibrate", help="fit the model to an observed adoption curve (ABC-SMC, pyabc)"
    )
    calibrate.add_argument("data", help="a CSV of adoption series, e.g. the shipped data")
    calibrate.add_argument("--scenario", help="scenario file (default: scenarios/calibration.toml)")
    calibrate.add_argument(
        "--fit",
        action="append",
        metavar="KEY=LOW:HIGH[:log]",
        help="a scenario key to fit and its prior range, uniform, or log-uniform with "
        ":log, e.g. diffusion.imitation=0.05:1 (repeat; default: "
        "diffusion.broadcast=0.0001:0.1:log, diffusion.imitation=0.01:1:log, "
        "customers.loss_aversion_mean=1:6)",
    )
    calibrate.add_argument("--series", metavar="NAME", help="the series (if the file has several)")
    calibrate.add_argument(
        "--holdout",
        type=int,
        default=0,
        metavar="K",
        help="fit all but the last K points and forecast them (writes holdout.csv)",
    )
    calibrate.add_argument(
        "--budget", type=int, default=10_000, metavar="N", help="simulations (default 10000)"
    )
    calibrate.add_argument(
        "--population", type=int, default=200, help="particles per generation (default 200)"
    )
    calibrate.add_argument(
        "--generations", type=int, default=30, help="at most this many generations (default 30)"
    )
    calibrate.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: all cores, as many as fit in the free memory)",
    )
    calibrate.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    calibrate.add_argument(
        "--noise",
        choices=("auto", "iid", "ar1", "off"),
        default="auto",
        help="the observation noise between model and data: auto (autocorrelated if a Bass "
        "fit's residuals are, the default), iid, ar1, or off (bands without it)",
    )
    calibrate.add_argument(
        "--lead",
        type=float,
        default=40,
        metavar="PERIODS",
        help="the launch's prior: the first observation lies 0 to PERIODS after it (default 40)",
    )
    calibrate.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    calibrate.add_argument("--out", help="output directory (default: results/calibration/SERIES)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress")
    for flag, what in (
        ("--time-column", "the time column"),
        ("--adoption-column", "the adoption column"),
        ("--series-column", "the series column"),
    ):
        calibrate.add_argument(flag, metavar="NAME", help=f"{what} (default: found)")
    calibrate.add_argument(
        "--unit", choices=("share", "percent"), help="the adoption unit (default: detected)"
    )
    calibrate.set_defaults(func=cmd_calibrate)

    backtest = sub.add_parser(
        "backtest",
        help="forecast every series from rolling origins (40, 55, 70 %% of its points), the "
        "model against Bass, logistic and Gompertz (writes docs/validation.md)",
    )
    backtest.add_argument(
        "data", nargs="?", help="a CSV of adoption series (default: the shipped data)"
    )
    backtest.add_argument(
        "--budget", type=int, default=10_000, metavar="N", help="simulations per calibration"
    )
    backtest.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    backtest.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    backtest.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    backtest.add_argument("--series", action="append", metavar="NAME", help="only these series")
    backtest.add_argument(
        "--out", help="output directory (default: results/backtest); one folder per case"
    )
    backtest.add_argument(
        "--doc", help="the leaderboard's markdown file (default: docs/validation.md)"
    )
    backtest.add_argument("--quiet", action="store_true", help="no progress")
    backtest.set_defaults(func=cmd_backtest)

    check = sub.add_parser(
        "calibrate-check",
        help="simulation-based calibration: do the posteriors' intervals hold true values "
        "as often as they claim? (writes docs/validation.md)",
    )
    check.add_argument("--scenario", help="scenario file (default: scenarios/calibration.toml)")
    check.add_argument(
        "--fit",
        action="append",
        metavar="KEY=LOW:HIGH[:log]",
        help="a key to fit and its prior range (repeat; default: as calibrate)",
    )
    check.add_argument(
        "--noise",
        choices=("iid", "ar1", "off"),
        default="ar1",
        help="the observation noise of the synthetic data and of the fit (default ar1)",
    )
    check.add_argument(
        "--datasets", type=int, default=50, metavar="N", help="synthetic datasets (default 50)"
    )
    check.add_argument(
        "--budget", type=int, default=4000, metavar="B", help="simulations per dataset (4000)"
    )
    check.add_argument("--population", type=int, help="particles per generation (default 100)")
    check.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    check.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    check.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    check.add_argument("--out", help="output directory (default: results/calibrate-check)")
    check.add_argument("--doc", help="the result's markdown file (default: docs/validation.md)")
    check.add_argument("--quiet", action="store_true", help="no progress")
    check.set_defaults(func=cmd_check)
    return parser


def _interrupted(signum: int, frame: object) -> None:
    """The first Ctrl-C stops the command; any further one is ignored, so the orderly
    exit (runs saved, workers ended) is not cut short by a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        code = _run(argv)
    except KeyboardInterrupt:  # Ctrl-C at any moment, start-up included
        print("\ninterrupted", file=sys.stderr)
        code = 130
    if code == 130:  # a second Ctrl-C does not cut the orderly exit short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    elif signal.getsignal(signal.SIGINT) is _interrupted:  # called in-process (tests)
        signal.signal(signal.SIGINT, previous)
    return code


def _run(argv: list[str] | None) -> int:
    from sim.errors import InputError

    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for manifests' command
    func = getattr(args, "func", cmd_default)
    try:
        return func(args)
    except InputError as err:
        return _error(str(err))
    except MemoryError:
        return _error(
            "out of memory: the run needed more than this machine could give it; "
            "expected fewer customers (market.n_customers), a sparser network or fewer --workers"
        )
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
