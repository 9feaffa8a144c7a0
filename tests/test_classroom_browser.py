"""End to end in headless Chromium, with no request leaving 127.0.0.1.

Starts ``python run.py app`` and ``python run.py class`` as a teacher would and drives
Debian's chromium through Playwright (no browser download): the lesson page at a
projector's 1280x720 and 1920x1080 (all four panels drawn and in view, light even on
a dark-mode laptop, the "changed: press Reset" hint, Step, Play to the lesson's end),
then a class: the teacher's page and two phone-sized student pages answering the
lotteries, the histogram, and the market run with the class. Screenshots go to
results/screenshots/. Install what it needs with ``.ci/install-browser``.
"""

from __future__ import annotations

import io
import math
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
SHOTS = ROOT / "results" / "screenshots"
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
PROJECTORS = [(1280, 720), (1920, 1080)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PANELS = ("#panel-adoption", "#panel-network", "#panel-value", "#panel-breakeven")

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
    import uvicorn  # noqa: F401
else:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
    )
    pytest.importorskip("uvicorn", reason="the classroom needs the 'app' extra")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(args: list[str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), *args, "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/static/classroom.css", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer within 60 s:\n{log.read_text()}")
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watch:
    """Every request a page makes, and every failed one."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []

    def page(self, browser: object, **options: object) -> object:
        # bypass_csp: Playwright evaluates its waits as scripts, which the pages forbid
        page = browser.new_page(bypass_csp=True, **options)  # type: ignore[attr-defined]
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.set_default_timeout(30_000)
        return page

    def check(self) -> None:
        outside = sorted({u for u in self.requests if not _is_local(u)})
        assert not outside, f"requests left 127.0.0.1: {outside}"
        assert not self.failed, f"requests failed: {self.failed}"
        assert not self.errors, f"script errors: {self.errors}"


def _is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return urlparse(url).hostname in LOCAL_HOSTS


def _drawn(png: bytes) -> bool:
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png))[..., :3]
    return bool(pixels.std() > 0.05 and (pixels < 0.9).any(axis=-1).mean() > 0.02)


def _fits(page: object) -> None:
    """Nothing to scroll, and every panel whole in the window."""
    size = page.evaluate(  # type: ignore[attr-defined]
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
        " innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3], f"the page scrolls: {size}"
    for panel in PANELS:
        box = page.locator(panel).bounding_box()  # type: ignore[attr-defined]
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= size[3] + 1, panel
        assert box["height"] > 150 and box["width"] > 250, (panel, box)


def _text(page: object) -> str:
    return page.locator("body").inner_text()  # type: ignore[attr-defined]


def test_lesson_page_on_a_projector(browser: object, tmp_path: Path) -> None:
    watch = Watch()
    for base, _ in _serve(["app"], tmp_path / "app.log"):
        for width, height in PROJECTORS:
            # a dark-mode laptop: the page stays light
            page = watch.page(
                browser, viewport={"width": width, "height": height}, color_scheme="dark"
            )
            page.goto(base + "/")
            page.wait_for_function("document.body.dataset.ready === 'true'")
            _fits(page)
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            ink = page.evaluate("getComputedStyle(document.querySelector('.side p')).color")
            assert background == "rgb(255, 255, 255)" and ink == "rgb(17, 17, 17)"
            for leftover in ("PAGE 0", "Use Threads", "Time: 0.0"):
                assert leftover not in _text(page)
            for panel in PANELS:
                assert _drawn(page.locator(f"{panel} .chart").screenshot()), panel
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"lesson_{width}x{height}.png"))
            if width == 1280:
                _lesson_controls(page, base)
            page.close()
    watch.check()


def _lesson_controls(page: object, base: str) -> None:
    """The hint, Reset, Step, a lesson, and Play to the lesson's end; what the page shows
    on the lesson's opening seed is what the model does there."""
    counter = page.locator("#counter")  # type: ignore[attr-defined]
    assert counter.inner_text() == "step 0 / 40"
    hint = page.locator("#changed")  # type: ignore[attr-defined]
    assert not hint.is_visible()
    slider = page.locator("input[name=loss_aversion_mean]")  # type: ignore[attr-defined]
    slider.fill("1")  # the range input takes the value and fires "input"
    assert hint.is_visible() and hint.inner_text() == "changed: press Reset"
    page.click("#reset")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.model.controls.loss_aversion_mean === 1")  # type: ignore[attr-defined]
    assert not hint.is_visible()
    page.click("#step")  # type: ignore[attr-defined]
    page.wait_for_function("document.getElementById('counter').innerText === 'step 1 / 40'")  # type: ignore[attr-defined]
    page.click("button[data-lesson=breakeven]")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.model.controls.initial_trust === 1")  # type: ignore[attr-defined]
    text = _text(page)
    assert "social proof" in text and "Measured on 100 runs" in text
    seed = page.evaluate("window.classroom.state.model.controls.seed")  # type: ignore[attr-defined]
    launch, adopted = _breakeven_on(seed)
    stats = page.locator("#breakeven-stats").inner_text()  # type: ignore[attr-defined]
    assert f"clears the bar at launch {launch}" in stats and "adopted now 0 %" in stats
    page.evaluate(  # type: ignore[attr-defined]
        "(() => { const i = document.getElementById('interval'); i.value = 0;"
        " i.dispatchEvent(new Event('input')); })()"
    )
    assert page.locator("#interval").input_value() == "20"  # type: ignore[attr-defined]  # the floor
    page.click("#play")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.done", timeout=60_000)  # type: ignore[attr-defined]
    page.wait_for_function("!window.classroom.state.playing")  # type: ignore[attr-defined]
    assert counter.inner_text() == "step 40 / 40"  # Play stopped at the lesson's end
    assert page.locator("#play").is_disabled()  # type: ignore[attr-defined]
    assert f"adopted now {adopted}" in page.locator("#breakeven-stats").inner_text()  # type: ignore[attr-defined]
    page.click("button[data-lesson=winner]")  # type: ignore[attr-defined]
    page.wait_for_function("window.classroom.state.model.n_customers === 2000")  # type: ignore[attr-defined]
    stats = page.locator("#breakeven-stats").inner_text()  # type: ignore[attr-defined]
    assert "A: no release yet" in stats and "at launch" not in stats  # step 0, spread market


def _breakeven_on(seed: int) -> tuple[str, str]:
    """Lesson 2 on ``seed``, as the page rounds it: (clears at launch, adopted by step 40)."""
    from sim.classroom.lessons import LESSONS
    from sim.classroom.views import ModelView

    view = ModelView(LESSONS["breakeven"].model(seed=seed), 40)
    launch = view.start()["frame"]["breakeven"]["clears_at_launch"]
    view.model.run(40)
    adopted = view.frame()["breakeven"]["adopted_now"]
    return _js_percent(launch), _js_percent(adopted)


def _js_percent(share: float) -> str:
    """A share as the page writes it (JavaScript's toFixed rounds halves up)."""
    return f"{math.floor(100 * share + 0.5)} %"


def test_the_lost_connection_says_reload(browser: object, tmp_path: Path) -> None:
    """The server goes away: the banner says to reload the page, and a click after that
    does not replace it with 'connection lost'."""
    watch = Watch()
    for base, process in _serve(["app"], tmp_path / "app.log"):
        page = watch.page(browser, viewport={"width": 1280, "height": 720})
        page.goto(base + "/")
        page.wait_for_function("document.body.dataset.ready === 'true'")
        process.terminate()
        process.wait(15)
        page.wait_for_function("!document.getElementById('banner').hidden")
        page.click("#step")
        page.wait_for_timeout(300)
        banner = page.locator("#banner").inner_text()
        assert banner.startswith("The connection to the server was lost. Reload the page")
        page.close()


def _address_fits(teacher: object, base: str) -> float:
    """The join address: whole, on one line, large; its font size in px."""
    address = teacher.locator("#join-address")  # type: ignore[attr-defined]
    assert address.inner_text() == f"{base}/j"
    size = address.evaluate(
        "e => [parseFloat(getComputedStyle(e).fontSize), e.scrollWidth, e.clientWidth,"
        " e.getBoundingClientRect().height]"
    )
    font, scroll, client, height = size
    assert scroll <= client, f"the address is cut: {size}"
    assert height < 1.6 * font, f"the address breaks over lines: {size}"
    return float(font)


def test_a_class_session(browser: object, tmp_path: Path) -> None:
    watch = Watch()
    log = tmp_path / "class.log"
    for base, _ in _serve(
        ["class", "--db", str(tmp_path / "c.sqlite3"), "--no-browser", "--size", "3"], log
    ):
        printed = log.read_text()
        teacher_url = next(
            line for line in printed.splitlines() if "Teacher's page" in line
        ).split()[-1]
        teacher = watch.page(browser, viewport={"width": 1280, "height": 720})
        teacher.goto(teacher_url)
        teacher.wait_for_function("document.body.dataset.ready === 'true'")
        code = teacher.locator("#join-code").inner_text()
        assert len(code) == 5 and f"code {code}" in printed
        assert _address_fits(teacher, base) >= 24  # read from the back of the room
        qr = teacher.locator("#qr")
        qr.wait_for()
        assert teacher.evaluate("document.getElementById('qr').naturalWidth") > 0
        assert "joined 0 / 3 · answered 0 / 3" in teacher.locator("#counts").inner_text()
        assert teacher.locator("#run-market").is_disabled()

        phones = []
        for answers in (
            ["accept"] * 2 + ["reject"] * 4,
            ["accept", "reject", "accept", "reject", "reject", "reject"],
            ["accept"] * 6,
        ):
            phone = watch.page(browser, **PHONE)
            phone.goto(f"{base}/j")  # typed by hand: the code is asked for
            phone.fill("#code", code.lower())
            phone.click("#join-button")
            phone.locator(".lottery").first.wait_for()
            assert phone.locator(".lottery").count() == 6
            for i, answer in enumerate(answers):
                phone.locator(".lottery").nth(i).locator(f"button[data-value={answer}]").click()
            phone.click("#submit")
            phone.locator("#result").wait_for()
            phones.append(phone)
        consistent, inconsistent, joke = phones
        assert "1.50 < λ ≤ 2.00" in consistent.locator("#result").inner_text()
        assert (
            "loses €3 but accepted one that loses €4"
            in inconsistent.locator("#result").inner_text()
        )
        for phone in phones:
            width = phone.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], "the phone page scrolls sideways"
            font = phone.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('.lottery p')).fontSize)"
            )
            assert font >= 16, "too small to read on a phone"
        consistent.screenshot(path=str(SHOTS / "student_390x844.png"), full_page=True)
        # a reload shows the student's own answer again, not the form
        consistent.reload()
        consistent.locator("#result").wait_for()
        assert "1.50 < λ ≤ 2.00" in consistent.locator("#result").inner_text()
        # the same phone with its page store cleared is still the same student
        consistent.evaluate("localStorage.clear()")
        consistent.goto(f"{base}/j?code={code}")
        consistent.locator("#result").wait_for()
        assert "1.50 < λ ≤ 2.00" in consistent.locator("#result").inner_text()
        # a fourth phone: the class is full, and says so
        late = watch.page(browser, **PHONE)
        late.goto(f"{base}/j?code={code}")
        late.wait_for_function("document.getElementById('message').innerText.length > 0")
        assert "The class is full (3 students)" in late.locator("#message").inner_text()

        teacher.wait_for_function(
            "document.getElementById('counts').innerText.includes('answered 3 / 3')"
        )
        assert "(full)" in teacher.locator("#counts").inner_text()
        labels = teacher.evaluate(
            "echarts.getInstanceByDom(document.getElementById('chart-histogram'))"
            ".getOption().xAxis[0].data"
        )
        assert labels == ["≤ 0.86", "0.86–1", "1–1.2", "1.2–1.5", "1.5–2", "2–3", "> 3"]
        assert "Class mean λ ≈" in teacher.locator("#class-mean").inner_text()
        # the teacher removes the joke and makes room for the late student
        teacher.on("dialog", lambda dialog: dialog.accept())
        teacher.click("#show-answers")
        rows = teacher.locator("#answers-list tr")
        assert rows.count() == 3
        teacher.locator("#answers-list tr", has_text="λ ≤ 0.86").locator("button").click()
        teacher.wait_for_function(
            "document.getElementById('counts').innerText.includes('joined 2 / 3 · answered 2 / 3')"
        )
        teacher.click("#close-answers")
        teacher.fill("#size-input", "4")
        teacher.click("#size-set")
        teacher.wait_for_function(
            "document.getElementById('counts').innerText.includes('joined 2 / 4')"
        )
        late.reload()
        late.locator(".lottery").first.wait_for()
        joke.reload()
        joke.wait_for_function("document.getElementById('message').innerText.includes('removed')")

        _class_market(teacher)
        for chart in ("#chart-histogram", "#chart-market-class", "#chart-market-neutral"):
            assert _drawn(teacher.locator(chart).screenshot()), chart
        size = teacher.evaluate("[document.documentElement.scrollHeight, innerHeight]")
        assert size[0] <= size[1], "the teacher's page scrolls"
        teacher.screenshot(path=str(SHOTS / "teacher_1280x720.png"))
        big = watch.page(browser, viewport={"width": 1920, "height": 1080})
        big.goto(teacher_url)
        big.wait_for_function("document.body.dataset.ready === 'true'")
        assert _address_fits(big, base) >= 32
        big.screenshot(path=str(SHOTS / "teacher_1920x1080.png"))
        # a student's page cannot open the teacher's
        assert phones[0].goto(f"{base}/teacher").status == 403
    watch.failed = [f for f in watch.failed if not f.endswith("/teacher")]  # the 403 above
    watch.failed = [f for f in watch.failed if "/api/" not in f]  # the refusals above
    watch.check()


