"""A class session without a browser: the lottery list, the SQLite store, the students'
endpoints (every bad submission), and the live models over the pages' socket."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.classroom.elicitation import (
    BANDS,
    LOSSES,
    band_of,
    band_position,
    draw_loss_aversion,
    first_inconsistency,
    summarize,
)
from sim.classroom.store import AlreadyAnswered, ClassStore, UnknownStudent

pytest.importorskip("starlette", reason="the class session needs the 'app' extra")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install -e '.[test]'")

from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from sim.classroom.class_api import DEVICE_COOKIE, MAX_BODY, ClassRoom
from sim.classroom.guard import host_allowed, origin_allowed
from sim.classroom.lessons import LESSONS
from sim.classroom.live import FLOOR_MS, LivePage, LivePages
from sim.classroom.market import class_markets
from sim.classroom.views import ModelView
from sim.classroom.web import STATIC, create_app
from sim.classroom.wording import lesson_texts

ECHARTS_SHA256 = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"

A, R = "accept", "reject"


def answers(accepted: int) -> list[str]:
    """A consistent answer that accepts the first ``accepted`` lotteries."""
    return [A] * accepted + [R] * (len(LOSSES) - accepted)


# ----------------------------------------------------------------- the lottery list
@pytest.mark.parametrize(
    ("accepted", "low", "high"),
    [(0, 3.0, np.inf), (1, 2.0, 3.0), (2, 1.5, 2.0), (3, 1.2, 1.5), (4, 1.0, 1.2), (5, 6 / 7, 1.0)],
)
def test_band_is_between_rejected_and_accepted_bounds(
    accepted: int, low: float, high: float
) -> None:
    band = band_of(answers(accepted))
    assert band is not None
    assert band.low == pytest.approx(low) and band.high == pytest.approx(high)
    # λ in the band accepts exactly the lotteries accepted (linear utility: λ <= 6/L)
    lam = (low + min(high, 4.0)) / 2
    assert [A if 0.5 * 6 - 0.5 * lam * loss >= 0 else R for loss in LOSSES] == answers(accepted)


def test_open_bands_are_closed_where_the_next_lottery_would_close_them() -> None:
    rejects_all, accepts_all = band_of(answers(0)), band_of(answers(6))
    assert rejects_all is not None and accepts_all is not None
    assert rejects_all.open_high and rejects_all.label == "λ > 3"
    assert rejects_all.closed == (3.0, 4.0)  # as if "win 6 / lose 1.5" were accepted
    assert accepts_all.open_low and accepts_all.label == "λ ≤ 0.86"
    assert accepts_all.closed == pytest.approx((0.75, 6 / 7))  # as if "lose 8" were rejected


def test_inconsistent_answers_have_no_band() -> None:
    clash = [A, R, A, R, R, R]  # rejects "lose 3", then accepts "lose 4" (worse)
    assert first_inconsistency(clash) == (1, 2)
    assert band_of(clash) is None
    assert first_inconsistency(answers(3)) is None
    with pytest.raises(ValueError, match="6 answers"):
        band_of([A] * 5)
    summary = summarize([answers(2), answers(2), clash, answers(0)])
    assert summary["answered"] == 4 and summary["inconsistent"] == 1
    assert [b["count"] for b in summary["bands"]] == [0, 0, 0, 0, 2, 0, 1]  # λ ascending
    assert summary["mean_midpoint"] == pytest.approx((3.5 + 1.75 + 1.75) / 3)


def test_the_histogram_has_one_bar_per_band_and_the_references_between() -> None:
    """Bars of equal width, named by their band, from the lowest λ; 1.96 and 2.25 drawn
    where they fall within their bands (1.96 near the top of 1.5–2, 2.25 a quarter into
    2–3); the class mean with its t-interval over students' band midpoints."""
    summary = summarize([answers(2), answers(2), answers(1), answers(0), answers(3)])
    labels = [b["label"] for b in summary["bands"]]
    assert labels == ["≤ 0.86", "0.86–1", "1–1.2", "1.2–1.5", "1.5–2", "2–3", "> 3"]
    references = {r["value"]: r["position"] for r in summary["references"]}
    assert references[1.96] == pytest.approx(4 + 0.46 / 0.5)
    assert references[2.25] == pytest.approx(5 + 0.25)
    assert 4 < references[1.96] < 5 < references[2.25] < 6  # each inside its own bar
    assert band_position(1.5) == pytest.approx(4.0) and band_position(3.5) == pytest.approx(6.5)
    midpoints = np.array([1.75, 1.75, 2.5, 3.5, 1.35])
    half = stats.t.ppf(0.975, 4) * midpoints.std(ddof=1) / np.sqrt(5)
    mean = summary["mean"]
    assert mean["mean"] == pytest.approx(midpoints.mean())
    assert (mean["low"], mean["high"]) == pytest.approx(
        (midpoints.mean() - half, midpoints.mean() + half)
    )
    assert mean["position"] == pytest.approx(band_position(midpoints.mean()))
    one = summarize([answers(2)])["mean"]
    assert one["low"] is None and summarize([])["mean"] is None


