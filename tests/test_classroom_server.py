"""The classroom's server as a teacher runs it: ``python run.py app`` / ``class`` in a
subprocess on 127.0.0.1. Mistakes on the command line, 30 students at once, a restart
mid-session, Ctrl+C, a page that drops off without closing, memory over 100 pages."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the classroom server needs the 'app' extra")
psutil = pytest.importorskip("psutil", reason="the classroom server needs the 'app' extra")
from websockets.sync.client import connect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, str(ROOT / "run.py")]
ACK_LIMIT_S = 2.0  # issue 12: every submission acknowledged within 2 s
#: A server's first start after a change to the code measures the lessons (about a
#: minute on a loaded 2-core machine); later starts read them back in seconds.
START_S = 600
REPORT = ROOT / "results" / "benchmarks" / "classroom_server.txt"


def report(line: str) -> None:
    """Print a measurement and keep it in results/benchmarks/classroom_server.txt."""
    print(f"\n{line}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.1f}: {line}\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    lines: list[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def printed(self, prefix: str) -> str:
        return next(line for line in self.lines if line.startswith(prefix))

    @property
    def key(self) -> str:
        return self.printed("Teacher's page").rsplit("key=", 1)[1]

    @property
    def code(self) -> str:
        return self.printed("Class session").split()[2].rstrip(":")

    def interrupt(self) -> float:
        """Ctrl+C; the seconds until the process has exited."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)
        return time.monotonic() - started


def start(*args: str, ping: float = 1.0, ready: str = "Answers are saved") -> Server:
    port = _free_port()
    env = {**os.environ, "CLASSROOM_PING_S": str(ping), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*RUN, *args, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"the server exited ({process.wait()}):\n{''.join(lines)}")
        lines.append(line.rstrip("\n"))
        if line.startswith(ready):
            break
    threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True).start()
    server = Server(process, port, lines)
    for _ in range(100):  # printed just before listening
        try:
            urllib.request.urlopen(f"{server.base}/static/classroom.css", timeout=2).close()
            return server
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server does not answer")


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(10)


def call(server: Server, path: str, body: Any = None, key: str = "") -> tuple[int, Any, float]:
    """(status, JSON reply, seconds until the reply)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.base + path,
        data=data,
        headers={"Content-Type": "application/json", "X-Teacher-Key": key},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read()), time.monotonic() - started
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), time.monotonic() - started


def export(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``run.py class --export OUT`` on the session file ``db``."""
    return subprocess.run(
        [*RUN, "class", "--db", str(db), "--export", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


ANSWERS = [["accept"] * k + ["reject"] * (6 - k) for k in range(7)]


def student(server: Server, code: str, answers: list[str]) -> tuple[str, float, float]:
    """One student joins and answers: (token, seconds to join, seconds to answer)."""
    status, joined, join_s = call(server, "/api/join", {"code": code})
    assert status == 201, joined
    status, reply, answer_s = call(
        server, "/api/answer", {"token": joined["token"], "answers": answers}
    )
    assert status == 201, reply
    return joined["token"], join_s, answer_s


def overview(server: Server) -> dict[str, Any]:
    status, data, _ = call(server, "/api/class", key=server.key)
    assert status == 200, data
    return data


def models_held(server: Server, key: str = "") -> int:
    query = f"?key={key}" if key else ""
    with urllib.request.urlopen(f"{server.base}/api/status{query}", timeout=10) as reply:
        return int(json.loads(reply.read())["models"])


def play(url: str, steps: int, stop: threading.Event | None = None) -> int:
    """A page that builds lesson 4 and steps it (until ``stop``); the steps made."""
    made = 0
    with connect(url, max_size=2**24) as ws:
        ws.send(json.dumps({"op": "build", "lesson": "winner", "steps": 1000}))
        assert json.loads(ws.recv())["type"] == "model"
        while made < steps and not (stop and stop.is_set()):
            ws.send(json.dumps({"op": "step", "firm": 0}))
            assert json.loads(ws.recv())["type"] == "frame"
            made += 1
    return made


# ------------------------------------------------------------------ command line
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["class", "--port", "0"], "error: --port = 0: expected an integer >= 1 and <= 65_535"),
        (
            ["app", "--port", "70000"],
            "error: --port = 70000: expected an integer >= 1 and <= 65_535",
        ),
        (
            ["class", "--host", "192.0.2.1"],
            "error: --host = '192.0.2.1': expected an address of this computer",
        ),
        (
            ["class", "--export", "/no/such/folder/answers.csv"],
            "error: --export = '/no/such/folder/answers.csv': expected a folder (created if its "
            "parent exists) for the answers and the worksheet picture, or a FILE.csv in an "
            "existing folder",
        ),
        (["class", "--size", "0"], "error: --size = 0: expected an integer >= 1 and <= 500"),
        (["class", "--size", "501"], "error: --size = 501: expected an integer >= 1 and <= 500"),
    ],
)
def test_command_line_mistakes_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*RUN, *args, "--db", str(tmp_path / "c.sqlite3")] if args[0] == "class" else [*RUN, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*RUN, "class", "--port", str(port), "--db", str(tmp_path / "c.sqlite3")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: --port = {port}: expected a free port (127.0.0.1:{port} is in use)"
    )


