"""The classroom's model and controls, and the lessons (their figures and their numbers)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.classroom import handouts, measured, wording
from sim.classroom.claims import (
    NO_WINNER,
    SEEDS,
    LessonClaims,
    RunShare,
    Spread,
    percent,
    winner,
)
from sim.classroom.controls import CONTROLS, ClassroomModel, check_controls, full_settings
from sim.classroom.handouts import lesson_command
from sim.classroom.lessons import LESSONS
from sim.classroom.views import ModelView
from sim.classroom.wording import lesson_texts
from sim.errors import InputError
from sim.spec import ParameterError


# ----------------------------------------------------------------- model and data
def test_controls_build_the_model() -> None:
    model = ClassroomModel(loss_aversion_mean=3.0, firm_b="off", n_customers=300, seed="7")
    assert model.params["loss_aversion_mean"] == 3.0
    assert [f.name for f in model.firms] == ["A", "C"]
    assert model.firm_colours[1] != model.firm_colours[0]  # C keeps its own colour
    assert model.controls["seed"] == 7 and model.n_customers == 300
    same = ClassroomModel(loss_aversion_mean=3.0, firm_b="off", n_customers=300, seed=7)
    np.testing.assert_array_equal(model.loss_aversion, same.loss_aversion)
    with pytest.raises(ParameterError, match="seed"):
        ClassroomModel(seed="abc")


def test_controls_are_checked() -> None:
    assert check_controls({"seed": 3, "loss_aversion_mean": 2}) == {
        "seed": 3,
        "loss_aversion_mean": 2.0,
    }
    for bad, message in [
        ({"seed": 3.5}, "seed = 3.5: expected an integer >= 0 and <= 100"),
        ({"seed": 101}, "seed = 101: expected an integer >= 0 and <= 100"),
        ({"n_customers": True}, "n_customers = True: expected an integer >= 100 and <= 2_000"),
        (
            {"loss_aversion_mean": float("nan")},
            "loss_aversion_mean = nan: expected a number >= 0.5 and <= 4",
        ),
        ({"loss_aversion_mean": "2"}, "loss_aversion_mean = '2': expected a number"),
        ({"firm_a": "off"}, "firm_a = 'off': expected one of 'incremental'"),
        ({"colour": 1}, "colour: unknown control"),
    ]:
        with pytest.raises(InputError, match=re.escape(message)):
            check_controls(bad)
    assert {c.name for c in CONTROLS} <= set(full_settings())


def test_class_loss_aversion_replaces_the_drawn_one() -> None:
    model = ClassroomModel(n_customers=200, seed=3)
    values = np.linspace(0.5, 3.0, 200)
    model.set_loss_aversion(values)
    np.testing.assert_array_equal(model.loss_aversion, values)
    model.step()
    with pytest.raises(ParameterError, match="at step 1"):
        model.set_loss_aversion(values)
    fresh = ClassroomModel(n_customers=200, seed=3)
    for bad, message in [
        (values[:-1], "199 values"),
        (np.r_[values[:-1], np.inf], "inf"),
        (np.r_[values[:-1], -0.5], "-0.5: expected a finite number >= 0"),
    ]:
        with pytest.raises(ParameterError, match=re.escape(message)):
            fresh.set_loss_aversion(bad)


# ----------------------------------------------------------------- lessons
def _lesson_args(**kwargs: Any) -> argparse.Namespace:
    return argparse.Namespace(
        **{"name": None, "out": None, "list": False, "numbers": False, **kwargs}
    )


@pytest.fixture
def measured_small(monkeypatch: pytest.MonkeyPatch, small_claims: dict[str, Any]) -> None:
    """``run.py lesson`` on the claims of 20 seeds (the 100 seeds are the slow test's)."""

    def lesson_claims(names: list[str], **_: Any) -> dict[str, Any]:
        return {name: small_claims[name] for name in names}

    monkeypatch.setattr(handouts, "lesson_claims", lesson_claims)


def test_lesson_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson_command(_lesson_args(list=True)) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("kink", "breakeven", "trust", "winner"))


def test_unknown_lesson_is_one_line_error() -> None:
    with pytest.raises(InputError, match=r"^lesson = 'nope': expected one of kink, .*winner$"):
        lesson_command(_lesson_args(name="nope"))
    with pytest.raises(InputError, match="give a lesson NAME"):
        lesson_command(_lesson_args())


