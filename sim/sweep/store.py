"""The results store: one Parquet part per finished run, written atomically, and a manifest.

Layout of ``OUT/``::

    manifest.json                 experiment, design table, seed rule, versions, fingerprint
    design.csv                    the design table (point, factor values)
    runs/timeseries/pPPPPP_rRRRR.parquet   kept observables per step of one run
    runs/summary/pPPPPP_rRRRR.parquet      per-firm summary of one run (written last)

Every part is written to a temporary file, flushed to disk and renamed with
:func:`os.replace`, so a part is either complete or absent. A run is finished when its
summary part exists; resuming skips finished runs and runs the others again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

if TYPE_CHECKING:  # pragma: no cover
    from .executor import RunResult
    from .experiment import Experiment

from .experiment import ExperimentError

__all__ = ["RunStore", "StoreError"]


class StoreError(ExperimentError):
    """The output folder holds results of a different experiment."""


def _part_name(point: int, replicate: int) -> str:
    return f"p{point:05d}_r{replicate:04d}.parquet"


def _parse_part(name: str) -> tuple[int, int]:
    stem = name.removesuffix(".parquet")
    point, replicate = stem.split("_")
    return int(point[1:]), int(replicate[1:])


def write_atomic(path: Path, data: bytes | pa.Table) -> None:
    """Write bytes or an Arrow table to ``path`` via a temporary file and os.replace."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            pq.write_table(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RunStore:
    """Per-run Parquet parts under ``out/runs`` plus ``manifest.json``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.summary_dir = self.out / "runs" / "summary"
        self.timeseries_dir = self.out / "runs" / "timeseries"
        self.manifest_path = self.out / "manifest.json"

    # ------------------------------------------------------------------ setup
    def prepare(self, experiment: Experiment, manifest: dict[str, Any]) -> None:
        """Create the folders and the manifest; refuse results of another experiment."""
        if self.manifest_path.is_file():
            old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if old.get("fingerprint") != manifest["fingerprint"]:
                raise StoreError(
                    f"{self.out}: holds results of a different experiment or size "
                    f"({old.get('experiment')!r}, {old.get('describe', '?')}); "
                    "use another --out or delete the folder"
                )
            manifest["created"] = old.get("created", manifest["created"])
        self.summary_dir.mkdir(parents=True, exist_ok=True)
        self.timeseries_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.summary_dir, self.timeseries_dir):
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        write_atomic(
            self.manifest_path, (json.dumps(manifest, indent=2, default=str) + "\n").encode()
        )
        table = experiment.table.copy()
        table.insert(0, "point", range(len(table)))
        table.to_csv(self.out / "design.csv", index=False)

    # ------------------------------------------------------------------ parts
    def done(self) -> set[tuple[int, int]]:
        """(point, replicate) of every finished run."""
        if not self.summary_dir.is_dir():
            return set()
        return {_parse_part(p.name) for p in self.summary_dir.glob("p*_r*.parquet")}

    def write(self, result: RunResult) -> None:
        """Store one run: its time series first, then its summary (the completion mark)."""
        name = _part_name(result.point, result.replicate)
        if result.timeseries is not None:
            write_atomic(
                self.timeseries_dir / name,
                pa.Table.from_pandas(result.timeseries, preserve_index=False),
            )
        write_atomic(
            self.summary_dir / name, pa.Table.from_pandas(result.summary, preserve_index=False)
        )

    def _read(self, folder: Path, sort: Iterable[str]) -> pd.DataFrame:
        done = {_part_name(*key) for key in self.done()}
        files = sorted(str(p) for p in folder.glob("p*_r*.parquet") if p.name in done)
        if not files:
            return pd.DataFrame()
        frame = ds.dataset(files, format="parquet").to_table().to_pandas()
        return frame.sort_values(list(sort), kind="stable").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Per-firm summaries of every finished run."""
        return self._read(self.summary_dir, ["point", "replicate", "firm_index"])

    def timeseries(self) -> pd.DataFrame:
        """Kept observables of every finished run."""
        return self._read(self.timeseries_dir, ["point", "replicate", "step"])

    def manifest(self) -> dict[str, Any]:
        """The stored manifest."""
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_failures(self, failures: list[dict[str, Any]]) -> Path:
        """Record runs that kept failing (or remove the record when there are none)."""
        path = self.out / "failures.json"
        if failures:
            payload = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "failures": failures}
            write_atomic(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())
        else:
            path.unlink(missing_ok=True)
        return path
