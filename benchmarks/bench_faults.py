"""Faults, measured (issue 19): kill -9 at several moments, then resume; repeated Ctrl-C;
a full disk. Not a speed benchmark: it counts what survives a fault.

For a grid, a Latin hypercube, a scenario-discovery (LHS with ``[discovery]``) and a
replicate-rule sweep, and for a calibration, each run through ``run.py`` in a
subprocess with two workers:

* a **straight** run gives the reference files;
* for each kill moment (1 s, in start-up, then from 5 % to 70 % of the time the
  straight run's workers ran, counted from when the killed run's workers start)
  the command is started in a fresh folder, its main process killed with SIGKILL at that
  moment, every process below it watched until it has ended (the time is recorded; more
  than 5 s is a failure), and the same command run again to the end: its files must be
  byte-identical to the straight run's (``summary.csv``, ``winners.csv``, and
  ``runs.csv``/``boxes.csv`` of discovery; ``posterior.csv``, ``summary.csv``,
  ``generations.csv``, ``fit.csv`` of a calibration);
* **Ctrl-C**: the grid sweep is interrupted N times at random moments (SIGINT to the
  process group or to the main process only, once or twice in quick succession); a
  run that does not end within 60 s is a hang;
* **full disk** (as root only: a small tmpfs is mounted): the rule sweep and the
  calibration run into a folder too small for them; the error must be one line with
  exit status 2 and no temporary file left; the tmpfs is then enlarged and the same
  command resumed, to files identical to the straight run's.

Usage::

    python benchmarks/bench_faults.py                  # the full measurement (~15 minutes)
    python benchmarks/bench_faults.py --kills 2 --interrupts 8 --out /tmp/faults

Writes ``faults.json`` and ``faults.md`` to ``--out`` (default results/benchmarks).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sim.workers import is_running, processes_below  # noqa: E402

DATA = ROOT / "data" / "adoption" / "us_household_technologies.csv"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

BASE = """
[experiment]
name = "{name}"
base = "{root}/scenarios/baseline.toml"
steps = 120
seed = 19
keep = ["share_*"]
{extra}

[set]
"market.n_customers" = 2000
"""
RANGES = (
    BASE
    + """
[factors.lam]
key = "customers.loss_aversion_mean"
low = 1.0
high = 4.0
[factors.rho]
key = "market.market_dynamism"
low = 0.0
high = 0.03
"""
)
SWEEPS = {
    "grid": BASE
    + """
[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 2.25, 4.0]
[factors.rho]
key = "market.market_dynamism"
values = [0.0, 0.02]
""",
    "lhs": RANGES,
    "discovery": RANGES + "[discovery]\n",
    "rule": BASE
    + """
[factors.rho]
key = "market.market_dynamism"
values = [0.0, 0.05]
[factors.cadence]
key = "strategies.radical.cadence"
values = [6, 12, 20]
""",
}
EXTRA = {
    "grid": "replicates = 6",
    "lhs": 'design = "lhs"\nsamples = 24\nreplicates = 2',
    "discovery": 'design = "lhs"\nsamples = 40\nreplicates = 1',
    "rule": 'replicates = { min = 2, max = 16, until = "winner" }',
}
COMPARED = {
    "grid": ["summary.csv", "winners.csv"],
    "lhs": ["summary.csv", "winners.csv"],
    "discovery": ["summary.csv", "winners.csv", "runs.csv", "boxes.csv"],
    "rule": ["summary.csv", "winners.csv"],
    "calibration": ["posterior.csv", "summary.csv", "generations.csv", "fit.csv"],
}
CALIBRATION = ["--series", "colour_tv", "--budget", "2000", "--population", "50"]


def command(kind: str, path: Path | None, out: Path) -> list[str]:
    head = [sys.executable, str(ROOT / "run.py")]
    if kind == "calibration":
        return [*head, "calibrate", str(DATA), *CALIBRATION, "--workers", "2", "--out", str(out)]
    return [*head, "sweep", str(path), "--workers", "2", "--out", str(out), "--quiet"]


def finish(argv: list[str]) -> tuple[int, str, float]:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=3600)
    return done.returncode, done.stderr, time.perf_counter() - began


def same_files(kind: str, a: Path, b: Path) -> list[str]:
    """Files of ``kind`` that differ between folders a and b (byte by byte)."""
    return [n for n in COMPARED[kind] if (a / n).read_bytes() != (b / n).read_bytes()]


def workers_started(process: subprocess.Popen, began: float) -> float | None:
    """Wait until ``process`` has its workers (two and the resource tracker); the time
    since ``began``, or None if it ended first."""
    while process.poll() is None:
        if len(processes_below(process.pid)) >= 3:
            return time.monotonic() - began
        time.sleep(0.05)
    return None


def straight_run(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` to the end: (seconds until its workers started, seconds in all)."""
    began = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    started = workers_started(process, began)
    _, err = process.communicate()
    assert process.returncode == 0, err.decode()
    return started or 0.0, time.monotonic() - began