def test_class_loss_aversion_is_drawn_from_the_bands_with_the_models_generator() -> None:
    bands = [BANDS[2], BANDS[2], BANDS[0]]  # (1.5, 2] twice, (3, 4] once
    values = draw_loss_aversion(bands, 3000, np.random.default_rng(1))
    assert ((values > 1.5) & (values <= 2) | (values > 3) & (values <= 4)).all()
    assert np.mean(values > 3) == pytest.approx(1 / 3, abs=0.03)
    first, neutral = class_markets(bands, seed=5)
    again, _ = class_markets(bands, seed=5)
    np.testing.assert_array_equal(first.loss_aversion, again.loss_aversion)  # the seed fixes it
    assert (neutral.loss_aversion == 1).all()
    np.testing.assert_array_equal(first.needs, neutral.needs)  # the same market otherwise
    with pytest.raises(ValueError, match="no consistent answers"):
        draw_loss_aversion([], 10, np.random.default_rng(1))


# ----------------------------------------------------------------- the store
def test_store_keeps_everything_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "class.sqlite3"
    store = ClassStore(path)
    session = store.open_session()
    tokens = [store.join(session) for _ in range(3)]
    store.answer(session, tokens[0], answers(2))
    store.answer(session, tokens[1], [A, R, A, R, R, R])
    store.close()

    store = ClassStore(path)  # the server started again
    assert store.open_session() == session  # resumed: same code, same key
    assert store.answers(session) == [answers(2), [A, R, A, R, R, R]]
    assert store.joined(session) == 3
    store.answer(session, tokens[2], answers(5))  # joined before, answers after
    with pytest.raises(AlreadyAnswered):
        store.answer(session, tokens[0], answers(0))
    with pytest.raises(UnknownStudent):
        store.answer(session, "not-a-token-at-all", answers(0))
    assert store.own_answer(session, tokens[0]) == answers(2)
    fresh = store.open_session(new=True)
    assert fresh.code != session.code and store.answers(fresh) == []
    out = tmp_path / "answers.csv"
    assert store.export_csv(out) == 3
    rows = out.read_text().splitlines()
    assert rows[0].startswith("session_started,answered,win6_lose2,")
    assert rows[1].endswith("accept,accept,reject,reject,reject,reject,True,1.5,2")
    assert ",False,," in rows[2]
    assert not any(token in out.read_text() for token in tokens)  # anonymous
    store.close()


def test_an_old_session_is_not_resumed(tmp_path: Path) -> None:
    store = ClassStore(tmp_path / "class.sqlite3")
    old = store.open_session(now=time.time() - 13 * 3600)
    assert store.open_session() != old
    store.close()


# ----------------------------------------------------------------- the endpoints
@pytest.fixture
def classroom(tmp_path: Path) -> ClassRoom:
    store = ClassStore(tmp_path / "class.sqlite3")
    session = store.open_session()
    return ClassRoom(store, session, f"http://127.0.0.1:8765/j?code={session.code}")


#: The socket's address as a page on this server opens it (TestClient needs it whole).
WS = "ws://127.0.0.1:8765"


def local(app: Any, address: str = "127.0.0.1") -> Any:
    """A test client that asks for the server by its address, from ``address``."""
    return TestClient(app, base_url="http://127.0.0.1:8765", client=(address, 50000))


