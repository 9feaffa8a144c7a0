"""What every request to the classroom's server must satisfy, and what every answer carries.

- **Host**: the address the browser asked for must be an IP address or ``localhost``,
  never another name. A web page elsewhere cannot then point a name of its own at this
  computer (DNS rebinding) and read its pages as if they were its own.
- **Origin** (WebSockets): a page may open a socket to this server only if it was
  served by it (same origin). Browsers always send ``Origin`` with a WebSocket, so a
  page on another site is refused; a program that is not a browser sends none and is
  let in (it could forge one anyway).
- **Headers** on every HTTP answer: nothing may be loaded from another origin
  (Content-Security-Policy), no referrer, no content sniffing.

A refused HTTP request gets 400 with one line saying why; a refused WebSocket is
closed before it opens (the browser sees 403).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "Guard", "host_allowed", "origin_allowed"]

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


def _hostname(host: str) -> str:
    """The name or address of a ``Host`` header, without the port ("[::1]:80" -> "::1")."""
    return (urlsplit(f"//{host}").hostname or "").lower()


def host_allowed(host: str) -> bool:
    """Whether a ``Host`` header names this server by address (or ``localhost``)."""
    name = _hostname(host)
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def origin_allowed(origin: str | None, host: str) -> bool:
    """Whether a WebSocket's ``Origin`` is the page's own server (or absent)."""
    if origin is None:
        return True
    parts = urlsplit(origin.strip().lower())
    return parts.scheme in ("http", "https") and parts.netloc == host.strip().lower()


class Guard:
    """ASGI middleware: refuses other hosts and other origins, adds the headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        problem = None
        if not host_allowed(host):
            problem = f"Host {host!r}: expected this computer's address (an IP address)"
        elif scope["type"] == "websocket" and not origin_allowed(headers.get("origin"), host):
            problem = f"Origin {headers.get('origin')!r}: expected this server's own pages"
        if scope["type"] == "websocket":
            if problem is None:
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if problem is None:
            await self.app(scope, receive, send_with_headers)
        else:
            await PlainTextResponse(problem, 400)(scope, receive, send_with_headers)
