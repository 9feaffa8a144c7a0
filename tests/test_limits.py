"""What a command may ask for: the command line's run settings have the file's ranges, a
sweep's tasks cost what sim.limits says, the memory estimate refuses what cannot fit and
plans workers that do, and a failed write is recognised under pyabc's SQLite errors."""

from __future__ import annotations

import errno
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.files import OutputError, writable_directory, write_failure
from sim.limits import MAX_SWEEP_RUNS, run_setting
from sim.memory import PROCESS_BYTES, check_memory, plan_workers, run_bytes
from sim.scenario import from_dict
from sim.sweep.loader import load_experiment

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("steps", 0),
        ("steps", 1),
        ("steps", 1_000_000),
        ("steps", 10_000_000),
        ("replicates", 0),
        ("replicates", 100_000),
        ("replicates", 1_000_000_000),
        ("seed", -1),
        ("seed", 2**63 - 1),
        ("seed", 2**70),
    ],
)
def test_command_line_and_file_refuse_the_same_run_settings(key: str, value: int) -> None:
    """--steps/--replicates/--seed accept exactly what a scenario's [run] table accepts."""
    try:
        from_dict({"run": {key: value}})
        file_ok = True
    except InputError:
        file_ok = False
    try:
        assert run_setting(key, value, f"--{key}") == value
        flag_ok = True
    except InputError as error:
        flag_ok = False
        assert str(error).startswith(f"--{key} = {value}: expected an integer >= ")
    assert flag_ok == file_ok


def test_a_sweeps_tasks_cost_about_half_a_kilobyte_a_run(tmp_path: Path) -> None:
    """The bound MAX_SWEEP_RUNS is argued from this: tasks and their keys, about 0.5 KB a
    run (1 KB allowed), so a million runs hold well under a gigabyte."""
    path = tmp_path / "many.toml"
    path.write_text(
        f"""
[experiment]
base = "{ROOT}/scenarios/baseline.toml"
replicates = 5000
steps = 5
[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 2.0, 3.0, 4.0]
"""
    )
    experiment = load_experiment(path)
    tracemalloc.start()
    tasks = experiment.tasks()
    keys = {(t.labels["point"], t.labels["replicate"]) for t in tasks}
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(keys) == 20_000
    assert used / len(tasks) < 1024
    assert MAX_SWEEP_RUNS * used / len(tasks) < 2**30


def test_memory_refuses_a_run_that_cannot_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.memory

    scenario = from_dict({"market": {"n_customers": 5_000_000}})
    need = run_bytes(scenario.params, scenario.firms, 200)
    assert 2.0e9 < need < 3.0e9  # about 480 bytes a customer (benchmarks/bench_memory.py)
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: (1 << 30, None))
    with pytest.raises(InputError) as error:
        check_memory(scenario.params, scenario.firms, 200, source="s.toml")
    text = str(error.value)
    assert text.startswith("s.toml: market.n_customers = 5000000: a run of 5,000,000 customers")
    assert "needs about 2.4 GB of memory (watts_strogatz, mean degree 10" in text
    assert "and 1.0 GB is free" in text
    assert "expected at most about 1,900,000 customers" in text
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: (None, 1 << 30))
    with pytest.raises(InputError, match="left under ulimit -v"):
        check_memory(scenario.params, scenario.firms, 200)


def test_workers_are_planned_by_the_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default as many workers as fit; asked for more, a one-line refusal."""
    import sim.memory

    scenario = from_dict({"market": {"n_customers": 1_000_000}})
    need = run_bytes(scenario.params, scenario.firms, 200)
    free = 3 * (need + PROCESS_BYTES) + 1
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: (free, None))
    chosen, note = plan_workers(scenario.params, scenario.firms, 200, None, cores=8)
    assert chosen == 3 and note.startswith("memory: 3 worker(s), not 8")
    assert plan_workers(scenario.params, scenario.firms, 200, 2, cores=8) == (2, "")
    with pytest.raises(InputError, match="--workers = 4: expected at most 3"):
        plan_workers(scenario.params, scenario.firms, 200, 4, cores=8)
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: (None, None))
    assert plan_workers(scenario.params, scenario.firms, 200, None, cores=8) == (8, "")


def test_write_failures_are_recognised_through_chained_errors() -> None:
    """pyabc's full disk surfaces as SQLAlchemy's 'prepared state' error raised while
    handling SQLite's 'database or disk is full': found through the chain."""
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            raise RuntimeError("This session is in 'prepared' state")  # noqa: B904
    except RuntimeError as error:
        assert write_failure(error) == "database or disk is full"
    assert "No space left" in (write_failure(OSError(errno.ENOSPC, "No space left")) or "")
    assert write_failure(ValueError("not a write")) is None


def test_out_must_be_a_folder_that_takes_files(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="expected a folder"):
        writable_directory(tmp_path / "file")
    with pytest.raises(OutputError, match="cannot write there"):
        writable_directory(tmp_path / "file" / "below")
    assert writable_directory(tmp_path / "new" / "deep").is_dir()
    assert not list((tmp_path / "new" / "deep").iterdir())  # the probe is gone
