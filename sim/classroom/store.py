"""A class session's joins and answers in SQLite, written as they arrive.

Every join and every answer is committed before it is acknowledged (WAL journal,
``synchronous=FULL``), so a server stopped mid-session and started again on the same
file has lost nothing: the same join code, the same students, the same answers.
Students are known only by a random token, stored as its SHA-256 hash; the file holds
no name and no address. Each session has a size (the most students it admits), which
the teacher may change while it runs. The teacher may remove an answer: it is deleted,
and its student can neither answer again nor take a seat. :meth:`ClassStore.export_csv`
writes the anonymous answers.
"""

from __future__ import annotations

import csv
import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .elicitation import LOSSES, band_of

__all__ = [
    "DEFAULT_SIZE",
    "AlreadyAnswered",
    "ClassSession",
    "ClassStore",
    "Removed",
    "UnknownStudent",
    "new_code",
]

#: Join codes: no 0/O, 1/I/L, easy to read off a projector and type on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5
#: A session started less than this long ago is resumed (a school day).
RESUME_WITHIN_S = 12 * 3600
#: Students a session admits unless told otherwise.
DEFAULT_SIZE = 40

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    teacher_key TEXT NOT NULL,
    started REAL NOT NULL,
    size INTEGER NOT NULL DEFAULT 40
);
CREATE TABLE IF NOT EXISTS students (
    token_hash TEXT PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    joined REAL NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS answers (
    token_hash TEXT PRIMARY KEY REFERENCES students(token_hash),
    session INTEGER NOT NULL REFERENCES sessions(id),
    answered REAL NOT NULL,
    choices TEXT NOT NULL
);
"""


class UnknownStudent(LookupError):
    """No student of this session has this token."""


class AlreadyAnswered(LookupError):
    """This student has answered already; answers are final."""


class Removed(LookupError):
    """The teacher removed this student's answer: they cannot answer again."""


def new_code() -> str:
    """A random join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ClassSession:
    """One class session: its join code, the teacher's key and when it started."""

    id: int
    code: str
    teacher_key: str
    started: float


class ClassStore:
    """The SQLite file of class sessions (one connection, used from one thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A file written by an older version lacks the size and removed columns."""
        for table, column, kind in (
            ("sessions", "size", f"INTEGER NOT NULL DEFAULT {DEFAULT_SIZE}"),
            ("students", "removed", "INTEGER NOT NULL DEFAULT 0"),
        ):
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self._db.close()

    # --------------------------------------------------------------- sessions
    def open_session(self, *, new: bool = False, now: float | None = None) -> ClassSession:
        """The latest session if it started within a school day (unless ``new``), else a
        new one with a fresh join code and teacher key."""
        now = time.time() if now is None else now
        latest = self.latest_session()
        if latest is not None and not new and now - latest.started < RESUME_WITHIN_S:
            return latest
        while True:
            code = new_code()
            try:
                self._db.execute(
                    "INSERT INTO sessions (code, teacher_key, started) VALUES (?, ?, ?)",
                    (code, secrets.token_urlsafe(16), now),
                )
            except sqlite3.IntegrityError:  # the code was used before: draw again
                continue
            latest = self.latest_session()
            assert latest is not None
            return latest

    def latest_session(self) -> ClassSession | None:
        row = self._db.execute(
            "SELECT id, code, teacher_key, started FROM sessions ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return ClassSession(*row) if row else None

    # --------------------------------------------------------------- students
    def join(self, session: ClassSession) -> str:
        """A new student of ``session``: their secret token."""
        token = secrets.token_urlsafe(16)
        self._db.execute(
            "INSERT INTO students (token_hash, session, joined) VALUES (?, ?, ?)",
            (_hash(token), session.id, time.time()),
        )
        return token

    def _student(self, session: ClassSession, token: str) -> tuple[int] | None:
        return self._db.execute(
            "SELECT removed FROM students WHERE token_hash = ? AND session = ?",
            (_hash(token), session.id),
        ).fetchone()

    def is_student(self, session: ClassSession, token: str) -> bool:
        """Whether ``token`` joined ``session`` (removed or not)."""
        return self._student(session, token) is not None

    def is_removed(self, session: ClassSession, token: str) -> bool:
        row = self._student(session, token)
        return row is not None and bool(row[0])

    def answer(self, session: ClassSession, token: str, choices: list[str]) -> None:
        """Store a student's six choices; raises :class:`UnknownStudent`,
        :class:`Removed` or :class:`AlreadyAnswered` and then stores nothing."""
        band_of(choices)  # raises on anything but six accept/reject
        row = self._student(session, token)
        if row is None:
            raise UnknownStudent(token)
        if row[0]:
            raise Removed(token)
        try:
            self._db.execute(
                "INSERT INTO answers (token_hash, session, answered, choices) VALUES (?, ?, ?, ?)",
                (_hash(token), session.id, time.time(), ",".join(choices)),
            )
        except sqlite3.IntegrityError:
            raise AlreadyAnswered(token) from None

    def own_answer(self, session: ClassSession, token: str) -> list[str] | None:
        """The student's own choices, or None before they answer."""
        row = self._db.execute(
            "SELECT choices FROM answers WHERE token_hash = ? AND session = ?",
            (_hash(token), session.id),
        ).fetchone()
        return row[0].split(",") if row else None

    # ------------------------------------------------------------------ class
    def joined(self, session: ClassSession) -> int:
        """Students who joined, less those whose answer the teacher removed."""
        return self._db.execute(
            "SELECT COUNT(*) FROM students WHERE session = ? AND removed = 0", (session.id,)
        ).fetchone()[0]

    def size(self, session: ClassSession) -> int:
        """The most students the session admits."""
        return self._db.execute("SELECT size FROM sessions WHERE id = ?", (session.id,)).fetchone()[
            0
        ]

    def set_size(self, session: ClassSession, size: int) -> None:
        self._db.execute("UPDATE sessions SET size = ? WHERE id = ?", (int(size), session.id))

    def answer_list(self, session: ClassSession) -> list[tuple[int, float, list[str]]]:
        """(id, time, choices) of every answer of the session, in the order they came."""
        rows = self._db.execute(
            "SELECT rowid, answered, choices FROM answers WHERE session = ? "
            "ORDER BY answered, rowid",
            (session.id,),
        ).fetchall()
        return [(row[0], row[1], row[2].split(",")) for row in rows]

    def remove_answer(self, session: ClassSession, answer_id: int) -> bool:
        """Delete answer ``answer_id`` of the session; its student can no longer answer or
        hold a seat. False when the session has no such answer."""
        row = self._db.execute(
            "SELECT token_hash FROM answers WHERE rowid = ? AND session = ?",
            (answer_id, session.id),
        ).fetchone()
        if row is None:
            return False
        with self._db:  # both or neither
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM answers WHERE rowid = ?", (answer_id,))
            self._db.execute("UPDATE students SET removed = 1 WHERE token_hash = ?", (row[0],))
        return True

    def answers(self, session: ClassSession) -> list[list[str]]:
        """Every answer of the session, in the order they came."""
        rows = self._db.execute(
            "SELECT choices FROM answers WHERE session = ? ORDER BY answered, rowid", (session.id,)
        ).fetchall()
        return [row[0].split(",") for row in rows]

    def export_csv(self, path: str | Path, session: ClassSession | None = None) -> int:
        """Write every answer of ``session`` (default: of every session) as CSV (no token,
        no address); the count."""
        where, args = ("WHERE a.session = ? ", (session.id,)) if session else ("", ())
        rows = self._db.execute(
            "SELECT s.started, a.answered, a.choices FROM answers a "
            f"JOIN sessions s ON s.id = a.session {where}ORDER BY s.id, a.answered, a.rowid",
            args,
        ).fetchall()
        header = [
            "session_started",
            "answered",
            *[f"win6_lose{loss:g}" for loss in LOSSES],
            "consistent",
            "lambda_low",
            "lambda_high",
        ]
        with Path(path).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for started, answered, choices in rows:
                chosen = choices.split(",")
                band = band_of(chosen)
                writer.writerow(
                    [
                        _iso(started),
                        _iso(answered),
                        *chosen,
                        band is not None,
                        "" if band is None or band.open_low else f"{band.low:.4g}",
                        "" if band is None or band.open_high else f"{band.high:.4g}",
                    ]
                )
        return len(rows)


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(stamp))
