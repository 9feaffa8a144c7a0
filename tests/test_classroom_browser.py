"""End to end: the classroom page in headless Chromium, with no request leaving 127.0.0.1.

Starts ``python run.py app`` as a teacher would, loads the page in Debian's chromium
through Playwright (no browser download), and checks the panels render, that moving
λ̄ and pressing Reset rebuilds the model with the new value, and that Step advances
it. Saves a screenshot to results/screenshots/classroom.png. Install what it needs
with ``.ci/install-browser``.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CLASSROOM_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = ROOT / "results" / "screenshots" / "classroom.png"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
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

# On a developer's machine without chromium the test is skipped with a reason; in CI
# (CI=true) nothing is skipped, so a missing browser fails instead of passing silently.
IN_CI = bool(os.environ.get("CI"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not IN_CI,
        reason=f"{CHROMIUM} is missing: run .ci/install-browser (apt-get install chromium)",
    ),
]
if IN_CI:
    import playwright.sync_api as playwright_api
    import solara  # noqa: F401
else:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
    )
    pytest.importorskip("solara", reason="the classroom page needs the 'app' extra")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``python run.py app --port PORT`` in a subprocess; its URL and log file."""
    port = _free_port()
    log = tmp_path_factory.mktemp("classroom") / "server.log"
    # the environment a teacher has: pytest's markers would switch solara's checks off
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 90 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return urlparse(url).hostname in LOCAL_HOSTS


def _not_blank(png: bytes) -> bool:
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png))[..., :3]
    drawn = (pixels < 0.9).any(axis=-1).mean()  # share of pixels that are not near-white
    return bool(pixels.std() > 0.05 and drawn > 0.02)


ALL_PANELS_LOADED = (
    "document.querySelectorAll('.classroom-panel img').length >= 4"
    " && [...document.querySelectorAll('.classroom-panel img')]"
    ".every(i => i.complete && i.naturalWidth > 100)"
)


def _panel_png(page: object, index: int, tries: int = 20) -> bytes:
    """Screenshot of panel ``index``. A live panel swaps its <img> when it redraws, so an
    element caught mid-swap ("not attached to the DOM") is looked up again, and one
    caught before its paint (blank) is taken again for up to 2 s; a figure that is
    really blank stays blank."""
    png = b""
    for attempt in range(tries):
        page.wait_for_function(ALL_PANELS_LOADED)  # type: ignore[attr-defined]
        try:
            panel = page.locator(".classroom-panel img").nth(index)  # type: ignore[attr-defined]
            png = panel.screenshot(timeout=5_000)
        except playwright_api.Error:
            if attempt == tries - 1:
                raise
        else:
            if _not_blank(png) or attempt >= 8:
                return png
        page.wait_for_timeout(250)  # type: ignore[attr-defined]
    return png


def _assert_drawn(page: object, index: int, when: str) -> None:
    """Panel ``index`` shows a figure; a blank one is saved next to the screenshot."""
    png = _panel_png(page, index)
    if not _not_blank(png):
        saved = SCREENSHOT.with_name(f"classroom_panel{index}_blank.png")
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(png)
        raise AssertionError(f"panel {index} is blank {when} (screenshot: {saved})")


def _info(page: object) -> str:
    return page.locator(".classroom-info").inner_text()  # type: ignore[attr-defined]


def test_classroom_page_offline(server: tuple[str, Path]) -> None:
    url, log = server
    assert f"Classroom page: {url}" in log.read_text()
    requests: list[str] = []
    failed: list[str] = []  # e.g. an asset missing from solara-assets
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1700})
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on(
                "response",
                lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.set_default_timeout(30_000)
            page.goto(url)

            # the controls and the four panels
            page.get_by_text("Mean loss aversion λ̄", exact=True).wait_for(timeout=60_000)
            # the slider's thumb has no size of its own: it is attached, not "visible"
            slider = page.get_by_role("slider", name="Mean loss aversion λ̄")
            for name in (
                "Initial trust T",
                "Co-creation intensity c",
                "Market dynamism ρ",
                "Number of customers N",
                "Seed",
            ):
                assert page.get_by_role("slider", name=name).count() == 1
            for label in ("Firm A strategy", "Firm B strategy", "Firm C strategy"):
                assert page.get_by_text(label, exact=True).count() >= 1
            page.wait_for_function(ALL_PANELS_LOADED)
            assert page.locator(".classroom-panel img").count() == 4
            for i in range(4):
                _assert_drawn(page, i, "at step 0")
            assert "λ̄ = 2.25" in _info(page) and "step 0" in _info(page)

            # move λ̄ to its maximum with the keyboard, then Reset rebuilds the model
            slider.focus()
            slider.press("End")
            assert slider.get_attribute("aria-valuenow") == "4"
            page.get_by_role("button", name="Reset").click()
            page.wait_for_function(
                "document.querySelector('.classroom-info').innerText.includes('λ̄ = 4.00')"
            )
            # Step advances the new model
            step = page.get_by_role("button", name="Step")
            for n in range(1, 4):
                step.click()
                page.wait_for_function(
                    f"document.querySelector('.classroom-info').innerText.includes('step {n}')"
                )
            assert "λ̄ = 4.00" in _info(page)
            # a lesson sets the controls and starts its own model, which Step advances
            page.get_by_role("button", name="2. Break-even").click()
            page.wait_for_function(
                "document.querySelector('.classroom-info').innerText.includes('trust 1.00')"
            )
            assert slider.get_attribute("aria-valuenow") == "2.25"
            step.click()
            page.wait_for_function(
                "document.querySelector('.classroom-info').innerText.includes('step 1')"
            )
            page.wait_for_timeout(500)  # let the last images paint
            for i in range(4):
                _assert_drawn(page, i, "after Step")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    outside = sorted({u for u in requests if not _is_local(u)})
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert any(u.startswith("ws://127.0.0.1") for u in requests), "no websocket to the server"
    assert not failed, f"requests failed: {failed}"
    assert "Could not load URL" not in log.read_text(), "the server tried to fetch an asset"
    assert SCREENSHOT.stat().st_size > 50_000
