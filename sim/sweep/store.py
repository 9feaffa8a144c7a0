"""The results store: finished runs in Parquet parts, each run checked against the design.

Layout of ``OUT/``::

    manifest.json                     experiment, design table, seed rule, versions, fingerprint
    design.csv                        the design table (point, factor values)
    runs/timeseries/part-NNNNNN.parquet   kept observables per step of a batch of runs
    runs/summary/part-NNNNNN.parquet      per-firm summaries of the same runs (written last)

Finished runs are buffered and written together, a part per batch (every
:data:`FLUSH_RUNS` runs or :data:`FLUSH_SECONDS` seconds, and when the sweep stops,
Ctrl-C included), so the cost of a write is shared by many runs. Every part is written
whole or not at all (:func:`sim.files.write_atomic`).

**Stored runs are the truth, and they are checked.** Every row carries its run's
point, replicate, seed, factor values and ``design_key`` (a digest of the point's model
parameters, firms, steps and kept observables). Whenever the store is read, every part
is read on its own and every run checked against the design it is read for, by key:

- a part that cannot be read (truncated, empty, not Parquet, columns missing) is set
  aside as ``NAME.damaged``, said in one line, and its runs are run again;
- a run whose point, replicate, seed, factor values or design key differ from what the
  design gives that (point, replicate) is refused (:class:`StoreError`, one line naming
  the part, the run and the difference), with or without a manifest;
- a run stored twice (a part copied under another name) counts once;
- a run is finished when its summary and, if the experiment keeps time series, its
  time series are both stored; a run missing either is run again.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..files import OutputError, set_aside, write_atomic, write_json
from ..provenance import digest
from .experiment import ExperimentError, plain

if TYPE_CHECKING:  # pragma: no cover
    from ..outputs import RunOutput
    from .experiment import Experiment

__all__ = ["DESIGN_KEY", "FORMAT", "RunStore", "StoreError", "design_key"]

#: Version of this layout, recorded in the manifest.
FORMAT = 3
#: A batch is written after this many runs ...
FLUSH_RUNS = 64
#: ... or this many seconds after its first run, whichever comes first.
FLUSH_SECONDS = 1.0
#: The column that ties a stored run to its design point's parameters.
DESIGN_KEY = "design_key"
#: Columns every part must have.
LABELS = ("point", "replicate", "seed", DESIGN_KEY)
PART = re.compile(r"part-(\d+)\.parquet")
#: Fields of a manifest named when a folder holds another experiment.
COMPARED = ("experiment", "design_table", "replicates", "steps", "seed", "keep", "base_scenario")


class StoreError(ExperimentError):
    """The output folder holds results of a different experiment."""


def design_key(experiment: Experiment, point: int) -> str:
    """Digest of what a run of ``point`` depends on besides its seed: the point's model
    parameters, firms and strategies, the steps and the kept observables."""
    design = experiment.points[point]
    content = {
        "params": design.params,
        "firms": design.firms,
        "strategies": design.strategies,
        "steps": experiment.steps,
        "keep": list(experiment.keep),
    }
    return digest(content)[:16]


def _part_name(batch: int) -> str:
    return f"part-{batch:06d}.parquet"


def _table_bytes(frames: list[pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    frame = pd.concat(frames, ignore_index=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _run_keys(frame: pd.DataFrame) -> np.ndarray:
    """One integer per (point, replicate)."""
    return frame["point"].to_numpy(np.int64) * (1 << 32) + frame["replicate"].to_numpy(np.int64)


def note(text: str) -> None:
    """A line about the store for the person running the sweep (stderr)."""
    print(f"store: {text}", file=sys.stderr)


class RunStore:
    """Batches of finished runs of ``experiment`` as Parquet parts under ``out/runs``,
    plus ``manifest.json``; every read checks the runs against the experiment."""

    def __init__(self, out: str | Path, experiment: Experiment) -> None:
        self.out = Path(out)
        self.experiment = experiment
        self.summary_dir = self.out / "runs" / "summary"
        self.timeseries_dir = self.out / "runs" / "timeseries"
        self.manifest_path = self.out / "manifest.json"
        self.keeps_series = experiment.keep != ()
        self._buffer: list[RunOutput] = []
        self._buffer_started = 0.0
        self._next_batch = 0
        self._keys = [design_key(experiment, p) for p in range(experiment.n_points)]
        self._seeds: dict[tuple[int, int], int] = {}

    # ------------------------------------------------------------------ setup
    def prepare(self, manifest: dict[str, Any]) -> set[tuple[int, int]]:
        """Create the folders, check what they hold, write the manifest; returns the
        (point, replicate) of every finished run. Results of another experiment are
        refused before anything is written."""
        self._check_manifest(manifest)
        for folder in (self.summary_dir, self.timeseries_dir):
            folder.mkdir(parents=True, exist_ok=True)
        for folder in (self.out, self.summary_dir, self.timeseries_dir):
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        done = self.done()  # checks every stored run against this experiment
        numbers = [
            int(m.group(1)) for p in self.summary_dir.iterdir() if (m := PART.fullmatch(p.name))
        ]
        self._next_batch = max(numbers, default=-1) + 1
        write_json(self.manifest_path, {**manifest, "store_format": FORMAT})
        table = self.experiment.table.copy()
        table.insert(0, "point", range(len(table)))
        write_atomic(self.out / "design.csv", table.to_csv(index=False).encode())
        return done

    def check(self, manifest: dict[str, Any]) -> None:
        """Refuse a folder holding another experiment's results, writing nothing (see
        :meth:`prepare`, which checks the same before it writes)."""
        self._check_manifest(manifest)
        if self.summary_dir.is_dir():
            self.done()

    def _check_manifest(self, manifest: dict[str, Any]) -> None:
        """Refuse a folder whose manifest names another experiment; set an unreadable
        manifest aside (the runs are checked one by one instead)."""
        if not self.manifest_path.is_file():
            return
        try:
            old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            moved = set_aside(self.manifest_path)
            note(
                f"{self.manifest_path} is unreadable ({type(error).__name__}); set aside as "
                f"{moved.name}; the stored runs are checked against the experiment one by one"
            )
            return
        if old.get("store_format") == FORMAT and old.get("fingerprint") == manifest["fingerprint"]:
            manifest["created"] = old.get("created", manifest["created"])
            return
        differing = [
            k
            for k in COMPARED
            if old.get(k) != json.loads(json.dumps(manifest.get(k), default=str))
        ]
        if old.get("store_format") != FORMAT:
            differing.insert(0, f"store format {old.get('store_format')} (now {FORMAT})")
        raise StoreError(
            str(self.out),
            reason="holds results of a different experiment, size or store format "
            f"({old.get('experiment')!r}, {old.get('describe', '?')}; differing: "
            f"{', '.join(differing) or 'the scenario'}); use another --out or delete the folder",
        )

    # ------------------------------------------------------------------ reads
    def _read(self, folder: Path, labels_only: bool) -> pd.DataFrame:
        """Rows of every readable part (only the label and factor columns if
        ``labels_only``), checked against the design, each run once (from the first part
        holding it); an unreadable part is set aside."""
        frames = []
        names = folder.iterdir() if folder.is_dir() else iter(())
        for path in sorted(p for p in names if PART.fullmatch(p.name)):
            try:
                names = pq.read_schema(path).names
                missing = [c for c in LABELS if c not in names]
                if missing:
                    raise ValueError(f"no column {', '.join(missing)}")
                wanted = {*LABELS, *self.experiment.factor_names}
                columns = [c for c in names if c in wanted] if labels_only else None
                frame = pq.read_table(path, columns=columns).to_pandas()
            except (pa.ArrowException, OSError, ValueError) as error:
                moved = set_aside(path)
                text = str(error).splitlines()[0][:120] if str(error) else ""
                note(
                    f"{path} is unreadable ({type(error).__name__}: {text}); set aside as "
                    f"{moved.name}; its runs will run again"
                )
                continue
            self._check(frame, path)
            frames.append(frame)
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="int64") for c in ("point", "replicate")})
        frame = pd.concat(frames, ignore_index=True)
        order = np.concatenate([np.full(len(f), i) for i, f in enumerate(frames)])
        first = pd.Series(order).groupby(_run_keys(frame)).transform("min").to_numpy()
        return frame[order == first].reset_index(drop=True)

    def _check(self, frame: pd.DataFrame, path: Path) -> None:
        """Every run of a part against the design: by (point, replicate), its seed,
        factor values and design key. A difference is a :class:`StoreError`."""
        experiment = self.experiment
        runs = frame.drop_duplicates(["point", "replicate"])
        points = runs["point"].to_numpy(np.int64)
        replicates = runs["replicate"].to_numpy(np.int64)
        where = f"{path.relative_to(self.out)} holds run (point {{p}}, replicate {{r}})"

        def refuse(i: int, what: str) -> StoreError:
            head = where.format(p=points[i], r=replicates[i])
            return StoreError(
                str(self.out),
                reason=f"{head} {what}: it belongs to another design; use another --out or "
                "delete the folder",
            )

        bad = np.flatnonzero((points < 0) | (points >= experiment.n_points))
        if bad.size:
            raise refuse(bad[0], f"but this experiment has {experiment.n_points} points")
        bad = np.flatnonzero((replicates < 0) | (replicates >= experiment.replicates))
        if bad.size:
            raise refuse(
                bad[0],
                f"but this experiment gives a point {experiment.replicates} replicates at most",
            )
        seeds = runs["seed"].to_numpy()
        for i, (p, r) in enumerate(zip(points.tolist(), replicates.tolist(), strict=True)):
            expected = self._seed(p, r)
            if int(seeds[i]) != expected:
                raise refuse(
                    i, f"with seed {int(seeds[i])}, but this experiment gives it seed {expected}"
                )
        for name in experiment.factor_names:
            if name not in runs:
                raise refuse(0, f"without a value of factor {name!r}")
            stored = runs[name].to_numpy()
            expected = experiment.table[name].to_numpy()[points]
            same = np.array(
                [_same(a, b) for a, b in zip(stored, expected, strict=True)], dtype=bool
            )
            if not same.all():
                i = int(np.flatnonzero(~same)[0])
                raise refuse(
                    i,
                    f"with {name} = {plain(stored[i])!r}, but this experiment's point "
                    f"{points[i]} has {name} = {plain(expected[i])!r}",
                )
        keys = runs[DESIGN_KEY].to_numpy()
        expected_keys = np.asarray(self._keys, dtype=object)[points]
        bad = np.flatnonzero(keys != expected_keys)
        if bad.size:
            i = int(bad[0])
            raise refuse(
                i,
                "made with other model parameters, steps or kept observables than this "
                f"experiment's point {points[i]} (design key {keys[i]}, expected "
                f"{expected_keys[i]})",
            )

    def _seed(self, point: int, replicate: int) -> int:
        key = (point, replicate)
        if key not in self._seeds:
            self._seeds[key] = self.experiment.run_seed(point, replicate)
        return self._seeds[key]

    def _finished(self) -> np.ndarray:
        """Run keys of every finished run (summary and, if kept, time series stored)."""
        keys = np.unique(_run_keys(self._read(self.summary_dir, labels_only=True)))
        if self.keeps_series:
            series = np.unique(_run_keys(self._read(self.timeseries_dir, labels_only=True)))
            keys = np.intersect1d(keys, series, assume_unique=True)
        return keys

    def done(self) -> set[tuple[int, int]]:
        """(point, replicate) of every finished run."""
        keys = self._finished()
        return set(zip((keys >> 32).tolist(), (keys & 0xFFFFFFFF).tolist(), strict=True))

    def _complete(self, folder: Path, sort: list[str]) -> pd.DataFrame:
        frame = self._read(folder, labels_only=False)
        if frame.empty:
            return pd.DataFrame()
        frame = frame[np.isin(_run_keys(frame), self._finished())]
        frame = frame.drop(columns=[DESIGN_KEY])
        return frame.sort_values(sort, kind="stable").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Per-firm summaries of every finished run, each run once."""
        return self._complete(self.summary_dir, ["point", "replicate", "firm_index"])

    def timeseries(self) -> pd.DataFrame:
        """Kept observables of every finished run, each run once."""
        if not self.keeps_series:
            return pd.DataFrame()
        return self._complete(self.timeseries_dir, ["point", "replicate", "step"])

    def manifest(self) -> dict[str, Any]:
        """The stored manifest."""
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    # ------------------------------------------------------------------ writes
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
        mark that they are finished). If a write fails the batch is dropped (its runs
        run again on resume) and an :class:`~sim.files.OutputError` names the path."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        name = _part_name(self._next_batch)

        def keyed(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(**{DESIGN_KEY: [self._keys[p] for p in frame["point"]]})

        try:
            series = [keyed(o.timeseries) for o in batch if o.timeseries is not None]
            if series:
                write_atomic(self.timeseries_dir / name, _table_bytes(series))
            write_atomic(self.summary_dir / name, _table_bytes([keyed(o.summary) for o in batch]))
        except OutputError as error:
            raise OutputError(
                error.key,
                reason=f"{error.reason} ({len(batch)} finished runs were not saved; they "
                "will run again)",
            ) from None
        self._next_batch += 1

    def write_failures(self, failures: list[dict[str, Any]]) -> Path:
        """Record runs that kept failing (or remove the record when there are none)."""
        path = self.out / "failures.json"
        if failures:
            write_json(path, {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "failures": failures})
        else:
            path.unlink(missing_ok=True)
        return path


def _same(stored: Any, expected: Any) -> bool:
    """A stored factor value equals the design's (numbers by value, NaN equal to NaN)."""
    if isinstance(stored, float | np.floating) and isinstance(expected, float | np.floating | int):
        return bool(stored == expected or (np.isnan(stored) and np.isnan(float(expected))))
    return bool(stored == expected)
