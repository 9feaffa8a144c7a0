"""``python run.py app``: serve the classroom page, offline, on 127.0.0.1 by default.

Solara normally loads its front end (Vue, Vuetify, fonts, require.js) from a CDN and
calls home. Here everything comes from the ``solara-assets`` package, served by the
same server under ``/_solara/cdn``; the settings below make sure no request leaves
the machine:

- ``SOLARA_ASSETS_PROXY=True``: the page asks this server, not the CDN, for assets;
- ``SOLARA_ASSETS_CDN`` points at a closed local port, so an asset missing from
  ``solara-assets`` fails at once instead of being fetched from the internet;
- production mode: no "success" check iframe to solara.dev, no auto-reload;
- ``SOLARA_TELEMETRY_MIXPANEL_ENABLE=False`` and ``--no-check-version``: no
  telemetry, no PyPI version check.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

__all__ = ["APP", "OFFLINE_ENV", "app_command", "offline_environment"]

#: The Solara app: the ``Page`` component of this module.
APP = "sim.classroom.app"
#: Environment that keeps Solara offline (see the module docstring).
OFFLINE_ENV: dict[str, str] = {
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_MODE": "production",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "Loss aversion in class",
    "MPLBACKEND": "Agg",
}


def offline_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) with the offline settings applied."""
    env = dict(os.environ if environ is None else environ)
    env.update(OFFLINE_ENV)
    return env


def _bind_error(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (a bad host, a port in use), or None."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return f"--host = {host!r}: {err.strerror}"
    probe = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        with socket.create_connection((probe, port), timeout=1):
            return f"--port = {port}: {host}:{port} is in use; try another --port"
    except OSError:
        return None


def app_command(args: argparse.Namespace) -> int:
    """Serve the page on ``args.host``:``args.port`` until interrupted; print its address."""
    host, port = args.host, int(args.port)
    if not 0 < port < 65536:
        print(f"error: --port = {port}: expected an integer in 1..65535", file=sys.stderr)
        return 2
    problem = _bind_error(host, port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    # settings are read when solara is imported: set them first
    os.environ.update(OFFLINE_ENV)
    try:
        from solara.__main__ import cli
    except ImportError as err:  # pragma: no cover - depends on the install
        print(
            f"error: the classroom page needs the 'app' extra ({err}); install it with "
            "pip install -e '.[app]'",
            file=sys.stderr,
        )
        return 2
    url = f"http://{host}:{port}/"
    print(f"Classroom page: {url}  (offline; Ctrl+C stops it)", flush=True)
    argv = [
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level-uvicorn",
        "warning",
        "--no-access-log",
    ]
    try:
        cli.main(args=argv, prog_name="solara", standalone_mode=False)
    except SystemExit as err:  # uvicorn exits when it cannot bind
        return int(err.code or 0)
    return 0
