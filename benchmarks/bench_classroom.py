"""Steps per second of the classroom's Play, in real Chromium, every panel drawn.

Starts ``python run.py app`` on a free port, opens the lesson page in Debian's
chromium (headless, through Playwright) at a projector's 1280x720, picks lesson 4
(2,000 customers, 200 steps), sets the pause between steps to its floor and presses
Play. It reads the page's own counters: frames drawn, the time of the first and last
frame, and how often each of the four charts finished a redraw, and writes
``results/benchmarks/classroom.md``.

With ``--market`` it measures the class session's market instead: ``run.py class``
with 30 answers, the teacher's page, "Run the market with this class" (two markets of
1,000 customers, 40 steps) at the pace control's floor and at its default, written to
``results/benchmarks/classroom_market.md``.

    .venv/bin/python benchmarks/bench_classroom.py [--runs 3] [--lesson winner] [--market]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CLASSROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PANELS = ("adoption", "network", "value", "breakeven")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 900) -> None:
    """Wait until the server answers (its first start may measure the lessons first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


def _open(pw: object, url: str, args: argparse.Namespace) -> tuple[object, object]:
    """Chromium with one page at ``url``, ready."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)  # type: ignore[attr-defined]
    # bypass_csp: Playwright evaluates its waits as scripts, which the pages forbid
    page = browser.new_page(viewport={"width": args.width, "height": args.height}, bypass_csp=True)
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=60_000)
    return browser, page


def play_once(page: object, lesson: str) -> dict[str, float]:
    """Play the lesson from step 0 to its end; the page's counters."""
    page.evaluate(f"window.classroom.chooseLesson('{lesson}')")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.model && !window.classroom.state.busy")  # type: ignore[attr-defined]
    page.evaluate(  # type: ignore[attr-defined]
        """() => { const i = document.getElementById('interval');
                   i.value = i.min; i.dispatchEvent(new Event('input')); }"""
    )
    before = page.evaluate("({...window.classroomStats.rendered})")  # type: ignore[attr-defined]
    page.click("#play")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.done", timeout=300_000)  # type: ignore[attr-defined]
    stats = page.evaluate("window.classroomStats")  # type: ignore[attr-defined]
    frames = stats["frames"]
    seconds = (stats["lastFrame"] - stats["firstFrame"]) / 1000
    drawn = {name: stats["rendered"][name] - before[name] for name in PANELS}
    return {"frames": frames, "seconds": seconds, "steps_per_s": (frames - 1) / seconds, **drawn}


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    import json

    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def market_once(page: object, interval: str) -> dict[str, float]:
    """Run the class's market from step 0 to 40 with the pause at ``interval``."""
    page.evaluate(  # type: ignore[attr-defined]
        f"""() => {{ const i = document.getElementById('market-interval');
                   i.value = {interval}; i.dispatchEvent(new Event('input')); }}"""
    )
    page.evaluate(  # type: ignore[attr-defined]
        "() => { window.classroomStats.frames = 0; window.classroomStats.firstFrame = 0; }"
    )
    page.click("#run-market")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "window.classroomStats.frames >= 40 && !window.teacher.market.busy", timeout=300_000
    )
    stats = page.evaluate("window.classroomStats")  # type: ignore[attr-defined]
    seconds = (stats["lastFrame"] - stats["firstFrame"]) / 1000
    frames = stats["frames"]
    return {"frames": frames, "seconds": seconds, "steps_per_s": (frames - 1) / seconds}


