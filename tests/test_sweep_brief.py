"""The one-page brief (report.html): its numbers are those of the CSV files beside it, it
holds everything it needs, and in headless Chromium it draws its charts, filters the
runs, and makes no request beyond its own file (screenshots at 1280x720 go to
results/screenshots/). The browser part needs Debian's chromium (.ci/install-browser)."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.sweep.loader import load_experiment
from sim.sweep.pipeline import analyse, run_sweep

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CLASSROOM_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "results" / "screenshots"

GRID = """
[experiment]
name = "tiny_map"
base = "{root}/scenarios/baseline.toml"
replicates = 4
steps = 25
seed = 3
keep = []

[set]
"market.n_customers" = 150

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]

[factors.rho]
key = "market.market_dynamism"
values = [0.0, 0.02]

[report]
map = ["lam", "rho"]
"""

LEVERS = """
[experiment]
name = "tiny_levers"
base = "{root}/scenarios/baseline.toml"
design = "lhs"
samples = 12
replicates = 1
steps = 25
seed = 4
keep = []

[base.firms.us]
strategy = "differentiated"

[base.firms.rival]
strategy = "radical"

[set]
"market.n_customers" = 150

[levers]
focal = "us"
strategy = ["differentiated", "radical"]

[uncertainties]
lam = {{ key = "customers.loss_aversion_mean", low = 1.0, high = 4.0 }}
network = {{ key = "network.network", values = ["watts_strogatz", "complete"] }}

[discovery]
"""


def sweep(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.format(root=ROOT), encoding="utf-8")
    exp = load_experiment(path)
    out = tmp_path / name
    run_sweep(exp, out, workers=1, progress=False)
    analyse(exp, out)
    return out


def embedded(out: Path) -> dict:
    page = (out / "report.html").read_text(encoding="utf-8")
    [text] = re.findall(
        r'<script type="application/json" id="brief-data">(.*?)</script>', page, re.S
    )
    return json.loads(text)


def test_the_brief_holds_everything_and_its_numbers_are_the_csvs(tmp_path: Path) -> None:
    out = sweep(tmp_path, GRID, "grid")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the page may load nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "echarts" in page and len(page) > 1_000_000  # ECharts inlined
    data = embedded(out)
    winners = pd.read_csv(out / "winners.csv")
    cells = {(c["x"], c["y"]): c for c in data["map"]["cells"]}
    assert len(cells) == len(winners) == 4
    for row in winners.to_dict("records"):
        cell = cells[(f"{row['lam']:g}", f"{row['rho']:g}")]
        assert cell["verdict"] == row["verdict"] and cell["margin"] == pytest.approx(row["margin"])
        for firm in ("incremental", "differentiated", "radical"):
            assert cell["p_win"][firm] == pytest.approx(row[f"p_win_{firm}"])
            assert cell["p_low"][firm] == pytest.approx(row[f"p_win_{firm}_low"])
    tornado = pd.read_csv(out / "tornado.csv")
    assert [r["swing"] for r in data["tornado"]] == pytest.approx(tornado["swing"].tolist())
    runs = pd.read_csv(out / "runs.csv")
    assert data["runs"]["n"] == len(runs) == 16
    assert data["runs"]["columns"]["winner_strategy"] == runs["winner_strategy"].tolist()
    from sim.sweep.report import headline, verdict_tally

    assert data["meta"]["headline"] == [headline(verdict_tally(winners), 4, "final share")]


def _drawn(png: bytes) -> bool:
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png))[..., :3]
    # a blank canvas is one colour; a drawn one has ink (text, lines, bars) on 0.3 % or
    # more of its pixels (a two-leaf tree has about 0.5 %, a bar chart 5 % and more)
    return bool(pixels.std() > 0.02 and (pixels < 0.8).any(axis=-1).mean() > 0.003)


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason=f"{CHROMIUM} is missing: run .ci/install-browser (apt-get install chromium)",
)
def test_the_brief_in_chromium(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    briefs = {"map": sweep(tmp_path, GRID, "grid"), "levers": sweep(tmp_path, LEVERS, "levers")}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for name, out in briefs.items():
            url = (out / "report.html").resolve().as_uri()
            requests: list[str] = []
            errors: list[str] = []
            # the page's own Content-Security-Policy stays on: no eval from the test
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
            page.on("console", lambda m, seen=errors: m.type == "error" and seen.append(m.text))
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
            assert requests == [url], requests  # nothing but the file itself
            assert not errors, errors
            runs = pd.read_csv(out / "runs.csv")
            assert page.locator("body").get_attribute("data-matching") == str(len(runs))
            charts = ["#chart-answer", "#chart-tornado", "#chart-runs"]
            if name == "levers":
                charts.append("#chart-boxes")
                assert page.locator("#card-choice").is_visible()
                regret = pd.read_csv(out / "regret.csv")
                assert page.locator("#choice-table tbody tr").count() == len(regret)
            for chart in charts:
                assert _drawn(page.locator(chart).screenshot()), (name, chart)
            headline = page.locator("#headline").inner_text()
            assert headline == embedded(out)["meta"]["headline"][0]
            page.locator("#title").scroll_into_view_if_needed()  # the top, as it opens
            page.screenshot(path=str(SHOTS / f"brief_{name}_1280x720.png"))
            page.screenshot(path=str(SHOTS / f"brief_{name}_full.png"), full_page=True)
            if name == "levers":  # filter: drop the complete network, count again
                page.locator("#filters").scroll_into_view_if_needed()
                page.locator("#filters input[value=complete]").uncheck()
                kept = int((runs["network.network"] != "complete").sum())
                assert page.locator("body").get_attribute("data-matching") == str(kept)
                assert 0 < kept < len(runs)
                page.screenshot(path=str(SHOTS / f"brief_{name}_filtered_1280x720.png"))
            assert requests == [url], requests
            page.close()
        browser.close()