def _class_market(teacher: object) -> None:
    """The market plays at about 5 steps a second, pauses, and plays on to step 40."""
    assert teacher.locator("#market-interval").input_value() == "200"  # type: ignore[attr-defined]
    teacher.click("#run-market")  # type: ignore[attr-defined]
    teacher.wait_for_function("window.teacher.market.playing")  # type: ignore[attr-defined]
    started = teacher.evaluate("window.classroomStats.frames")  # type: ignore[attr-defined]
    teacher.wait_for_timeout(2000)  # type: ignore[attr-defined]
    played = teacher.evaluate("window.classroomStats.frames") - started  # type: ignore[attr-defined]
    assert 2 <= played <= 12, played  # 5 a second: slow enough to talk over
    teacher.click("#play-market")  # type: ignore[attr-defined]  # pause
    teacher.wait_for_function("!window.teacher.market.busy")  # type: ignore[attr-defined]
    paused = teacher.locator("#market-counter").inner_text()  # type: ignore[attr-defined]
    teacher.wait_for_timeout(600)  # type: ignore[attr-defined]
    assert teacher.locator("#market-counter").inner_text() == paused  # type: ignore[attr-defined]
    assert teacher.locator("#play-market").inner_text() == "▶ Play"  # type: ignore[attr-defined]
    note = teacher.locator("#market-class-note").inner_text()  # type: ignore[attr-defined]
    assert note == "(λ drawn from 1 consistent answer)"  # the joke was removed
    teacher.evaluate(  # type: ignore[attr-defined]
        "(() => { const i = document.getElementById('market-interval'); i.value = 0;"
        " i.dispatchEvent(new Event('input')); })()"
    )
    assert teacher.locator("#market-interval").input_value() == "20"  # type: ignore[attr-defined]
    teacher.click("#play-market")  # type: ignore[attr-defined]
    teacher.wait_for_function(  # type: ignore[attr-defined]
        "document.getElementById('market-counter').innerText.startsWith('step 40')",
        timeout=60_000,
    )
