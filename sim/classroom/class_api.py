"""The class session's JSON endpoints: students join and answer, the teacher watches.

Students (any address that reaches the server, with the join code):

- ``POST /api/join`` ``{"code": "K7P4Q"}`` → 201 ``{"token": ..., "win": 6, "losses": [...]}``
  and a device cookie; the same device joining again gets its own token back (200);
- ``POST /api/answer`` ``{"token": ..., "answers": ["accept", ..., "reject"]}`` (six, in
  the order of the losses) → 201 ``{"consistent": true, "band": {...}}``
- ``POST /api/me`` ``{"token": ...}`` → 200 the student's own answer and band, if any.

The teacher (this computer only, with the teacher's key in ``X-Teacher-Key``):

- ``GET /api/class`` → the join code and address, the class size, joins, answers, the
  histogram and the list of answers;
- ``POST /api/size`` ``{"size": 60}`` → the class admits up to 60 students;
- ``POST /api/remove`` ``{"answer": 12}`` → answer 12 is deleted and its student can
  neither answer again nor hold a seat.

A class cannot be stuffed from one client: a session admits at most its size in
students (``run.py class --size``, 40 by default); a device that joins again (its
cookie) is the same student, and one address may add at most a class's worth of new
students per minute. Every body is a small JSON object (at most :data:`MAX_BODY`
bytes) with exactly the keys above. A malformed (400), oversized (413), non-JSON (415),
wrongly shaped (422), unknown (403) or repeated (409) request changes nothing. Wrong
join codes from one address are limited (429) so a code cannot be guessed.
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

from ..errors import InputError
from ..spec import integer
from .elicitation import LOSSES, WIN, Band, band_of, first_inconsistency, summarize
from .store import (
    RESUME_WITHIN_S,
    AlreadyAnswered,
    ClassSession,
    ClassStore,
    Removed,
    UnknownStudent,
)

__all__ = [
    "DEVICE_COOKIE",
    "JOIN_PATH",
    "MAX_BODY",
    "MAX_STUDENTS",
    "ClassRoom",
    "band_json",
    "check_size",
]

#: Largest request body accepted, in bytes (an answer is about 120).
MAX_BODY = 1024
#: Most students one session may be set to admit (bounds the file and the work).
MAX_STUDENTS = 500
#: Wrong join codes one address may send per minute.
WRONG_CODES_PER_MINUTE = 20
#: Where students join: short, to read off a projector and type on a phone.
JOIN_PATH = "/j"
#: The cookie that makes a device the same student when it joins again.
DEVICE_COOKIE = "classroom_device"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def check_size(size: Any, key: str = "size") -> int:
    """A class size: an integer in 1..:data:`MAX_STUDENTS`; :class:`InputError` if not."""
    return integer(key, size, 1, MAX_STUDENTS, InputError)


class Window:
    """Events per address over the last minute, bounded in memory whoever sends them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._times: dict[str, deque[float]] = {}

    def count(self, host: str) -> int:
        now = self.clock()
        times = self._times.get(host)
        while times and now - times[0] > 60:
            times.popleft()
        return len(times) if times else 0

    def add(self, host: str) -> None:
        if len(self._times) > 10_000 and host not in self._times:
            self._times.clear()
        self._times.setdefault(host, deque()).append(self.clock())


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
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":  # media types are case-insensitive (RFC 9110)
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
    clock: Callable[[], float] = time.monotonic
    #: wrong join codes, and new students, per address over the last minute
    _wrong: Window = field(init=False)
    _joins: Window = field(init=False)

    def __post_init__(self) -> None:
        self._wrong = Window(self.clock)
        self._joins = Window(self.clock)

    # ------------------------------------------------------------- helpers
    @property
    def size(self) -> int:
        """The most students this session admits."""
        return self.store.size(self.session)

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

    def _require_teacher(self, request: Request) -> None:
        if not self.is_teacher(request):
            raise RequestProblem(403, "the teacher's page only")

    def _check_code(self, host: str, code: Any) -> None:
        if self._wrong.count(host) >= WRONG_CODES_PER_MINUTE:
            raise RequestProblem(429, "too many wrong codes: wait a minute")
        given = code.strip().upper() if isinstance(code, str) else ""
        if not secrets.compare_digest(given.encode(), self.session.code.encode()):
            self._wrong.add(host)
            raise RequestProblem(403, "wrong join code: check it on the teacher's screen")

    def _device(self, request: Request) -> str | None:
        """The token this device was given when it joined this session, if any."""
        token = request.cookies.get(DEVICE_COOKIE, "")
        if 10 <= len(token) <= 64 and self.store.is_student(self.session, token):
            return token
        return None

    # ----------------------------------------------------------- endpoints
    async def join(self, request: Request) -> JSONResponse:
        data = await _json_body(request, {"code"})
        host = request.client.host if request.client else "?"
        self._check_code(host, data["code"])
        lottery = {"win": WIN, "losses": list(LOSSES)}
        known = self._device(request)
        if known is not None:  # this device joined before: the same student
            return JSONResponse({"token": known, **lottery, "rejoined": True}, 200)
        size = self.size
        if self.store.joined(self.session) >= size:
            raise RequestProblem(
                403, f"the class is full ({size} students): ask your teacher to make room"
            )
        if self._joins.count(host) >= size:
            raise RequestProblem(
                429, f"{size} students joined from this address in the last minute: wait a minute"
            )
        token = self.store.join(self.session)
        self._joins.add(host)
        reply = JSONResponse({"token": token, **lottery}, 201)
        reply.set_cookie(
            DEVICE_COOKIE, token, max_age=RESUME_WITHIN_S, httponly=True, samesite="strict"
        )
        return reply

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
        except Removed:
            raise RequestProblem(403, REMOVED) from None
        except AlreadyAnswered:
            raise RequestProblem(409, "you have answered already: answers are final") from None
        return JSONResponse(_own(answers), 201)

    async def me(self, request: Request) -> JSONResponse:
        data = await _json_body(request, {"token"})
        token = _token(data)
        if not self.store.is_student(self.session, token):
            raise RequestProblem(403, "unknown student: join the class first")
        if self.store.is_removed(self.session, token):
            raise RequestProblem(403, REMOVED)
        answers = self.store.own_answer(self.session, token)
        if answers is None:
            return JSONResponse({"answered": False, "win": WIN, "losses": list(LOSSES)})
        return JSONResponse(_own(answers))

    async def overview(self, request: Request) -> JSONResponse:
        """The teacher's live view of the class."""
        self._require_teacher(request)
        listed = self.store.answer_list(self.session)
        summary = summarize([choices for _, _, choices in listed])
        return JSONResponse(
            {
                **summary,
                "code": self.session.code,
                "join_url": self.join_url,
                "joined": self.store.joined(self.session),
                "size": self.size,
                "max_size": MAX_STUDENTS,
                "answer_list": [_listed(*row) for row in reversed(listed)],
            },
            headers={"cache-control": "no-store"},
        )

    async def set_size(self, request: Request) -> JSONResponse:
        """The teacher changes how many students the class admits."""
        self._require_teacher(request)
        data = await _json_body(request, {"size"})
        try:
            size = check_size(data["size"])
        except InputError as err:
            raise RequestProblem(422, str(err)) from None
        self.store.set_size(self.session, size)
        return JSONResponse({"size": size, "joined": self.store.joined(self.session)})

    async def remove(self, request: Request) -> JSONResponse:
        """The teacher removes one answer (a joke, a stuffed class)."""
        self._require_teacher(request)
        data = await _json_body(request, {"answer"})
        answer = data["answer"]
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise RequestProblem(422, f"answer = {answer!r}: expected an answer's number")
        if not self.store.remove_answer(self.session, answer):
            raise RequestProblem(404, f"answer = {answer}: no such answer in this session")
        return JSONResponse({"removed": answer, "answered": len(self.store.answers(self.session))})


REMOVED = "your teacher removed your answer: it is not counted"


def _listed(answer_id: int, answered: float, choices: list[str]) -> dict[str, Any]:
    """One answer as the teacher's list shows it (anonymous)."""
    band = band_of(choices)
    return {
        "id": answer_id,
        "time": time.strftime("%H:%M:%S", time.localtime(answered)),
        "band": band.label if band is not None else "inconsistent",
        "accepted": sum(c == "accept" for c in choices),
    }


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
