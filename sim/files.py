"""Writing results safely: every file whole or absent, a marker written last, the output
folder checked before any work, and a write that fails said in one line.

A file is written to a temporary file beside it, flushed to disk and renamed over the
target (:func:`write_atomic`), so a kill, a full disk or a permission error never leaves
it half-written; the temporary file is removed when the write fails. A set of files
that belong together (a sweep's report, a run's tables) is written by an
:class:`OutputSet`: it removes the set's marker first, writes the files, then writes
the marker listing them, so a folder without its marker holds an unfinished set, never
a mix of two. A failing write raises :class:`OutputError`, one line naming the path.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

__all__ = [
    "OutputError",
    "OutputSet",
    "save_figure",
    "set_aside",
    "writable_directory",
    "write_atomic",
    "write_failure",
    "write_json",
]


class OutputError(InputError):
    """A result could not be written: the path and why (a full disk, no permission)."""


def _why(error: OSError) -> str:
    """An OS error in words, with what to do for the usual ones."""
    text = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"{text}: free some space (or use another --out) and run the same command again"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{text}: expected a folder you may write to (--out)"
    return text


#: What SQLite (through SQLAlchemy) says when it cannot write its file.
SQLITE_WRITE_ERRORS = (
    "database or disk is full",
    "disk I/O error",
    "attempt to write a readonly database",
    "unable to open database file",
)
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS)


def write_failure(error: BaseException) -> str | None:
    """Why ``error`` (or an error it was raised from, or while handling) is a failure
    to write a file (a full disk, no permission), in words; None if it is not one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in WRITE_ERRNOS:
            return _why(current)
        text = str(current)
        for message in SQLITE_WRITE_ERRORS:
            if message in text:
                return message
        current = current.__cause__ or current.__context__
    return None


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a flushed temporary file and os.replace: the file
    is either whole or absent. A failure removes the temporary file and raises
    :class:`OutputError` naming ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OutputError(str(path), reason=f"cannot write: {_why(error)}") from None


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write a manifest (or any JSON record) atomically; returns the path."""
    write_atomic(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())
    return Path(path)


def save_figure(fig: Any, path: str | Path, **options: Any) -> Path:
    """``fig.savefig(path, **options)``, written whole or not at all."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **options)
    write_atomic(path, buffer.getvalue())
    return Path(path)


def writable_directory(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as a folder that exists and takes files: created if missing, tried with a
    small file. Otherwise an :class:`OutputError` naming ``flag`` and the path, before any
    work is done."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(flag, str(path), "a folder (this is a file)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputError(flag, str(path), reason=f"cannot write there: {_why(error)}") from None
    return path


def set_aside(path: Path, suffix: str = "damaged") -> Path:
    """Rename a damaged file to ``NAME.SUFFIX`` (``.SUFFIX.1`` ... if taken) and return the
    new path: kept for inspection, no longer read."""
    target = path.with_name(f"{path.name}.{suffix}")
    count = 0
    while target.exists():
        count += 1
        target = path.with_name(f"{path.name}.{suffix}.{count}")
    try:
        os.replace(path, target)
    except OSError as error:
        raise OutputError(
            str(path), reason=f"cannot set the damaged file aside: {_why(error)}"
        ) from None
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OutputSet:
    """Files that belong together in ``directory``, and ``marker`` written last.

    Opening the set removes the marker (the folder is now incomplete); each file is
    written whole; :meth:`finish` removes the files the previous set listed that this
    one did not write, then writes the marker: the files' names, sizes and SHA-256,
    with ``record``. A folder without its marker holds an unfinished set.
    """

    def __init__(self, directory: str | Path, marker: str) -> None:
        self.directory = Path(directory)
        self.marker = self.directory / marker
        self.previous = _listed(self.marker)
        try:
            self.marker.unlink(missing_ok=True)
        except OSError as error:
            raise OutputError(str(self.marker), reason=f"cannot remove: {_why(error)}") from None
        self.files: list[str] = []

    def path(self, name: str) -> Path:
        """Where file ``name`` goes; it counts as part of the set."""
        if name not in self.files:
            self.files.append(name)
        return self.directory / name

    def bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` as file ``name``."""
        path = self.path(name)
        write_atomic(path, data)
        return path

    def text(self, name: str, text: str) -> Path:
        """Write ``text`` (UTF-8) as file ``name``."""
        return self.bytes(name, text.encode("utf-8"))

    def csv(self, name: str, frame: pd.DataFrame, **options: Any) -> Path:
        """Write ``frame`` as CSV (no index unless asked)."""
        options.setdefault("index", False)
        return self.text(name, frame.to_csv(**options))

    def parquet(self, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as Parquet (no index)."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return self.bytes(name, buffer.getvalue())

    def add(self, *paths: Path | None) -> None:
        """Count files written by others (figures) in the set."""
        for path in paths:
            if path is not None:
                self.path(Path(path).name)

    def finish(self, record: dict[str, Any] | None = None) -> Path:
        """Remove the previous set's files not written again, then write the marker."""
        for name in self.previous:
            if name not in self.files:
                (self.directory / name).unlink(missing_ok=True)
        files = {
            name: {"bytes": (self.directory / name).stat().st_size, "sha256": _sha256(p)}
            for name in self.files
            if (p := self.directory / name).is_file()
        }
        payload = {
            "complete": True,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **(record or {}),
            "files": files,
        }
        return write_json(self.marker, payload)


def _listed(marker: Path) -> list[str]:
    """Files a marker lists (none if it is missing or unreadable)."""
    try:
        files = json.loads(marker.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in files if isinstance(name, str) and "/" not in name]
