"""The classroom's web app (Starlette): pages, their files, the live models, the class API.

Two modes:

- the *lesson page* alone (``python run.py app``): ``/`` is the page; every open
  page gets its own model over ``/ws/model``;
- a *class session* (``python run.py class``): students get ``/join`` (no model);
  the teacher's pages (``/teacher``, ``/lessons``) and their models need the teacher's
  key and this computer's own address (127.0.0.1).

Every response forbids loading anything from another origin (Content-Security-Policy),
so no request leaves the machine; the chart library (ECharts) is one of the package's
files (``static/vendor``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from .class_api import ClassRoom, RequestProblem
from .controls import CONTROLS, FIXED, full_settings
from .lessons import FIRST_LESSON, LESSONS
from .live import FLOOR_MS, MAX_STEPS, LivePage, LivePages

__all__ = ["STATIC", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest message a page may send over its socket.
MAX_MESSAGE = 4096
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def page_data() -> dict[str, Any]:
    """The lessons and controls, for the lesson page."""
    return {
        "first_lesson": FIRST_LESSON,
        "floor_ms": FLOOR_MS,
        "max_steps": MAX_STEPS,
        "controls": [c.describe() for c in CONTROLS],
        "lessons": [
            {
                "name": lesson.name,
                "title": lesson.title,
                "short": lesson.short,
                "paragraph": lesson.paragraph,
                "notice": lesson.notice,
                "try": lesson.try_this,
                "ask": lesson.ask,
                "steps": lesson.steps,
                "settings": {
                    k: v for k, v in full_settings(lesson.settings).items() if k not in FIXED
                },
            }
            for lesson in LESSONS.values()
        ],
    }


def create_app(classroom: ClassRoom | None = None, pages: LivePages | None = None) -> Starlette:
    """The app: the lesson page alone, or a class session when ``classroom`` is given."""
    pages = pages if pages is not None else LivePages()

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
            return RedirectResponse("/join")
        return html("lesson.html") if teacher(request) else forbidden()

    async def teacher_page(request: Request) -> Any:
        return html("teacher.html") if teacher(request) else forbidden()

    async def student_page(request: Request) -> Any:
        return html("student.html")

    async def lessons(request: Request) -> Any:
        if not teacher(request):
            return JSONResponse({"error": "the teacher's page only"}, 403)
        return JSONResponse(page_data())

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
                text = await websocket.receive_text()
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
            Route("/join", student_page),
            Route("/api/join", _answering(classroom.join), methods=["POST"]),
            Route("/api/answer", _answering(classroom.answer), methods=["POST"]),
            Route("/api/me", _answering(classroom.me), methods=["POST"]),
            Route("/api/class", _answering(classroom.overview)),
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
    app.add_middleware(SecurityHeaders)
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
