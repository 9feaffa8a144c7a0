"""The class session's JSON endpoints: students join and answer, the teacher watches.

Students (any address that reaches the server, with the join code):

- ``POST /api/join`` ``{"code": "K7P4Q"}`` → 201 ``{"token": ..., "win": 6, "losses": [...]}``
- ``POST /api/answer`` ``{"token": ..., "answers": ["accept", ..., "reject"]}`` (six, in
  the order of the losses) → 201 ``{"consistent": true, "band": {...}}``
- ``POST /api/me`` ``{"token": ...}`` → 200 the student's own answer and band, if any.

The teacher (this computer only, with the teacher's key in ``X-Teacher-Key``):

- ``GET /api/class`` → the join code and address, joins, answers, the histogram.

Every body is a small JSON object (at most :data:`MAX_BODY` bytes) with exactly the
keys above. A malformed (400), oversized (413), non-JSON (415), wrongly shaped (422),
unknown (403) or repeated (409) request changes nothing. Wrong join codes from one
address are limited (429) so a code cannot be guessed.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from .elicitation import LOSSES, WIN, Band, band_of, first_inconsistency, summarize
from .store import AlreadyAnswered, ClassSession, ClassStore, UnknownStudent

__all__ = ["MAX_BODY", "MAX_STUDENTS", "ClassRoom", "band_json"]

#: Largest request body accepted, in bytes (an answer is about 120).
MAX_BODY = 1024
#: Most students one session admits (bounds the file and the work).
MAX_STUDENTS = 500
#: Wrong join codes one address may send per minute.
WRONG_CODES_PER_MINUTE = 20
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class RequestProblem(Exception):
    """A request that is refused: its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def band_json(band: Band | None) -> dict[str, Any] | None:
    if band is None:
        return None
    low, high = band.closed
    return {
        "label": band.label,
        "low": None if band.open_low else band.low,
        "high": None if band.open_high else band.high,
        "midpoint": round(band.midpoint, 3),
        "accepted": band.accepted,
        "drawn_from": [round(low, 3), round(high, 3)],
    }


async def _json_body(request: Request, keys: set[str]) -> dict[str, Any]:
    """The request's JSON object with exactly ``keys``, or a :class:`RequestProblem`."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise RequestProblem(415, "send the body as application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise RequestProblem(413, f"the body is larger than {MAX_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise RequestProblem(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestProblem(400, "the body is not valid JSON") from None
    if not isinstance(data, dict) or set(data) != keys:
        raise RequestProblem(400, f"expected a JSON object with the keys {sorted(keys)}")
    return data


def _token(data: dict[str, Any]) -> str:
    token = data["token"]
    if not isinstance(token, str) or not 10 <= len(token) <= 64:
        raise RequestProblem(403, "unknown student: join the class first")
    return token


@dataclass
class ClassRoom:
    """A running class session: its store, its session and where students join."""

    store: ClassStore
    session: ClassSession
    join_url: str
    #: addresses the teacher's page may be opened from: this computer's
    teacher_hosts: frozenset[str] = LOOPBACK
    #: wrong join codes per address: times of the last minute
    _wrong: dict[str, deque[float]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    # ------------------------------------------------------------- helpers
    def bands(self) -> list[Band]:
        """The band of every consistent answer so far."""
        bands = (band_of(a) for a in self.store.answers(self.session))
        return [b for b in bands if b is not None]

    def is_teacher(self, request: HTTPConnection) -> bool:
        """The teacher's key, from this computer (header or ``key`` query parameter)."""
        key = request.headers.get("x-teacher-key") or request.query_params.get("key") or ""
        host = request.client.host if request.client else ""
        return host in self.teacher_hosts and secrets.compare_digest(
            key.encode(), self.session.teacher_key.encode()
        )

    def _check_code(self, request: Request, code: Any) -> None:
        host = request.client.host if request.client else "?"
        now = self.clock()
        wrong = self._wrong.setdefault(host, deque())
        while wrong and now - wrong[0] > 60:
            wrong.popleft()
        if len(wrong) >= WRONG_CODES_PER_MINUTE:
            raise RequestProblem(429, "too many wrong codes: wait a minute")
        given = code.strip().upper() if isinstance(code, str) else ""
        if not secrets.compare_digest(given.encode(), self.session.code.encode()):
            wrong.append(now)
            if len(self._wrong) > 10_000:  # bounded, whoever sends wrong codes
                self._wrong = {host: wrong}
            raise RequestProblem(403, "wrong join code: check it on the teacher's screen")

    # ----------------------------------------------------------- endpoints
    async def join(self, request: Request) -> JSONResponse:
        data = await _json_body(request, {"code"})
        self._check_code(request, data["code"])
        if self.store.joined(self.session) >= MAX_STUDENTS:
            raise RequestProblem(403, f"the class is full ({MAX_STUDENTS} students)")
        token = self.store.join(self.session)
        return JSONResponse({"token": token, "win": WIN, "losses": list(LOSSES)}, 201)

    async def answer(self, request: Request) -> JSONResponse:
        data = await _json_body(request, {"token", "answers"})
        token, answers = _token(data), data["answers"]
        if (
            not isinstance(answers, list)
            or len(answers) != len(LOSSES)
            or any(a not in ("accept", "reject") for a in answers)
        ):
            raise RequestProblem(422, f"answers: expected {len(LOSSES)} of 'accept' or 'reject'")
        try:
            self.store.answer(self.session, token, answers)
        except UnknownStudent:
            raise RequestProblem(403, "unknown student: join the class first") from None
        except AlreadyAnswered:
            raise RequestProblem(409, "you have answered already: answers are final") from None
        return JSONResponse(_own(answers), 201)

    async def me(self, request: Request) -> JSONResponse:
        data = await _json_body(request, {"token"})
        token = _token(data)
        if not self.store.is_student(self.session, token):
            raise RequestProblem(403, "unknown student: join the class first")
        answers = self.store.own_answer(self.session, token)
        if answers is None:
            return JSONResponse({"answered": False, "win": WIN, "losses": list(LOSSES)})
        return JSONResponse(_own(answers))

    async def overview(self, request: Request) -> JSONResponse:
        """The teacher's live view of the class."""
        if not self.is_teacher(request):
            raise RequestProblem(403, "the teacher's page only")
        summary = summarize(self.store.answers(self.session))
        return JSONResponse(
            {
                **summary,
                "code": self.session.code,
                "join_url": self.join_url,
                "joined": self.store.joined(self.session),
            },
            headers={"cache-control": "no-store"},
        )


def _own(answers: list[str]) -> dict[str, Any]:
    """What a student sees of their own answer."""
    band = band_of(answers)
    clash = first_inconsistency(answers)
    return {
        "answered": True,
        "answers": answers,
        "consistent": band is not None,
        "band": band_json(band),
        "inconsistency": None if clash is None else [LOSSES[clash[0]], LOSSES[clash[1]]],
    }