@pytest.mark.parametrize("name", list(LESSONS))
def test_each_lesson_renders(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], measured_small: None
) -> None:
    assert lesson_command(_lesson_args(name=name, out=str(tmp_path))) == 0
    printed = [Path(line) for line in capsys.readouterr().out.split()]
    pngs = sorted(p.name for p in printed if p.suffix == ".png")
    assert pngs == sorted(
        f"{name}_{part}.png"
        for part in ("value_function", "adoption", "breakeven", "network", "compare")
    )
    for path in printed:
        assert path.exists()
        assert path.suffix == ".md" or path.stat().st_size > 5_000
    handout = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
    lesson = LESSONS[name]
    assert lesson.ask.split("{")[0] in handout and "Measured on 20 runs" in handout
    assert "{" not in handout  # every placeholder filled
    import matplotlib.image

    picture = matplotlib.image.imread(tmp_path / f"{name}_adoption.png")
    assert picture.std() > 0.05  # not blank


RESULT = re.compile(r"\d\s*%|\d+\.\d+ times|\bwins\b.*\d")


@pytest.mark.parametrize("name", list(LESSONS))
def test_no_lesson_types_a_number_it_measures(name: str) -> None:
    """Percentages, ratios and win counts appear in a lesson's templates only as
    placeholders: what the class reads is measured, never typed."""
    lesson = LESSONS[name]
    for template in (lesson.paragraph, lesson.notice, lesson.try_this, lesson.ask):
        assert not RESULT.search(wording.PLACEHOLDER.sub("", template)), template
        assert lesson.notice and lesson.try_this and lesson.ask and lesson.short


def test_the_text_is_filled_from_the_claims(small_claims: dict[str, Any]) -> None:
    lesson, claims = LESSONS["breakeven"], small_claims["breakeven"]
    texts = lesson_texts(lesson, claims)
    launch = claims.spread("l225", "launch")
    low, high = launch.run_range
    expected = f"{percent(launch.median)} % ({percent(low)}–{percent(high)} %)"
    assert texts["notice"].startswith(f"At λ̄ = 2.25, {expected} of the customers clear")
    assert "social proof" in texts["paragraph"] and "social proof" in texts["notice"]
    assert f"opens on seed {claims.opening_seed()}" in texts["measured"]
    with pytest.raises(KeyError, match="no 'nothing' in 'l225'"):
        wording.fill("{typical:l225:nothing}", lesson, claims)
    with pytest.raises(KeyError, match="unknown placeholder"):
        wording.fill("{odd:l225}", lesson, claims)
    market = lesson_texts(LESSONS["winner"], small_claims["winner"])
    assert "{" not in " ".join(market.values())
    assert re.search(r"every \d+ steps \(incremental\)", market["paragraph"])


def test_numbers_have_their_intervals() -> None:
    """The forms of a measured number and of its interval, on values known by hand."""
    spread = Spread(np.linspace(0.0, 1.0, 101))  # 0, 0.01, ..., 1
    assert spread.median == pytest.approx(0.5) and spread.run_range == pytest.approx((0.05, 0.95))
    assert spread.typical_text() == "50 % (5–95 %)"
    half = stats.t.ppf(0.975, 100) * np.std(spread.values, ddof=1) / np.sqrt(101)
    assert spread.mean_ci == pytest.approx((0.5 - half, 0.5 + half))
    assert Spread(np.zeros(20)).typical_text() == "0 % (at least 9 runs in 10)"
    assert percent(0.997) == "99.7" and percent(0.004) == "0.4" and percent(0.29) == "29"
    assert Spread(np.full(10, 2.26)).typical_text("ratio") == "2.3 (2.3–2.3)"
    wins = RunShare(70, 100)
    low, high = stats.binomtest(70, 100).proportion_ci(0.95, method="wilson")
    assert wins.text() == f"70 % of runs (CI {percent(low)}–{percent(high)} %)"
    assert winner([0.50, 0.495, 0.005]) == NO_WINNER  # a lead under 0.01 is no win
    assert winner([0.2, 0.5, 0.3]) == 1


def test_the_opening_seed_is_typical_in_every_number(small_claims: dict[str, Any]) -> None:
    for claims in small_claims.values():
        seed = claims.opening_seed()
        for (variant, metric), value in claims.opening_values().items():
            assert claims.spread(variant, metric).contains(value), (claims.lesson, seed, variant)
    # a seed that is typical in one number and extreme in another is not chosen
    claims = LessonClaims(
        "t",
        [0, 1, 2, 3, 4],
        {"v": {"a": np.array([0.0, 1, 2, 3, 4]), "b": np.array([2.0, 4, 0, 1, 3])}},
    )
    assert claims.opening_seed() == 3  # a rank 4th of 5 and 2nd of 5: the most central


def test_claims_keep_exactly(small_claims: dict[str, Any]) -> None:
    for claims in small_claims.values():
        again = LessonClaims.from_json(json.loads(json.dumps(claims.to_json())))
        assert again.opening_seed() == claims.opening_seed()
        for variant, by_metric in claims.metrics.items():
            for metric, values in by_metric.items():
                np.testing.assert_array_equal(again.metrics[variant][metric], values)
        for variant, series in claims.series.items():
            np.testing.assert_array_equal(again.series[variant], series)


