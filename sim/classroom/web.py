"""The classroom's web app (Starlette): pages, their files, the live models, the class API.

Two modes:

- the *lesson page* alone (``python run.py app``): ``/`` is the page; every open
  page gets its own model over ``/ws/model``;
- a *class session* (``python run.py class``): students get ``/j`` (no model);
  the teacher's pages (``/teacher``, ``/lessons``) and their models need the teacher's
  key and this computer's own address (127.0.0.1).

Every request passes :class:`~.guard.Guard` (an IP address as Host, the server's own
pages as a WebSocket's Origin) and every response forbids loading anything from
another origin, so no request leaves the machine; the chart library (ECharts) is one
of the package's files (``static/vendor``). A page's socket takes text frames only: a
binary frame closes it (1003).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .claims import LessonClaims
from .class_api import JOIN_PATH, ClassRoom, RequestProblem
from .controls import CONTROLS, FIXED, full_settings
from .guard import Guard
from .lessons import FIRST_LESSON, LESSONS
from .live import FLOOR_MS, MAX_STEPS, LivePage, LivePages
from .wording import lesson_texts

__all__ = ["STATIC", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest message a page may send over its socket.
MAX_MESSAGE = 4096
#: WebSocket close code for a frame that is not text (RFC 6455: unsupported data).
UNSUPPORTED_DATA = 1003


def page_data(claims: Mapping[str, LessonClaims]) -> dict[str, Any]:
    """The lessons and controls, for the lesson page: each lesson's texts filled from its
    measured ``claims``, and its settings with the seed it opens on."""
    lessons = []
    for lesson in LESSONS.values():
        measured = claims[lesson.name]
        settings = {k: v for k, v in full_settings(lesson.settings).items() if k not in FIXED}
        settings["seed"] = measured.opening_seed()
        lessons.append(
            {
                "name": lesson.name,
                "title": lesson.title,
                "short": lesson.short,
                **lesson_texts(lesson, measured),
                "steps": lesson.steps,
                "settings": settings,
            }
        )
    return {
        "first_lesson": FIRST_LESSON,
        "floor_ms": FLOOR_MS,
        "max_steps": MAX_STEPS,
        "controls": [c.describe() for c in CONTROLS],
        "lessons": lessons,
    }


def create_app(
    classroom: ClassRoom | None = None,
    pages: LivePages | None = None,
    claims: Mapping[str, LessonClaims] | None = None,
) -> Starlette:
    """The app: the lesson page alone, or a class session when ``classroom`` is given.
    ``claims`` are the lessons' measured numbers (:func:`.measured.lesson_claims`); when
    not given they are looked up (or measured) when the page first asks for them."""
    pages = pages if pages is not None else LivePages()
    lesson_data: dict[str, Any] = {}

    async def lessons_json() -> dict[str, Any]:
        if not lesson_data:
            measured = claims
            if measured is None:
                from .measured import lesson_claims

                measured = await asyncio.to_thread(lesson_claims, quiet=True)
            lesson_data.update(page_data(measured))
        return lesson_data

    def teacher(connection: HTTPConnection) -> bool:
        return classroom is None or classroom.is_teacher(connection)

    def html(name: str) -> FileResponse:
        return FileResponse(STATIC / name, headers={"cache-control": "no-cache"})

    def forbidden() -> PlainTextResponse:
        return PlainTextResponse(
            "This page is the teacher's: open the address that `python run.py class` printed.",
            403,
        )

    async def lesson_page(request: Request) -> Any:
        if classroom is not None and request.url.path == "/":
            return RedirectResponse(JOIN_PATH)
        return html("lesson.html") if teacher(request) else forbidden()

    async def teacher_page(request: Request) -> Any:
        return html("teacher.html") if teacher(request) else forbidden()

    async def student_page(request: Request) -> Any:
        return html("student.html")

    async def lessons(request: Request) -> Any:
        if not teacher(request):
            return JSONResponse({"error": "the teacher's page only"}, 403)
        return JSONResponse(await lessons_json())

    async def status(request: Request) -> Any:
        if not teacher(request):
            return JSONResponse({"error": "the teacher's page only"}, 403)
        return JSONResponse({"open_pages": len(pages.open), "models": pages.models})

    async def qr_code(request: Request) -> Any:
        if classroom is None or not classroom.is_teacher(request):
            return PlainTextResponse("the teacher's page only", 403)
        from .qr import qr_svg

        return PlainTextResponse(qr_svg(classroom.join_url), media_type="image/svg+xml")

    async def model_socket(websocket: WebSocket) -> None:
        if not teacher(websocket):
            await websocket.close(code=1008)
            return
        bands = classroom.bands if classroom is not None else None
        page = LivePage(class_bands=bands)
        await websocket.accept()
        if not pages.admit(page):
            await websocket.send_json(
                {"type": "error", "message": "the server is full: close another page first"}
            )
            await websocket.close(code=1013)
            return
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                text = received.get("text")
                if text is None:  # a binary frame: the pages send text only
                    await websocket.close(UNSUPPORTED_DATA, "text frames only")
                    break
                if len(text) > MAX_MESSAGE:
                    reply: dict[str, Any] = {"type": "error", "message": "message too large"}
                else:
                    try:
                        message = json.loads(text)
                    except ValueError:
                        message = None
                    reply = await page.handle(message)
                await websocket.send_text(json.dumps(reply))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the page went away (closed, or stopped answering pings)
        finally:
            pages.release(page)

    routes: list[Any] = [
        Route("/", lesson_page),
        Route("/api/lessons", lessons),
        Route("/api/status", status),
        WebSocketRoute("/ws/model", model_socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if classroom is not None:
        routes += [
            Route("/lessons", lesson_page),
            Route("/teacher", teacher_page),
            Route(JOIN_PATH, student_page),
            Route("/join", student_page),  # the address before it was shortened
            Route("/api/join", _answering(classroom.join), methods=["POST"]),
            Route("/api/answer", _answering(classroom.answer), methods=["POST"]),
            Route("/api/me", _answering(classroom.me), methods=["POST"]),
            Route("/api/class", _answering(classroom.overview)),
            Route("/api/size", _answering(classroom.set_size), methods=["POST"]),
            Route("/api/remove", _answering(classroom.remove), methods=["POST"]),
            Route("/api/qr.svg", qr_code),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for page in list(pages.open):
            pages.release(page)
        if classroom is not None:
            classroom.store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(Guard)
    app.state.pages = pages
    return app


def _answering(endpoint: Any) -> Any:
    """An endpoint whose refusals (:class:`RequestProblem`) answer JSON with their status."""

    async def wrapped(request: Request) -> Any:
        try:
            return await endpoint(request)
        except RequestProblem as problem:
            return JSONResponse({"error": problem.message}, problem.status)

    return wrapped