@pytest.fixture
def client(classroom: ClassRoom, small_claims: dict[str, Any]) -> Any:
    with local(create_app(classroom, claims=small_claims)) as test_client:
        yield test_client


def join(client: Any, classroom: ClassRoom) -> str:
    """A new student, on a new device (no device cookie yet)."""
    client.cookies.clear()
    reply = client.post("/api/join", json={"code": classroom.session.code.lower()})
    assert reply.status_code == 201, reply.text
    assert reply.json()["losses"] == list(LOSSES)
    return reply.json()["token"]


def test_a_student_joins_answers_and_sees_their_band(client: Any, classroom: ClassRoom) -> None:
    token = join(client, classroom)
    assert client.post("/api/me", json={"token": token}).json()["answered"] is False
    reply = client.post("/api/answer", json={"token": token, "answers": answers(3)})
    assert reply.status_code == 201
    assert reply.json()["band"]["label"] == "1.20 < λ ≤ 1.50"
    assert (
        client.post("/api/me", json={"token": token}).json()["band"]["label"] == "1.20 < λ ≤ 1.50"
    )
    token = join(client, classroom)
    reply = client.post("/api/answer", json={"token": token, "answers": [A, R, A, R, R, R]})
    assert reply.status_code == 201
    assert reply.json()["consistent"] is False and reply.json()["inconsistency"] == [3, 4]
    overview = client.get("/api/class", headers={"X-Teacher-Key": classroom.session.teacher_key})
    assert overview.status_code == 200
    data = overview.json()
    assert (data["answered"], data["inconsistent"], data["joined"]) == (2, 1, 2)
    assert [(r["label"], r["value"]) for r in data["references"]] == [
        ("Tversky & Kahneman 1992", 2.25),
        ("meta-analysis 2024", 1.96),
    ]
    assert data["size"] == 40 and [a["band"] for a in data["answer_list"]] == [
        "inconsistent",
        "1.20 < λ ≤ 1.50",
    ]  # newest first


def _raw(client: Any, path: str, body: bytes, content_type: str = "application/json") -> Any:
    return client.post(path, content=body, headers={"Content-Type": content_type})


def test_every_bad_submission_is_refused_and_changes_nothing(
    client: Any, classroom: ClassRoom
) -> None:
    token = join(client, classroom)
    good = {"token": token, "answers": answers(2)}
    cases = [
        ("not JSON", _raw(client, "/api/answer", b"{token: 1"), 400),
        ("not an object", _raw(client, "/api/answer", b"[1, 2]"), 400),
        ("a key too many", client.post("/api/answer", json={**good, "name": "x"}), 400),
        ("a key missing", client.post("/api/answer", json={"token": token}), 400),
        (
            "wrong content type",
            _raw(client, "/api/answer", json.dumps(good).encode(), "text/plain"),
            415,
        ),
        ("oversized", _raw(client, "/api/answer", b'{"token": "' + b"x" * MAX_BODY + b'"}'), 413),
        ("five answers", client.post("/api/answer", json={**good, "answers": answers(2)[:5]}), 422),
        (
            "not accept/reject",
            client.post("/api/answer", json={**good, "answers": ["yes"] * 6}),
            422,
        ),
        ("answers not a list", client.post("/api/answer", json={**good, "answers": "accept"}), 422),
        ("someone else's token", client.post("/api/answer", json={**good, "token": "x" * 22}), 403),
        ("token not a string", client.post("/api/answer", json={**good, "token": 7}), 403),
        ("wrong code", client.post("/api/join", json={"code": "ZZZZZ"}), 403),
        ("code not a string", client.post("/api/join", json={"code": 12345}), 403),
        ("GET on a POST endpoint", client.get("/api/answer"), 405),
    ]
    for name, reply, status in cases:
        assert reply.status_code == status, f"{name}: {reply.status_code} {reply.text}"
        assert status == 405 or "error" in reply.json(), name
    assert classroom.store.answers(classroom.session) == []  # nothing stored
    assert classroom.store.joined(classroom.session) == 1
    assert client.post("/api/answer", json=good).status_code == 201
    repeated = client.post("/api/answer", json={**good, "answers": answers(6)})
    assert repeated.status_code == 409
    assert classroom.store.answers(classroom.session) == [answers(2)]  # the first one stays