# ------------------------------------------------------------------ a class session
def test_thirty_students_at_once_while_the_teacher_plays(
    servers: list[Server], tmp_path: Path
) -> None:
    """30 students join and answer together while the teacher's page plays lesson 4:
    every answer is acknowledged within 2 s and stored."""
    server = start("class", "--db", str(tmp_path / "c.sqlite3"), "--no-browser")
    servers.append(server)
    stop = threading.Event()
    teacher = ThreadPoolExecutor(1).submit(
        play, f"ws://127.0.0.1:{server.port}/ws/model?key={server.key}", 10**6, stop
    )
    time.sleep(1.0)  # the teacher's model is playing
    gate = threading.Barrier(30)

    def one(i: int) -> tuple[str, float, float]:
        gate.wait()
        return student(server, server.code, ANSWERS[i % 7])

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(one, range(30)))
    stop.set()
    steps = teacher.result(timeout=30)
    joins = [r[1] for r in results]
    answers = [r[2] for r in results]
    report(
        f"30 students at once (teacher playing, {steps} steps): join median "
        f"{statistics.median(joins) * 1000:.0f} ms, max {max(joins) * 1000:.0f} ms; answer "
        f"median {statistics.median(answers) * 1000:.0f} ms, max {max(answers) * 1000:.0f} ms"
    )
    assert max(answers) < ACK_LIMIT_S and max(joins) < ACK_LIMIT_S
    assert len({r[0] for r in results}) == 30
    data = overview(server)
    assert data["answered"] == data["joined"] == 30 and data["inconsistent"] == 0
    assert steps > 0


