"""Smoke test of the scale benchmark: ``--quick`` runs and writes a sane CSV and report.

No timing assertions: timings on shared CI machines mean nothing; the point is that
the one benchmark command keeps working as the model changes.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_scale.py"


@pytest.mark.slow
def test_quick_benchmark_writes_csv_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    with (out / "scale.csv").open() as f:
        rows = list(csv.DictReader(f))
    sys.path.insert(0, str(SCRIPT.parent))
    from bench_scale import COLUMNS

    assert rows and list(rows[0]) == COLUMNS
    seen = {(r["implementation"], int(r["n_customers"])) for r in rows}
    assert {("vectorized", 1_000), ("vectorized", 10_000), ("reference", 1_000)} <= seen
    assert ("virus_on_network", 1_000) in seen and ("bass_probe", 1_000) in seen
    for r in rows:
        assert int(r["steps"]) > 0 and int(r["repeats"]) > 0
        for key in ("construct_s", "step_ms", "customer_steps_per_s", "total_s"):
            assert float(r[key]) > 0, (r["implementation"], key)
        assert float(r["customer_steps_per_s_min"]) <= float(r["customer_steps_per_s"])
        assert float(r["customer_steps_per_s"]) <= float(r["customer_steps_per_s_max"])
        assert float(r["peak_rss_mb"]) >= float(r["import_rss_mb"]) > 0

    report = (out / "scale.md").read_text()
    for heading in ("| implementation | N |", "## Speed ratios", "## Step cost", "## Machine"):
        assert heading in report
    assert "vectorized / reference" in report and "- cpu:" in report


@pytest.mark.slow
def test_calibration_benchmark_runs_and_reports(tmp_path: Path) -> None:
    script = ROOT / "benchmarks" / "bench_calibration.py"
    done = subprocess.run(
        [sys.executable, str(script), "--budget", "800", "--workers", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = (tmp_path / "bench_calibration.md").read_text()
    assert "wall time" in report and "simulations per second" in report
    assert "| generation | epsilon |" in report