def test_wrong_codes_are_limited(client: Any, classroom: ClassRoom) -> None:
    statuses = [client.post("/api/join", json={"code": "WRONG"}).status_code for _ in range(25)]
    assert statuses[:20] == [403] * 20 and set(statuses[20:]) == {429}
    right = client.post("/api/join", json={"code": classroom.session.code})
    assert right.status_code == 429  # the limit holds for a minute, whatever the code


def test_students_cannot_reach_the_teachers_side(classroom: ClassRoom) -> None:
    key = classroom.session.teacher_key
    app = create_app(classroom)
    with local(app, "192.168.1.23") as phone:
        assert phone.get("/j").status_code == 200
        assert phone.get("/join").status_code == 200  # the longer address still works
        assert phone.get("/").status_code == 200  # redirected to /j
        for path in (
            "/teacher",
            "/lessons",
            "/api/class",
            "/api/qr.svg",
            "/api/status",
            "/api/lessons",
        ):
            assert phone.get(path).status_code == 403, path
            # even with the teacher's key: the teacher's page is this computer's only
            assert phone.get(f"{path}?key={key}").status_code == 403, path
        with (
            pytest.raises(WebSocketDisconnect),
            phone.websocket_connect(f"{WS}/ws/model?key={key}") as ws,
        ):
            ws.receive_json()
    with local(app) as here:
        assert here.get("/teacher").status_code == 403  # no key
        assert here.get(f"/teacher?key={key}").status_code == 200
        assert here.get(f"/lessons?key={key}").status_code == 200
        qr = here.get(f"/api/qr.svg?key={key}")
        assert qr.status_code == 200 and qr.text.startswith("<svg")
        headers = here.get("/j").headers
        assert "default-src 'self'" in headers["content-security-policy"]


# ----------------------------------------------------------------- live models
def _ws(client: Any, path: str = "/ws/model") -> Any:
    return client.websocket_connect(WS + path)


def test_the_lesson_page_builds_steps_and_stops_at_the_lessons_end(tmp_path: Path) -> None:
    pages = LivePages()
    with local(create_app(pages=pages)) as client, _ws(client) as ws:
        ws.send_json({"op": "build", "lesson": "breakeven", "settings": {"seed": 3}})
        model = ws.receive_json()
        assert model["type"] == "model" and model["max_steps"] == 40
        assert model["frame"]["breakeven"]["clears_at_launch"] > 0.3
        assert len(model["frame"]["firm_of"]) == model["n_customers"] == 1000
        assert model["value_function"]["ratio"] == pytest.approx(2.25, abs=0.01)
        assert pages.models == 1
        ws.send_json(
            {"op": "build", "lesson": "kink", "settings": {"n_customers": 300}, "steps": 3}
        )
        assert ws.receive_json()["n_customers"] == 300
        assert pages.models == 1  # the old model went
        steps = []
        for _ in range(5):
            ws.send_json({"op": "step", "firm": 0})
            frame = ws.receive_json()
            steps.append((frame["step"], frame["done"]))
        assert steps == [(1, False), (2, False), (3, True), (3, True), (3, True)]
        for bad in (
            {"op": "build", "lesson": "nope"},
            {"op": "build", "lesson": "kink", "settings": {"seed": -1}},
            {"op": "build", "lesson": "kink", "steps": 0},
            {"op": "step", "firm": "A"},
            {"op": "market"},  # not a teacher's page of a class
            {"op": "explode"},
            [1, 2],
        ):
            ws.send_json(bad)
            assert ws.receive_json()["type"] == "error", bad
    assert pages.models == 0 and not pages.open  # the page closed: its model is freed


def test_the_play_interval_has_a_floor() -> None:
    """However fast a page asks, one page's steps are at least FLOOR_MS apart."""
    page = LivePage()

    async def run() -> float:
        await page.handle({"op": "build", "lesson": "kink", "steps": 100})
        started = time.monotonic()
        await asyncio.gather(*(page.handle({"op": "step"}) for _ in range(11)))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    assert page.view is not None and page.view.model.steps == 11
    assert elapsed >= 10 * FLOOR_MS / 1000 * 0.99


