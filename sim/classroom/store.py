"""A class session's joins and answers in SQLite, written as they arrive.

Every join and every answer is committed before it is acknowledged (WAL journal,
``synchronous=FULL``), so a server stopped mid-session and started again on the same
file has lost nothing: the same join code, the same students, the same answers.
Students are known only by a random token, stored as its SHA-256 hash; the file holds
no name and no address. :meth:`ClassStore.export_csv` writes the anonymous answers.
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

__all__ = ["AlreadyAnswered", "ClassSession", "ClassStore", "UnknownStudent", "new_code"]

#: Join codes: no 0/O, 1/I/L, easy to read off a projector and type on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5
#: A session started less than this long ago is resumed (a school day).
RESUME_WITHIN_S = 12 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    teacher_key TEXT NOT NULL,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS students (
    token_hash TEXT PRIMARY KEY,
    session INTEGER NOT NULL REFERENCES sessions(id),
    joined REAL NOT NULL
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

    def is_student(self, session: ClassSession, token: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM students WHERE token_hash = ? AND session = ?",
            (_hash(token), session.id),
        ).fetchone()
        return row is not None

    def answer(self, session: ClassSession, token: str, choices: list[str]) -> None:
        """Store a student's six choices; raises :class:`UnknownStudent` or
        :class:`AlreadyAnswered` and then stores nothing."""
        band_of(choices)  # raises on anything but six accept/reject
        if not self.is_student(session, token):
            raise UnknownStudent(token)
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
        return self._db.execute(
            "SELECT COUNT(*) FROM students WHERE session = ?", (session.id,)
        ).fetchone()[0]

    def answers(self, session: ClassSession) -> list[list[str]]:
        """Every answer of the session, in the order they came."""
        rows = self._db.execute(
            "SELECT choices FROM answers WHERE session = ? ORDER BY answered, rowid", (session.id,)
        ).fetchall()
        return [row[0].split(",") for row in rows]

    def export_csv(self, path: str | Path) -> int:
        """Write every answer of every session as CSV (no token, no address); the count."""
        rows = self._db.execute(
            "SELECT s.started, a.answered, a.choices FROM answers a "
            "JOIN sessions s ON s.id = a.session ORDER BY s.id, a.answered, a.rowid"
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
