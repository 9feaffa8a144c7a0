"""Replicates until the answer is clear: rounds stop as specified, give identical results
with 1 and 2 workers and after an interrupt and resume, and bad rules start no run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import InputError
from sim.sweep.aggregate import decided
from sim.sweep.loader import load_experiment
from sim.sweep.pipeline import run_sweep
from sim.sweep.store import RunStore

ROOT = Path(__file__).resolve().parent.parent

ADAPTIVE = """
[experiment]
name = "adaptive"
base = "{root}/scenarios/baseline.toml"
replicates = {{ min = 3, max = {most}, until = "winner" }}
steps = {steps}
seed = 17
keep = ["share_*"]

[set]
"market.n_customers" = {n}

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]

[factors.rho]
key = "market.market_dynamism"
values = [0.0, 0.02]
"""


def adaptive(tmp_path: Path, most: int = 24, steps: int = 60, n: int = 600) -> Path:
    path = tmp_path / f"adaptive_{most}_{steps}_{n}.toml"
    path.write_text(ADAPTIVE.format(root=ROOT, most=most, steps=steps, n=n))
    return path


def test_rounds_stop_as_specified(tmp_path: Path) -> None:
    """Every point ends with a count from the schedule 3, 6, 12, 24; a point that
    stopped early was decided at its count and undecided at every earlier one; every
    point that got more was undecided before."""
    exp = load_experiment(adaptive(tmp_path))
    assert exp.rule is not None and exp.rule.schedule() == [3, 6, 12, 24]
    assert exp.decision_level == pytest.approx(1 - 0.05 / 4)
    outcome = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    runs = RunStore(tmp_path / "out", exp).summary()
    counts = runs.groupby("point")["replicate"].nunique()
    assert outcome.finished == len(runs) // 3 == int(counts.sum())
    assert set(counts) <= {3, 6, 12, 24} and len(set(counts)) > 1  # they stopped apart
    for point, count in counts.items():
        for earlier in [c for c in exp.rule.schedule() if c < count]:
            assert point not in decided(runs[runs["replicate"] < earlier], exp, [point])
        if count < exp.rule.max:
            assert point in decided(runs, exp, [point])
        assert sorted(runs.loc[runs["point"] == point, "replicate"].unique()) == list(range(count))


def test_one_and_two_workers_give_identical_rounds(tmp_path: Path) -> None:
    exp = load_experiment(adaptive(tmp_path))
    run_sweep(exp, tmp_path / "w1", workers=1, progress=False)
    run_sweep(exp, tmp_path / "w2", workers=2, progress=False)
    for a, b in zip(
        (RunStore(tmp_path / "w1", exp).summary(), RunStore(tmp_path / "w1", exp).timeseries()),
        (RunStore(tmp_path / "w2", exp).summary(), RunStore(tmp_path / "w2", exp).timeseries()),
        strict=True,
    ):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_dask_gives_identical_rounds(tmp_path: Path) -> None:
    from distributed import LocalCluster

    exp = load_experiment(adaptive(tmp_path))
    run_sweep(exp, tmp_path / "local", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run_sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(
        RunStore(tmp_path / "local", exp).summary(), RunStore(tmp_path / "dask", exp).summary()
    )


@pytest.mark.slow
def test_interrupted_rounds_resume_to_the_same_result(tmp_path: Path) -> None:
    """SIGINT during the rounds (exit 130), run the command again: the same runs as an
    uninterrupted sweep, none twice."""
    # 10,000 customers: 54 runs of about 0.25 s on a quiet 2-core machine, so the
    # interrupt (sent when the first batch is stored) lands with most of the rounds to
    # go; at 2,500 a fast machine finished all 36 runs before it (CI did, in 2.6 s).
    path = adaptive(tmp_path, most=48, steps=150, n=10_000)
    out = tmp_path / "interrupted"
    command = [sys.executable, str(ROOT / "run.py"), "sweep", str(path), "--out", str(out)]
    command += ["--workers", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    parts = out / "runs" / "summary"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first batch stored
        if parts.is_dir() and any(parts.glob("part-*.parquet")):
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    exp = load_experiment(path)
    saved = len(RunStore(out, exp).done())
    resumed = subprocess.run(command, capture_output=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr.decode()
    straight = tmp_path / "straight"
    total = run_sweep(exp, straight, workers=2, progress=False)
    assert 0 < saved < total.finished, "the sweep was not interrupted part-way"
    a, b = RunStore(out, exp).summary(), RunStore(straight, exp).summary()
    assert not a.duplicated(["point", "replicate", "firm"]).any()
    pd.testing.assert_frame_equal(a, b)


BAD_RULES = [
    ('{ min = 3, max = 24, until = "forever" }', "experiment.replicates.until = 'forever'"),
    ('{ min = 8, max = 4, until = "winner" }', "experiment.replicates.max = 4: expected an"),
    ('{ min = 1, max = 4, until = "winner" }', "experiment.replicates.min = 1: expected an"),
    ('{ min = 2, max = 4, until = "ci" }', "experiment.replicates.width = 0.0: expected a"),
    ('{ min = 2, max = 4, until = "winner", stop = 1 }', "experiment.replicates.stop: unknown"),
    ('{ min = 2, until = "winner" }', "experiment.replicates.max: missing"),
]


@pytest.mark.parametrize(("rule", "message"), BAD_RULES, ids=[m for _, m in BAD_RULES])
def test_bad_rules_give_one_line_errors_and_start_no_run(
    tmp_path: Path, rule: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    import run

    text = adaptive(tmp_path).read_text().replace('{ min = 3, max = 24, until = "winner" }', rule)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_experiment(path)
    out = tmp_path / "out"
    assert run.main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not out.exists()


def test_ci_width_rule_decides_on_the_metric(tmp_path: Path) -> None:
    text = (
        adaptive(tmp_path)
        .read_text()
        .replace(
            '{ min = 3, max = 24, until = "winner" }',
            '{ min = 3, max = 12, until = "ci", metric = "final_share", width = 0.3 }',
        )
    )
    path = tmp_path / "ci.toml"
    path.write_text(text)
    exp = load_experiment(path)
    run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    runs = RunStore(tmp_path / "out", exp).summary()
    for point, count in runs.groupby("point")["replicate"].nunique().items():
        if count < 12:
            part = runs[runs["point"] == point]
            from sim.stats import mean_and_ci

            band = mean_and_ci(part, "final_share", by="firm", level=exp.decision_level)
            assert ((band["high"] - band["low"]) <= 0.3).all()