def test_the_market_with_the_class(classroom: ClassRoom) -> None:
    store, session = classroom.store, classroom.session
    for accepted in (1, 2, 2, 3):
        store.answer(session, store.join(session), answers(accepted))
    store.answer(session, store.join(session), [A, R, A, R, R, R])  # not used
    key = session.teacher_key
    app = create_app(classroom)
    with (
        local(app) as client,
        _ws(client, f"/ws/model?key={key}") as ws,
    ):
        ws.send_json({"op": "market", "seed": 7})
        market = ws.receive_json()
        assert market["type"] == "market" and market["students"] == 4
        for _ in range(3):
            ws.send_json({"op": "market_step"})
            frame = ws.receive_json()
        assert frame["class"]["step"] == frame["neutral"]["step"] == 3
        assert frame["class"]["point"][2] < frame["neutral"]["point"][2]  # λ slows it


def test_the_server_refuses_pages_beyond_its_limit() -> None:
    pages = LivePages(limit=2)
    with local(create_app(pages=pages)) as client:
        with _ws(client) as first, _ws(client) as second, _ws(client) as third:
            reply = third.receive_json()
            assert reply["type"] == "error" and "full" in reply["message"]
            for ws in (first, second):
                ws.send_json({"op": "build", "lesson": "kink", "settings": {"n_customers": 100}})
                assert ws.receive_json()["type"] == "model"
            assert pages.models == 2
        assert pages.models == 0


def test_pages_load_only_their_own_files() -> None:
    """Every script and style a page names is one of the package's files; no other host."""
    vendored = STATIC / "vendor" / "echarts.min.js"
    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == ECHARTS_SHA256
    for page in ("lesson.html", "teacher.html", "student.html"):
        html = (STATIC / page).read_text(encoding="utf-8")
        assert "://" not in html, page
        for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert (STATIC / src.removeprefix("/static/")).is_file(), src
    teacher = (STATIC / "teacher.html").read_text(encoding="utf-8")
    pace = re.search(
        r'id="market-interval" type="range" min="(\d+)" max="\d+" step="\d+" value="(\d+)"', teacher
    )
    assert pace is not None and int(pace.group(1)) == FLOOR_MS  # the server's floor
    assert int(pace.group(2)) == 200  # 5 steps a second: a pace to talk over
    for script in STATIC.glob("*.js"):
        assert "://${location.host}" in script.read_text() or "://" not in script.read_text()


# ----------------------------------------------------------------- class size and stuffing
TEACHER = "X-Teacher-Key"


def test_one_device_is_one_student(client: Any, classroom: ClassRoom) -> None:
    """Joining sets a device cookie; the same device joining again (a reload, a cleared
    page store, a second tab) is the same student, who has answered already."""
    token = join(client, classroom)
    assert client.cookies.get(DEVICE_COOKIE) == token
    assert (
        client.post("/api/answer", json={"token": token, "answers": answers(2)}).status_code == 201
    )
    again = client.post("/api/join", json={"code": classroom.session.code})
    assert again.status_code == 200 and again.json()["token"] == token and again.json()["rejoined"]
    repeat = client.post("/api/answer", json={"token": token, "answers": answers(0)})
    assert repeat.status_code == 409
    assert classroom.store.joined(classroom.session) == 1
    assert classroom.store.answers(classroom.session) == [answers(2)]