def test_kept_claims_are_used_only_by_the_code_that_measured_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_claims: dict[str, Any]
) -> None:
    """The digest changes with any byte of the package's code; a kept file of another
    digest is never read, and is removed when the lesson is measured again."""
    package = tmp_path / "sim"
    shutil.copytree(measured.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = measured.claims_digest(package)
    model = package / "model.py"
    model.write_text(model.read_text() + "\n# a change\n")
    assert measured.claims_digest(package) != before

    calls: list[list[str]] = []

    def fake_measure(lessons: Any, seeds: Any, **_: Any) -> dict[str, Any]:
        names = [lesson.name for lesson in lessons]
        calls.append(names)
        return {name: small_claims[name] for name in names}

    monkeypatch.setattr(measured, "measure", fake_measure)
    cache = tmp_path / "claims"
    cache.mkdir()
    (cache / "kink-00000000000000000000.json").write_text("{}")  # another version's
    first = measured.lesson_claims(["kink"], cache=cache, quiet=True)
    assert calls == [["kink"]]
    assert [p.name for p in cache.iterdir()] == [f"kink-{measured.claims_digest()[:20]}.json"]
    again = measured.lesson_claims(["kink"], cache=cache, quiet=True)
    assert calls == [["kink"]]  # read back, not measured again
    assert again["kink"].opening_seed() == first["kink"].opening_seed()
    monkeypatch.setattr(measured, "claims_digest", lambda: "f" * 64)  # the code changed
    measured.lesson_claims(["kink"], cache=cache, quiet=True)
    assert calls == [["kink"], ["kink"]]


def test_lesson_numbers_command(capsys: pytest.CaptureFixture[str], measured_small: None) -> None:
    code = lesson_command(_lesson_args(name="trust", numbers=True))
    out = capsys.readouterr().out.splitlines()
    claims_ok = all(
        check.holds(handouts.lesson_claims(["trust"])["trust"]) for check in LESSONS["trust"].checks
    )
    assert code == (0 if claims_ok else 1)  # a statement the numbers do not bear out fails
    assert out[0].startswith("3. Trust and co-creation lower the bar: 20 seeds per variant")
    assert re.match(
        r"  T = 0.3, c = 0: clears the bar at launch: median .* \(middle 90 % of runs", out[1]
    )
    assert any(line.startswith("Opening seed: ") for line in out)
    assert sum(line.startswith(("holds: ", "FAILS: ")) for line in out) == len(
        LESSONS["trust"].checks
    )
    assert out[-3].startswith("Notice: With trust 0.3") and "{" not in "".join(out)


@pytest.mark.slow
def test_every_lesson_claim_holds_over_100_seeds_and_on_its_opening_seed() -> None:
    """Every lesson measured afresh on its 100 seeds: every statement of its text holds;
    the seed the page opens on is inside every interval the text states, and so is what
    the page itself shows on it (the break-even panel's numbers, the final shares); the
    kept claims the server reads are identical to these (the cache is fresh), whatever
    the number of worker processes."""
    fresh = measured.measure(LESSONS.values(), SEEDS, workers=1)
    kept = measured.lesson_claims(workers=2, quiet=True)
    for name, lesson in LESSONS.items():
        claims = fresh[name]
        assert len(claims.seeds) >= 100
        for check in lesson.checks:
            assert check.holds(claims), f"{name}: {check.says}"
        for variant, by_metric in claims.metrics.items():
            for metric, values in by_metric.items():
                np.testing.assert_array_equal(kept[name].metrics[variant][metric], values)
        assert lesson_texts(lesson, kept[name]) == lesson_texts(lesson, claims)
        seed = claims.opening_seed()
        for variant in lesson.variants:  # what the page draws on the opening seed
            view = ModelView(lesson.model(**variant.changes, seed=seed), lesson.steps)
            first = view.start()["frame"]
            for _ in range(lesson.steps):
                view.model.step()
            last = view.frame()
            shown = _shown(lesson.kind, first, last, view)
            for metric, value in shown.items():
                spread = claims.spread(variant.key, metric)
                assert spread.contains(value), (name, variant.key, metric, value, spread.run_range)


def _shown(kind: str, first: dict[str, Any], last: dict[str, Any], view: Any) -> dict[str, float]:
    """The numbers the page shows of a run: under the break-even panel, or the shares."""
    if kind == "release":
        return {
            "launch": first["breakeven"]["clears_at_launch"],
            "adopted": last["breakeven"]["adopted_now"],
        }
    return {
        f"share_{f.name}": share
        for f, share in zip(view.model.firms, view.model.firm_shares(), strict=True)
    }
