"""Sweep runs: identical results with 1 or 2 workers or on Dask, resume after SIGINT,
failures reported with their parameters, and the same final shares as mesa.batch_run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.configuration import check_firms, check_model_parameters, default_firms
from sim.outputs import RunSpec
from sim.sweep.executor import run_dask, run_local
from sim.sweep.loader import load_experiment
from sim.sweep.pipeline import run_sweep
from sim.sweep.store import RunStore

ROOT = Path(__file__).resolve().parent.parent

TINY = """
[experiment]
name = "tiny"
base = "{root}/scenarios/baseline.toml"
replicates = {replicates}
steps = {steps}
seed = 11
keep = ["share_*", "trust_*"]

[set]
"market.n_customers" = {n}

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]

[factors.rho]
key = "market.market_dynamism"
values = [0.0, 0.01]

[report]
map = ["lam", "rho"]
"""


def tiny(tmp_path: Path, replicates: int = 2, steps: int = 30, n: int = 300) -> Path:
    path = tmp_path / f"tiny_{replicates}_{steps}_{n}.toml"
    path.write_text(TINY.format(root=ROOT, replicates=replicates, steps=steps, n=n))
    return path


def frames(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = RunStore(out)
    return store.summary(), store.timeseries()


def test_one_and_two_workers_give_identical_results(tmp_path: Path) -> None:
    exp = load_experiment(tiny(tmp_path))
    one = run_sweep(exp, tmp_path / "w1", workers=1, progress=False)
    two = run_sweep(exp, tmp_path / "w2", workers=2, progress=False)
    assert one.finished == two.finished == exp.n_runs == 8 and not one.failures
    s1, t1 = frames(tmp_path / "w1")
    s2, t2 = frames(tmp_path / "w2")
    assert len(s1) == 8 * 3 and len(t1) == 8 * 31
    pd.testing.assert_frame_equal(s1, s2)
    pd.testing.assert_frame_equal(t1, t2)
    # a second run resumes: nothing left to do, nothing duplicated
    again = run_sweep(exp, tmp_path / "w1", workers=2, progress=False)
    assert again.finished == 0 and again.skipped == 8
    pd.testing.assert_frame_equal(frames(tmp_path / "w1")[0], s1)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(tmp_path: Path) -> None:
    from distributed import LocalCluster

    exp = load_experiment(tiny(tmp_path))
    run_sweep(exp, tmp_path / "local", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        outcome = run_sweep(
            exp, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
    assert outcome.finished == 8 and not outcome.failures
    for a, b in zip(frames(tmp_path / "local"), frames(tmp_path / "dask"), strict=True):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    """SIGINT part-way (exit 130, finished runs kept), rerun: equal to an uninterrupted sweep."""
    path = tiny(tmp_path, replicates=8, steps=200, n=3000)  # 32 runs, several seconds
    out = tmp_path / "interrupted"
    command = [
        sys.executable,
        str(ROOT / "run.py"),
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # a child inherits an ignored SIGINT (a test runner started in the background):
        # give it the default, so that Python turns the signal into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    parts = out / "runs" / "summary"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first batch of finished runs is on disk
        if parts.is_dir() and list(parts.glob("part-*.parquet")):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert b"run the same command again to resume" in err
    saved = len(RunStore(out).done())  # the runs finished before the signal, all written
    assert 1 <= saved < 32, "the sweep was not interrupted part-way"
    resumed = subprocess.run(command, capture_output=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"{saved} already done".encode() in resumed.stderr
    exp = load_experiment(path)
    run_sweep(exp, tmp_path / "straight", workers=2, progress=False)
    s_resumed, t_resumed = frames(out)
    s_straight, t_straight = frames(tmp_path / "straight")
    assert len(s_resumed.drop_duplicates(["point", "replicate", "firm"])) == len(s_resumed) == 96
    pd.testing.assert_frame_equal(s_resumed, s_straight)
    pd.testing.assert_frame_equal(t_resumed, t_straight)
    assert (out / "report.md").is_file() and (out / "summary.csv").is_file()


def _tasks(exp_path: Path) -> list[RunSpec]:
    exp = load_experiment(exp_path)
    good = exp.tasks()[:2]
    params = {**check_model_parameters({}), "n_customers": 1}  # not checked: it fails
    bad = RunSpec(
        params=params,
        firms=check_firms(default_firms()),
        steps=5,
        seed=1,
        labels={"point": 99, "replicate": 0, "seed": 1, "lam": "broken"},
    )
    return [good[0], bad, good[1]]


def test_failing_run_is_retried_and_reported_local(tmp_path: Path) -> None:
    results = []
    outcome = run_local(_tasks(tiny(tmp_path)), results.append, workers=2, progress=False)
    assert outcome.finished == 2 and len(results) == 2
    [failure] = outcome.failures
    assert failure["point"] == 99 and failure["parameters"] == {"lam": "broken"}
    assert "too large for 1 customers" in failure["error"]


@pytest.mark.slow
def test_failing_run_is_retried_and_reported_dask(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    results = []
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        outcome = run_dask(
            _tasks(tiny(tmp_path)),
            results.append,
            scheduler=client,
            progress=False,
            prefix="failing",
        )
    assert outcome.finished == 2 and len(results) == 2
    [failure] = outcome.failures
    assert failure["parameters"] == {"lam": "broken"}
    assert "too large for 1 customers" in failure["error"]


def test_batch_run_gives_the_same_final_shares(tmp_path: Path) -> None:
    """mesa.batch_run with the sweep's seeds reproduces the sweep's final shares exactly."""
    from mesa.batchrunner import batch_run

    from sim.model import InnovationModel

    exp = load_experiment(tiny(tmp_path))
    run_sweep(exp, tmp_path / "sweep", workers=1, progress=False)
    summary = RunStore(tmp_path / "sweep").summary()
    for point in range(exp.n_points):
        kwargs = exp.point_kwargs[point]
        parameters = {k: ([v] if k == "firms" else v) for k, v in kwargs.items()}
        seeds = [exp.run_seed(point, r) for r in range(exp.replicates)]
        rows = batch_run(
            InnovationModel,
            parameters=parameters,
            rng=seeds,
            max_steps=exp.steps,
            number_processes=1,
            display_progress=False,
        )
        for row in rows:
            mine = summary[(summary["point"] == point) & (summary["seed"] == row["rng"])]
            for firm in exp.firm_names:
                share = mine.loc[mine["firm"] == firm, "final_share"].item()
                assert share == row[f"share_{firm}"]


def test_store_refuses_another_experiment(tmp_path: Path) -> None:
    from sim.sweep.store import StoreError

    run_sweep(load_experiment(tiny(tmp_path)), tmp_path / "out", workers=1, progress=False)
    other = load_experiment(tiny(tmp_path, replicates=3))
    with pytest.raises(StoreError, match="holds results of a different experiment"):
        run_sweep(other, tmp_path / "out", workers=1, progress=False)