def test_a_class_cannot_be_stuffed_from_one_client(classroom: ClassRoom) -> None:
    """The issue's attack: one address posts 475 'accept all' answers, a new device each
    time. No more than the class's size (40) are taken; then the class is full and an
    honest student elsewhere is told so, until the teacher raises the size (to 45: the
    class then never holds more than 45, whoever joins)."""
    app = create_app(classroom)
    code = classroom.session.code
    taken, refusals = 0, set()
    attacker = local(app, "192.168.1.66")  # (no lifespan: the store stays open)
    for _ in range(475):
        attacker.cookies.clear()  # a new "device" every time
        joined = attacker.post("/api/join", json={"code": code})
        if joined.status_code != 201:
            refusals.add((joined.status_code, joined.json()["error"]))
            continue
        token = joined.json()["token"]
        answered = attacker.post("/api/answer", json={"token": token, "answers": answers(6)})
        taken += answered.status_code == 201
    assert taken == 40 == len(classroom.store.answers(classroom.session))
    assert refusals == {(403, "the class is full (40 students): ask your teacher to make room")}
    honest = local(app, "192.168.1.67")
    full = honest.post("/api/join", json={"code": code})
    assert full.status_code == 403 and "the class is full (40 students)" in full.json()["error"]
    teacher, key = local(app), {TEACHER: classroom.session.teacher_key}
    raised = teacher.post("/api/size", json={"size": 45}, headers=key)
    assert raised.json() == {"size": 45, "joined": 40}
    assert teacher.get("/api/class", headers=key).json()["size"] == 45
    assert honest.post("/api/join", json={"code": code}).status_code == 201
    more = 0
    for _ in range(100):  # the attacker goes on: the class never holds more than its size
        attacker.cookies.clear()
        more += attacker.post("/api/join", json={"code": code}).status_code == 201
    assert more == 4 and classroom.store.joined(classroom.session) == 45


def test_joins_per_address_are_limited_to_a_class_a_minute(classroom: ClassRoom) -> None:
    """One address may add a class's worth of students a minute (a whole class behind one
    router still gets in), so seats the teacher frees by removing stuffed answers cannot
    be filled again from the same address at once."""
    now = [1000.0]
    room = ClassRoom(classroom.store, classroom.session, classroom.join_url, clock=lambda: now[0])
    room.store.set_size(room.session, 5)
    app = create_app(room)
    school, code = local(app, "10.0.0.9"), room.session.code

    def one() -> Any:
        school.cookies.clear()  # a new device
        return school.post("/api/join", json={"code": code})

    tokens = [one().json()["token"] for _ in range(5)]
    assert one().status_code == 403  # full
    for token in tokens:
        room.store.answer(room.session, token, answers(6))
    for answer_id, _, _ in room.store.answer_list(room.session)[:2]:
        room.store.remove_answer(room.session, answer_id)  # two seats free again
    refused = one()
    assert refused.status_code == 429 and "5 students joined from this address" in refused.text
    assert local(app, "10.0.0.10").post("/api/join", json={"code": code}).status_code == 201
    now[0] += 61  # a minute later
    assert one().status_code == 201
    assert room.store.joined(room.session) == 5


def test_the_teacher_removes_an_answer(client: Any, classroom: ClassRoom) -> None:
    tokens = [join(client, classroom) for _ in range(3)]
    for token, accepted in zip(tokens, (6, 2, 3), strict=True):
        client.post("/api/answer", json={"token": token, "answers": answers(accepted)})
    key = {TEACHER: classroom.session.teacher_key}
    listed = client.get("/api/class", headers=key).json()["answer_list"]
    joke = next(a for a in listed if a["band"] == "λ ≤ 0.86")
    removed = client.post("/api/remove", json={"answer": joke["id"]}, headers=key)
    assert removed.status_code == 200 and removed.json() == {"removed": joke["id"], "answered": 2}
    data = client.get("/api/class", headers=key).json()
    assert (data["answered"], data["joined"]) == (2, 2)  # the seat is free again
    assert joke["id"] not in [a["id"] for a in data["answer_list"]]
    again = client.post("/api/answer", json={"token": tokens[0], "answers": answers(2)})
    assert again.status_code == 403 and "removed" in again.json()["error"]
    assert client.post("/api/me", json={"token": tokens[0]}).status_code == 403
    for bad, status in [
        ({"answer": joke["id"]}, 404),
        ({"answer": "1"}, 422),
        ({"answer": True}, 422),
    ]:
        assert client.post("/api/remove", json=bad, headers=key).status_code == status, bad
    student = local(client.app, "192.168.1.5")
    assert student.post("/api/remove", json={"answer": 1}, headers=key).status_code == 403