def market_main(args: argparse.Namespace) -> int:
    """The class's market at the pace control's floor and at its default."""
    import tempfile

    from playwright.sync_api import sync_playwright

    port = _free_port()
    folder = tempfile.mkdtemp()
    log = Path(folder) / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, str(ROOT / "run.py"), "class", "--port", str(port)),
                *("--db", f"{folder}/c.sqlite3", "--no-browser"),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/static/classroom.css", process, 900)
        lines = log.read_text().splitlines()
        teacher = next(line for line in lines if "Teacher's page" in line).split()[-1]
        code = next(line for line in lines if line.startswith("Class session")).split()[2]
        code = code.rstrip(":")
        for i in range(30):
            accepted = (1, 2, 2, 3, 2, 1, 0, 4)[i % 8]
            token = _post(f"{base}/api/join", {"code": code})["token"]
            answers = ["accept"] * accepted + ["reject"] * (6 - accepted)
            _post(f"{base}/api/answer", {"token": token, "answers": answers})
        with sync_playwright() as pw:
            browser, page = _open(pw, teacher, args)
            floor = page.evaluate("document.getElementById('market-interval').min")
            default = page.evaluate("document.getElementById('market-interval').value")
            for label, interval in (("floor", floor), ("default", default)):
                for run in range(args.runs):
                    result = market_once(page, interval)
                    rows.append((label, interval, result))
                    print(
                        f"{label} ({interval} ms) run {run + 1}: "
                        f"{result['steps_per_s']:.1f} steps/s ({result['frames']} frames in "
                        f"{result['seconds']:.2f} s)",
                        flush=True,
                    )
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
    load = os.getloadavg()
    lines = [
        "# The class's market: Play in Chromium",
        "",
        f"Two markets of 1,000 customers (the class's λ from 30 answers, and λ = 1), 40 "
        f"steps, viewport {args.width}x{args.height}, headless Debian chromium, server and "
        f"browser on the same {os.cpu_count()}-core machine; load average at the end "
        f"{load[0]:.2f}.",
        "",
        "| pause between steps | run | steps/s | frames | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for i, (label, interval, r) in enumerate(rows):
        lines.append(
            f"| {label} ({interval} ms) | {i % args.runs + 1} | {r['steps_per_s']:.1f} | "
            f"{r['frames']} | {r['seconds']:.2f} |"
        )
    out = ROOT / "results" / "benchmarks" / "classroom_market.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lesson", default="winner")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--market", action="store_true", help="the class session's market")
    args = parser.parse_args()
    if args.market:
        return market_main(args)
    from playwright.sync_api import sync_playwright

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    runs = []
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for(url, process)
        with sync_playwright() as pw:
            browser, page = _open(pw, url, args)
            floor = page.evaluate("+document.getElementById('interval').min")
            n = None
            for run in range(args.runs):
                result = play_once(page, args.lesson)
                n = page.evaluate("window.classroom.state.model.n_customers")
                runs.append(result)
                print(
                    f"run {run + 1}: {result['steps_per_s']:.1f} steps/s "
                    f"({result['frames']} frames in {result['seconds']:.1f} s; redraws "
                    + ", ".join(f"{p} {result[p]}" for p in PANELS)
                    + ")",
                    flush=True,
                )
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
    speeds = [r["steps_per_s"] for r in runs]
    load = os.getloadavg()
    lines = [
        "# Classroom page: Play in Chromium",
        "",
        f"Lesson `{args.lesson}`, {n:,} customers, viewport {args.width}x{args.height}, "
        f"pause between steps at its floor ({floor} ms), headless Debian chromium "
        f"(software rendering), server and browser on the same {os.cpu_count()}-core "
        f"machine; load average at the end {load[0]:.2f}.",
        "",
        "| run | steps/s | frames | seconds | " + " | ".join(f"{p} redraws" for p in PANELS) + " |",
        "|---:|---:|---:|---:|" + "---:|" * len(PANELS),
    ]
    for i, r in enumerate(runs, 1):
        lines.append(
            f"| {i} | {r['steps_per_s']:.1f} | {r['frames']} | {r['seconds']:.2f} | "
            + " | ".join(str(r[p]) for p in PANELS)
            + " |"
        )
    lines += ["", f"Median: **{statistics.median(speeds):.1f} steps/s**."]
    out = ROOT / "results" / "benchmarks" / "classroom.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"median {statistics.median(speeds):.1f} steps/s; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