def kill_at(argv: list[str], moment: float | None, after_workers: float = 0.0) -> dict[str, Any]:
    """Start ``argv`` and SIGKILL its main process ``moment`` s after its start, or (with
    ``moment`` None) ``after_workers`` s after its workers started; then how long the
    processes below it lived on."""
    began = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    if moment is None:
        workers_started(process, began)
        time.sleep(after_workers)
    else:
        time.sleep(moment)
    killed_at = time.monotonic() - began
    below = processes_below(process.pid)
    ended_before = process.poll() is not None
    process.kill()
    process.wait()
    gone = time.monotonic()
    while any(is_running(p) for p in below) and time.monotonic() - gone < 30:
        time.sleep(0.05)
    left = [p for p in below if is_running(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return {
        "moment_s": round(killed_at, 2),
        "processes_below": len(below),
        "outlived_s": round(time.monotonic() - gone, 2),
        "left_after_30s": len(left),
        "ended_before_kill": ended_before,
    }


def measure_kills(kind: str, work: Path, kills: int) -> dict[str, Any]:
    path = None
    if kind != "calibration":
        path = work / f"{kind}.toml"
        path.write_text(SWEEPS[kind].format(name=kind, root=ROOT, extra=EXTRA[kind]))
    straight = work / f"{kind}-straight"
    started, seconds = straight_run(command(kind, path, straight))
    # once in start-up (1 s), then while the workers run: from 5 % to 70 % of the time
    # between their start and the end of the straight run
    working = max(seconds - started, 1.0)
    moments: list[tuple[float | None, float]] = [(1.0, 0.0)]
    moments += [(None, working * (0.05 + 0.65 * i / max(kills - 1, 1))) for i in range(kills)]
    rows = []
    for i, (moment, after) in enumerate(moments):
        out = work / f"{kind}-killed-{i}"
        row = kill_at(command(kind, path, out), moment, after)
        code, _, _ = finish(command(kind, path, out))
        row["resume_exit"] = code
        row["differing"] = same_files(kind, out, straight) if code == 0 else ["(failed)"]
        row["identical"] = code == 0 and not row["differing"]
        rows.append(row)
        print(f"{kind}: {row}", flush=True)
    return {"straight_s": round(seconds, 1), "workers_after_s": round(started, 1), "kills": rows}


def measure_interrupts(work: Path, count: int, seed: int = 19) -> dict[str, Any]:
    path = work / "grid.toml"
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        process = subprocess.Popen(
            command("grid", path, work / f"interrupted-{i}"),  # from scratch each time
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=ENV,
            start_new_session=True,
            # a child inherits an ignored SIGINT (this script started in the background):
            # give it the default, so that Python turns the signal into KeyboardInterrupt
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        delay = rng.uniform(0.5, 8.0)  # from run.py on: not inside Python's own start-up
        time.sleep(delay)
        below = processes_below(process.pid)
        send = os.killpg if i % 2 else os.kill
        twice = rng.random() < 0.5
        try:
            send(process.pid, signal.SIGINT)
            if twice:
                time.sleep(rng.uniform(0.0, 0.5))
                send(process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            _, err = process.communicate(timeout=60)
            hung = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, err = process.communicate()
            hung = True
        time.sleep(0.5)
        rows.append(
            {
                "delay_s": round(delay, 2),
                "group": bool(i % 2),
                "twice": twice,
                "exit": process.returncode,
                "hung": hung,
                "traceback": b"Traceback" in err,
                "left": sum(is_running(p) for p in below),
            }
        )
        if rows[-1]["traceback"]:  # what it was, for whoever reads faults.json
            rows[-1]["stderr"] = err.decode(errors="replace")[-3000:]
        print(f"interrupt {i}: {rows[-1]}", flush=True)
    return {
        "runs": count,
        "hangs": sum(r["hung"] for r in rows),
        "tracebacks": sum(r["traceback"] for r in rows),
        "left_behind": sum(r["left"] for r in rows),
        "rows": rows,
    }


def measure_full_disk(work: Path) -> dict[str, Any]:
    """As root: a small tmpfs fills up, then is enlarged; None otherwise."""
    if os.geteuid() != 0:
        return {"skipped": "needs root to mount a tmpfs"}
    results = {}
    for kind, size in (("rule", "160k"), ("calibration", "400k")):
        mount = Path(tempfile.mkdtemp(prefix=f"full-{kind}-"))
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)])
        if done.returncode != 0:
            return {"skipped": "mount failed"}
        try:
            path = work / f"{kind}.toml" if kind != "calibration" else None
            argv = command(kind, path, mount / "out")
            code, err, _ = finish(argv)
            lines = [line for line in err.splitlines() if line.startswith("error:")]
            temporary = [str(p) for p in mount.rglob("*.tmp")]
            subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
            code2, _, _ = finish(argv)
            differing = same_files(kind, mount / "out", work / f"{kind}-straight")
            results[kind] = {
                "exit": code,
                "error": lines[0] if lines else err[-300:],
                "one_line": len(lines) == 1 and "Traceback" not in err,
                "temporary_files_left": temporary,
                "resume_exit": code2,
                "identical_after_resume": code2 == 0 and not differing,
            }
            print(f"full disk, {kind}: {results[kind]}", flush=True)
        finally:
            subprocess.run(["umount", str(mount)])
            mount.rmdir()
    return results


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Faults: kill -9 and resume, Ctrl-C, a full disk", ""]
    lines += [f"`{report['command']}` on {report['when']} ({report['cores']} cores).", ""]
    lines += ["| run | kill at (s) | processes below | ended after (s) | resumed identical |"]
    lines += ["|---|---|---|---|---|"]
    for kind, result in report["kills"].items():
        for row in result["kills"]:
            moment = f"{row['moment_s']}{' (it had ended)' if row['ended_before_kill'] else ''}"
            lines.append(
                f"| {kind} (straight {result['straight_s']} s) | {moment} | "
                f"{row['processes_below']} | {row['outlived_s']} | "
                f"{'yes' if row['identical'] else 'NO: ' + ', '.join(row['differing'])} |"
            )
    ints = report["interrupts"]
    lines += [
        "",
        f"Ctrl-C: {ints['runs']} interrupts at random moments (half to the process group, "
        f"half to the main process; half of them twice): {ints['hangs']} hangs, "
        f"{ints['tracebacks']} tracebacks, {ints['left_behind']} processes left behind.",
        "",
    ]
    for kind, row in report["full_disk"].items():
        if isinstance(row, dict):
            lines.append(
                f"Full disk, {kind}: exit {row['exit']}, one line: {row['one_line']} "
                f"(`{row['error']}`), temporary files left: {len(row['temporary_files_left'])}, "
                f"resumed identical after space was freed: {row['identical_after_resume']}."
            )
        else:
            lines.append(f"Full disk: {row}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=3, help="kill moments after start-up")
    parser.add_argument("--interrupts", type=int, default=40)
    parser.add_argument("--only", nargs="*", default=[*SWEEPS, "calibration"])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        kills = {kind: measure_kills(kind, work, args.kills) for kind in args.only}
        if "grid" not in args.only:
            grid = SWEEPS["grid"].format(name="grid", root=ROOT, extra=EXTRA["grid"])
            (work / "grid.toml").write_text(grid)
        report = {
            "command": " ".join(["python", "benchmarks/bench_faults.py", *sys.argv[1:]]),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "cores": os.cpu_count(),
            "kills": kills,
            "interrupts": measure_interrupts(work, args.interrupts),
            "full_disk": measure_full_disk(work)
            if {"rule", "calibration"} <= set(args.only)
            else {"skipped": "needs the rule sweep and the calibration"},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "faults.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