@pytest.mark.parametrize("size", [0, 501, "40", 2.5, True, None])
def test_the_class_size_is_checked(client: Any, classroom: ClassRoom, size: Any) -> None:
    key = {TEACHER: classroom.session.teacher_key}
    reply = client.post("/api/size", json={"size": size}, headers=key)
    assert reply.status_code == 422
    assert reply.json()["error"] == f"size = {size!r}: expected an integer >= 1 and <= 500"
    assert classroom.size == 40


def test_media_types_are_case_insensitive(client: Any, classroom: ClassRoom) -> None:
    body = json.dumps({"code": classroom.session.code}).encode()
    for media_type in ("Application/JSON", "APPLICATION/JSON; charset=UTF-8"):
        client.cookies.clear()
        assert _raw(client, "/api/join", body, media_type).status_code == 201, media_type
    assert _raw(client, "/api/join", body, "application/jsonx").status_code == 415


# ----------------------------------------------------------------- hardening
def test_other_hosts_and_origins_are_refused(small_claims: dict[str, Any]) -> None:
    """DNS rebinding (a name of another site pointing here) and pages of other sites
    opening the model's socket are refused; the page's own origin is let in."""
    app = create_app(claims=small_claims)
    with TestClient(app, base_url="http://evil.example:8765") as rebound:
        refused = rebound.get("/api/lessons")
        assert refused.status_code == 400 and "expected this computer's address" in refused.text
        with pytest.raises(WebSocketDisconnect) as closed, rebound.websocket_connect("/ws/model"):
            pass
        assert closed.value.code == 1008
    with local(app) as here:
        assert here.get("/api/lessons").status_code == 200
        for origin in ("http://evil.example", "http://127.0.0.1:9999", "null"):
            with (
                pytest.raises(WebSocketDisconnect),
                here.websocket_connect(f"{WS}/ws/model", headers={"origin": origin}),
            ):
                pass
        with here.websocket_connect(
            f"{WS}/ws/model", headers={"origin": "http://127.0.0.1:8765"}
        ) as ws:
            ws.send_json({"op": "build", "lesson": "kink", "settings": {"n_customers": 100}})
            assert ws.receive_json()["type"] == "model"
    for host, allowed in [
        ("127.0.0.1:8765", True),
        ("[::1]:8765", True),
        ("192.168.1.23:8765", True),
        ("LOCALHOST:8765", True),
        ("evil.example", False),
        ("127.0.0.1.nip.io:8765", False),
        ("", False),
    ]:
        assert host_allowed(host) is allowed, host
    assert origin_allowed(None, "127.0.0.1:8765")
    assert origin_allowed("HTTP://127.0.0.1:8765", "127.0.0.1:8765")


def test_a_binary_frame_closes_the_socket_cleanly(small_claims: dict[str, Any]) -> None:
    pages = LivePages()
    with local(create_app(pages=pages, claims=small_claims)) as client:
        with _ws(client) as ws:
            ws.send_bytes(b"\x00\x01binary")
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1003
        assert pages.models == 0 and not pages.open


def test_the_page_data_is_the_measured_lessons(small_claims: dict[str, Any]) -> None:
    with local(create_app(claims=small_claims)) as client:
        data = client.get("/api/lessons").json()
    assert data["floor_ms"] == FLOOR_MS
    for lesson in data["lessons"]:
        claims = small_claims[lesson["name"]]
        assert lesson["settings"]["seed"] == claims.opening_seed()
        texts = lesson_texts(LESSONS[lesson["name"]], claims)
        assert {k: lesson[k] for k in texts} == texts


def test_the_breakeven_panel_holds_still_and_knows_a_first_product() -> None:
    """Lessons 1-3: the axes at launch are those at the end. Lesson 4 at step 0: a firm
    that has not released yet shows no launch."""
    view = ModelView(LESSONS["breakeven"].model(), 40)
    first = view.start()["frame"]["breakeven"]
    for _ in range(40):
        view.model.step()
    last = view.frame()["breakeven"]
    assert first["released"] and last["limit"] == first["limit"]
    assert last["clears_at_launch"] == first["clears_at_launch"]
    felt = np.array(last["clear"] + last["below"]).reshape(-1, 2)
    assert np.quantile(felt, 0.95) <= last["limit"]  # the cloud still fits
    market = ModelView(LESSONS["winner"].model(), 200).start()["frame"]["breakeven"]
    assert market["released"] is False
