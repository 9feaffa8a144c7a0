"""``python run.py app`` and ``python run.py class``: start the classroom's server.

The server listens on 127.0.0.1 unless ``--host`` says otherwise: ``--host 0.0.0.0``
lets phones and laptops on the classroom network reach it, and prints where and a
warning. Before it serves, the lessons' numbers are looked up or measured
(:mod:`.measured`). It runs until Ctrl+C, which stops it within a second (open pages
get half a second to close). ``class --size N`` admits N students;
``class --export DIR`` writes the latest session's answers (CSV) and its worksheet
picture (PNG) and exits; ``--export FILE.csv`` writes every session's answers.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
import sqlite3
import sys
import webbrowser
from pathlib import Path
from typing import Any, NoReturn

from ..errors import InputError
from ..paths import RESULTS
from ..spec import integer
from .store import ClassStore

__all__ = ["app_command", "class_command", "listening_socket", "network_addresses"]

DEFAULT_DB = RESULTS / "classroom" / "class.sqlite3"
#: A page's socket is pinged every PING_S seconds and closed when a ping goes unanswered
#: for PING_S more (a lid shut, Wi-Fi lost): its models are freed within 2 * PING_S.
#: The environment variable CLASSROOM_PING_S changes it (the tests use 1 s).
PING_S = 15.0
#: Ctrl+C: open connections get this long to finish before they are closed.
GRACEFUL_S = 0.5
WILDCARDS = ("0.0.0.0", "::", "")


def _check_port(port: int) -> None:
    integer("--port", port, 1, 65535, InputError)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening; :class:`InputError` if it cannot be."""
    _check_port(port)
    host_expected = "an address of this computer: 127.0.0.1 (this computer only) or 0.0.0.0"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError):
        raise InputError("--host", host, host_expected) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise InputError("--port", port, f"a free port ({host}:{port} is in use)") from None
        if err.errno == errno.EACCES:
            raise InputError("--port", port, "a port >= 1024 (or run as administrator)") from None
        raise InputError("--host", host, host_expected) from None
    sock.setblocking(False)
    return sock


def network_addresses() -> list[str]:
    """This computer's IPv4 addresses on its networks (not loopback, not link-local)."""
    import psutil

    found = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family != socket.AF_INET:
                continue
            address = ipaddress.ip_address(entry.address)
            if not (address.is_loopback or address.is_link_local):
                found.append(str(address))
    return sorted(set(found))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _serve(app: Any, sock: socket.socket) -> NoReturn:
    """Serve ``app`` on ``sock`` until Ctrl+C, then end the process at once.

    By then everything is closed: pages are released, the class's answers were
    committed as they came and the store is closed (the app's shutdown). The
    interpreter's own teardown would take about a second more (the compiled kernels'
    LLVM state), so the process ends without it.
    """
    import uvicorn

    ping = float(os.environ.get("CLASSROOM_PING_S", PING_S))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws_ping_interval=ping,
        ws_ping_timeout=ping,
        ws_max_size=64 * 1024,
        timeout_graceful_shutdown=GRACEFUL_S,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn raises Ctrl+C again once it has shut down
        pass
    finally:
        sock.close()
    print("Stopped.", flush=True)
    sys.stderr.flush()
    os._exit(0)


def _warn_if_public(host: str, port: int) -> list[str]:
    """Where the server can be reached from the network, and a warning; [] on loopback."""
    if host not in WILDCARDS and ipaddress.ip_address(_resolve(host)).is_loopback:
        return []
    print(
        f"warning: --host {host}: anyone on this network can reach port {port}; use it "
        "only on a classroom network you trust, and stop it (Ctrl+C) after class",
        file=sys.stderr,
    )
    return network_addresses() if host in WILDCARDS else [host]


def _resolve(host: str) -> str:
    return socket.getaddrinfo(host, None)[0][4][0]


def _needs_app_extra() -> None:
    try:
        import psutil  # noqa: F401
        import segno  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise InputError(
            "classroom", reason=f"needs the 'app' extra ({err}): pip install -e '.[app]'"
        ) from None


def app_command(args: argparse.Namespace) -> int:
    """Serve the lesson page (each open page has its own model) until Ctrl+C."""
    _needs_app_extra()
    host, port = args.host, int(args.port)
    sock = listening_socket(host, port)
    from .web import create_app

    claims = _measured_lessons(sock)
    reachable = _warn_if_public(host, port)
    local = "127.0.0.1" if host in WILDCARDS else _url_host(host)
    print(f"Classroom page: http://{local}:{port}/  (offline; Ctrl+C stops it)", flush=True)
    for address in reachable:
        print(f"  from the network: http://{_url_host(address)}:{port}/", flush=True)
    return _serve(create_app(claims=claims), sock)