def test_a_restart_mid_session_loses_nothing(servers: list[Server], tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    first = start("class", "--db", str(db), "--no-browser")
    servers.append(first)
    tokens = [student(first, first.code, ANSWERS[i % 7])[0] for i in range(8)]
    waiting = [call(first, "/api/join", {"code": first.code})[1]["token"] for _ in range(2)]
    assert first.printed("Class session").endswith(": new; admits 40 students")
    seconds = first.interrupt()
    assert first.process.returncode == 0

    second = start("class", "--db", str(db), "--no-browser")
    servers.append(second)
    assert (second.code, second.key) == (first.code, first.key)
    assert "resumed (8 answers so far" in second.printed("Class session")
    data = overview(second)
    assert (data["answered"], data["joined"]) == (8, 10)
    for token in waiting:  # joined before the restart, answer after it
        assert call(second, "/api/answer", {"token": token, "answers": ANSWERS[2]})[0] == 201
    assert call(second, "/api/answer", {"token": tokens[0], "answers": ANSWERS[1]})[0] == 409
    assert overview(second)["answered"] == 10
    second.interrupt()
    out = tmp_path / "answers.csv"
    done = export(db, out)
    assert done.returncode == 0 and done.stdout.strip() == f"10 answers written to {out}"
    assert len(out.read_text().splitlines()) == 11
    report(f"Ctrl+C: the server exited {seconds:.2f} s after SIGINT")


def test_ctrl_c_exits_within_a_second(servers: list[Server], tmp_path: Path) -> None:
    """Idle, Ctrl+C ends the server within a second (it ends the process once the store
    is closed, without the interpreter's slow teardown)."""
    server = start("class", "--db", str(tmp_path / "c.sqlite3"), "--no-browser")
    servers.append(server)
    student(server, server.code, ANSWERS[2])
    time.sleep(0.5)
    seconds = server.interrupt()
    report(f"Ctrl+C, idle: exited after {seconds:.2f} s")
    assert server.process.returncode == 0 and seconds <= 1.0
    deadline = time.monotonic() + 5  # the thread reading its output catches up
    while "Stopped." not in [line.strip() for line in server.lines] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Stopped." in [line.strip() for line in server.lines]


def test_ctrl_c_exits_within_2_s_with_pages_open(servers: list[Server], tmp_path: Path) -> None:
    server = start("class", "--db", str(tmp_path / "c.sqlite3"), "--no-browser")
    servers.append(server)
    stop = threading.Event()
    pages = ThreadPoolExecutor(2)
    playing = [
        pages.submit(play, f"ws://127.0.0.1:{server.port}/ws/model?key={server.key}", 10**6, stop)
        for _ in range(2)
    ]
    time.sleep(1.5)
    assert models_held(server, server.key) == 2
    seconds = server.interrupt()
    stop.set()
    for future in playing:
        with pytest.raises(Exception):  # noqa: B017 - the server closed the socket
            future.result(timeout=30)
    report(f"Ctrl+C with two pages playing: exited after {seconds:.2f} s")
    assert seconds < 2.0  # the pages get half a second to close


def test_a_page_that_drops_off_is_freed(servers: list[Server]) -> None:
    """A page that stops answering (a laptop lid shut: here a stopped process) has its
    model freed after the ping timeout (1 s + 1 s in this test, 15 s + 15 s by default)."""
    server = start("app", ping=1.0, ready="Classroom page")
    servers.append(server)
    page = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json, sys, time\n"
            "from websockets.sync.client import connect\n"
            f"with connect('ws://127.0.0.1:{server.port}/ws/model', max_size=2**24) as ws:\n"
            "    ws.send(json.dumps({'op': 'build', 'lesson': 'kink'})); ws.recv()\n"
            "    print('ready', flush=True); time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert page.stdout is not None and page.stdout.readline().strip() == "ready"
        assert models_held(server) == 1
        page.send_signal(signal.SIGSTOP)  # it can no longer answer pings
        deadline = time.monotonic() + 30
        while models_held(server) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert models_held(server) == 0
    finally:
        page.kill()
        page.wait(10)


@pytest.mark.slow
def test_memory_stays_bounded_over_100_joins_and_leaves(
    servers: list[Server], tmp_path: Path
) -> None:
    server = start("class", "--db", str(tmp_path / "c.sqlite3"), "--no-browser", "--size", "100")
    servers.append(server)
    process = psutil.Process(server.process.pid)
    url = f"ws://127.0.0.1:{server.port}/ws/model?key={server.key}"
    rss = []
    for i in range(100):
        play(url, 5)  # a page opens, builds 2,000 customers, plays 5 steps, leaves
        student(server, server.code, ANSWERS[i % 7])
        if i in (9, 49, 99):
            time.sleep(0.3)
            rss.append(process.memory_info().rss / 2**20)
    report(
        f"server memory after 10, 50, 100 pages and students: {', '.join(f'{m:.0f}' for m in rss)} MB"
    )
    assert models_held(server, server.key) == 0
    assert rss[2] - rss[0] < 60, rss


def test_the_network_is_explicit_and_warned_about(servers: list[Server], tmp_path: Path) -> None:
    """127.0.0.1 unless asked; --host 0.0.0.0 prints where phones join and a warning."""
    local = start("class", "--db", str(tmp_path / "a.sqlite3"), "--no-browser")
    servers.append(local)
    assert not any(line.startswith("warning:") for line in local.lines)
    assert local.printed("Students join at").startswith("Students join at http://127.0.0.1:")
    local.interrupt()
    shared = start(
        "class", "--host", "0.0.0.0", "--db", str(tmp_path / "b.sqlite3"), "--no-browser"
    )
    servers.append(shared)
    warning = shared.printed("warning: --host 0.0.0.0")
    assert "anyone on this network" in warning
    join = shared.printed("Students join at")
    addresses = psutil.net_if_addrs()
    if any(
        a.family == socket.AF_INET and not a.address.startswith(("127.", "169.254."))
        for v in addresses.values()
        for a in v
    ):
        assert "127.0.0.1" not in join  # the address phones can reach
    assert (
        shared.printed("Teacher's page")
        .split()[-1]
        .startswith(f"http://127.0.0.1:{shared.port}/teacher?key=")
    )
    assert overview(shared)["code"] == shared.code  # the teacher, on this computer


def test_the_issues_stuffing_attack_is_refused_beyond_the_size(
    servers: list[Server], tmp_path: Path
) -> None:
    """The teacher's tour: one client posts 475 'accept all' answers as fast as it can,
    without cookies (a new device each time). The class takes --size of them, no more;
    the rest are refused with a reason, nothing fails, and the export has them all."""
    db = tmp_path / "c.sqlite3"
    server = start("class", "--db", str(db), "--no-browser", "--size", "30")
    servers.append(server)
    statuses: dict[int, int] = {}
    for _ in range(475):
        status, joined, _ = call(server, "/api/join", {"code": server.code})
        if status == 201:
            status, _, _ = call(
                server, "/api/answer", {"token": joined["token"], "answers": ANSWERS[6]}
            )
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses == {201: 30, 403: 445}
    data = overview(server)
    assert (data["joined"], data["answered"], data["size"]) == (30, 30, 30)
    server.interrupt()
    done = export(db, tmp_path / "handout")
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.split()]
    assert [p.name for p in written] == [
        f"class-{server.code}-answers.csv",
        f"class-{server.code}.png",
    ]
    assert len(written[0].read_text().splitlines()) == 31
    assert written[1].stat().st_size > 50_000
