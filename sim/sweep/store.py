"""The results store: finished runs in Parquet parts written atomically, and a manifest.

Layout of ``OUT/``::

    manifest.json                     experiment, design table, seed rule, versions, fingerprint
    design.csv                        the design table (point, factor values)
    runs/timeseries/part-NNNNNN.parquet   kept observables per step of a batch of runs
    runs/summary/part-NNNNNN.parquet      per-firm summaries of the same runs (written last)

Finished runs are buffered and written together, a part per batch (every
:data:`FLUSH_RUNS` runs or :data:`FLUSH_SECONDS` seconds, and when the sweep stops,
Ctrl-C included), so the cost of a write is shared by many runs. Every part is written
to a temporary file, flushed to disk and renamed with :func:`os.replace`: it is either
whole or absent. A run is finished when a summary part holds it; a time-series part
without its summary part (a stop between the two writes) is removed when the store
opens again, and its runs are run again.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..provenance import write_atomic, write_json
from .experiment import ExperimentError

if TYPE_CHECKING:  # pragma: no cover
    from ..outputs import RunOutput
    from .experiment import Experiment

__all__ = ["FORMAT", "RunStore", "StoreError"]

#: Version of this layout, recorded in the manifest.
FORMAT = 2
#: A batch is written after this many runs ...
FLUSH_RUNS = 64
#: ... or this many seconds after its first run, whichever comes first.
FLUSH_SECONDS = 1.0


class StoreError(ExperimentError):
    """The output folder holds results of a different experiment."""


def _part_name(batch: int) -> str:
    return f"part-{batch:06d}.parquet"


def _table_bytes(frames: list[pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    frame = pd.concat(frames, ignore_index=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


class RunStore:
    """Batches of finished runs as Parquet parts under ``out/runs``, plus ``manifest.json``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.summary_dir = self.out / "runs" / "summary"
        self.timeseries_dir = self.out / "runs" / "timeseries"
        self.manifest_path = self.out / "manifest.json"
        self._buffer: list[RunOutput] = []
        self._buffer_started = 0.0
        self._next_batch = 0

    # ------------------------------------------------------------------ setup
    def prepare(self, experiment: Experiment, manifest: dict[str, Any]) -> None:
        """Create the folders and the manifest; refuse results of another experiment."""
        if self.manifest_path.is_file():
            old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if (
                old.get("store_format") != FORMAT
                or old.get("fingerprint") != manifest["fingerprint"]
            ):
                raise StoreError(
                    str(self.out),
                    reason="holds results of a different experiment, size or store format "
                    f"({old.get('experiment')!r}, {old.get('describe', '?')}); "
                    "use another --out or delete the folder",
                )
            manifest["created"] = old.get("created", manifest["created"])
        self.summary_dir.mkdir(parents=True, exist_ok=True)
        self.timeseries_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.summary_dir, self.timeseries_dir):
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        finished = {p.name for p in self.summary_dir.glob("part-*.parquet")}
        for orphan in self.timeseries_dir.glob("part-*.parquet"):
            if orphan.name not in finished:
                orphan.unlink()
        batches = [int(name[5:11]) for name in finished]
        self._next_batch = max(batches, default=-1) + 1
        write_json(self.manifest_path, {**manifest, "store_format": FORMAT})
        table = experiment.table.copy()
        table.insert(0, "point", range(len(table)))
        table.to_csv(self.out / "design.csv", index=False)

    # ------------------------------------------------------------------ parts
    def done(self) -> set[tuple[int, int]]:
        """(point, replicate) of every finished run."""
        parts = self._parts(self.summary_dir)
        if not parts:
            return set()
        keys = ds.dataset(parts, format="parquet").to_table(columns=["point", "replicate"])
        return set(zip(keys["point"].to_pylist(), keys["replicate"].to_pylist(), strict=True))

    def add(self, output: RunOutput) -> None:
        """Buffer one finished run; write the batch when it is full or old enough."""
        if not self._buffer:
            self._buffer_started = time.monotonic()
        self._buffer.append(output)
        full = len(self._buffer) >= FLUSH_RUNS
        if full or time.monotonic() - self._buffer_started >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered runs: their time series first, then their summaries (the
        mark that they are finished)."""
        if not self._buffer:
            return
        name = _part_name(self._next_batch)
        series = [o.timeseries for o in self._buffer if o.timeseries is not None]
        if series:
            write_atomic(self.timeseries_dir / name, _table_bytes(series))
        write_atomic(self.summary_dir / name, _table_bytes([o.summary for o in self._buffer]))
        self._next_batch += 1
        self._buffer.clear()

    def _parts(self, folder: Path) -> list[str]:
        finished = {p.name for p in self.summary_dir.glob("part-*.parquet")}
        return sorted(str(p) for p in folder.glob("part-*.parquet") if p.name in finished)

    def _read(self, folder: Path, sort: list[str]) -> pd.DataFrame:
        parts = self._parts(folder)
        if not parts:
            return pd.DataFrame()
        frame = ds.dataset(parts, format="parquet").to_table().to_pandas()
        return frame.sort_values(sort, kind="stable").reset_index(drop=True)

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
            write_json(path, {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "failures": failures})
        else:
            path.unlink(missing_ok=True)
        return path