def _measured_lessons(sock: socket.socket) -> Any:
    """The lessons' claims (kept, or measured now); the socket is closed if that fails.
    A statement of a lesson's text that its numbers do not bear out is warned about."""
    from .lessons import LESSONS
    from .measured import lesson_claims

    try:
        claims = lesson_claims()
    except BaseException:
        sock.close()
        raise
    for name, lesson in LESSONS.items():
        for check in lesson.checks:
            if not check.holds(claims[name]):
                print(
                    f"warning: lesson {name}: its text says {check.says!r}, which its numbers "
                    f"do not bear out (python run.py lesson {name} --numbers)",
                    file=sys.stderr,
                )
    return claims


def class_command(args: argparse.Namespace) -> int:
    """Run a class session (or export its answers with ``--export``)."""
    from .class_api import check_size

    db = Path(args.db) if args.db else DEFAULT_DB
    if args.export:
        return _export(args.export, db)
    size = None if args.size is None else check_size(args.size, "--size")
    _needs_app_extra()
    host, port = args.host, int(args.port)
    sock = listening_socket(host, port)
    try:
        store = ClassStore(db)
    except (OSError, sqlite3.Error) as err:
        sock.close()
        raise InputError("--db", str(db), f"a writable file ({err})") from None
    resumed = store.latest_session()
    session = store.open_session(new=args.new)
    if size is not None:
        store.set_size(session, size)
    claims = _measured_lessons(sock)
    from .class_api import JOIN_PATH, LOOPBACK, ClassRoom
    from .web import create_app

    reachable = _warn_if_public(host, port)
    join_host = reachable[0] if reachable else ("127.0.0.1" if host in WILDCARDS else host)
    join_url = f"http://{_url_host(join_host)}:{port}{JOIN_PATH}?code={session.code}"
    teacher_host = "127.0.0.1" if host in WILDCARDS else host
    teacher_hosts = LOOPBACK | ({teacher_host} if host not in WILDCARDS else set())
    classroom = ClassRoom(store, session, join_url, teacher_hosts=frozenset(teacher_hosts))
    teacher_url = f"http://{_url_host(teacher_host)}:{port}/teacher?key={session.teacher_key}"
    answers = len(store.answers(session))
    how = (
        f"resumed ({answers} answers so far; --new starts a fresh one)"
        if resumed is not None and resumed.id == session.id
        else "new"
    )
    print(f"Class session {session.code}: {how}; admits {classroom.size} students", flush=True)
    print(f"Teacher's page (keep it to yourself): {teacher_url}", flush=True)
    print(
        f"Students join at http://{_url_host(join_host)}:{port}{JOIN_PATH}  with code "
        f"{session.code}"
    )
    for address in reachable[1:]:
        print(f"  or at http://{_url_host(address)}:{port}{JOIN_PATH}")
    if not reachable:
        print(
            "  (only from this computer: phones need --host 0.0.0.0 on the class network)",
        )
    print(f"Answers are saved as they arrive in {db}; Ctrl+C stops the server.", flush=True)
    if not args.no_browser and _has_display():
        webbrowser.open(teacher_url)
    return _serve(create_app(classroom, claims=claims), sock)


def _export(target: str, db: Path) -> int:
    """``--export``: FILE.csv, every session's answers; DIR, the latest session's answers
    and its worksheet picture."""
    out = Path(target)
    as_csv = out.suffix.lower() == ".csv"
    if (as_csv and (out.is_dir() or not out.parent.is_dir())) or (
        not as_csv and (out.is_file() or not out.parent.is_dir())
    ):
        raise InputError(
            "--export",
            target,
            "a folder (created if its parent exists) for the answers and the worksheet "
            "picture, or a FILE.csv in an existing folder",
        )
    if not db.is_file():
        raise InputError("--db", str(db), "the file of a class session (none is there)")
    store = ClassStore(db)
    try:
        if as_csv:
            count = store.export_csv(out)
            print(f"{count} answers written to {out}")
            return 0
        from .worksheet import export_session

        session = store.latest_session()
        if session is None:
            raise InputError("--db", str(db), "a file with a class session (it has none)")
        for path in export_session(store, session, out):
            print(path)
    finally:
        store.close()
    return 0


def _has_display() -> bool:
    """Whether a graphical browser can open (never a text browser in this terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
