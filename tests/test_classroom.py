"""The classroom's model and controls, and the lessons (their figures and their numbers)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.classroom.controls import CONTROLS, ClassroomModel, check_controls, full_settings
from sim.classroom.lessons import LESSONS, lesson_command, lesson_numbers
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


def test_lesson_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson_command(_lesson_args(list=True)) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("kink", "breakeven", "trust", "winner"))


def test_unknown_lesson_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson_command(_lesson_args(name="nope")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "'nope'" in err and "kink" in err and "winner" in err


@pytest.mark.parametrize("name", list(LESSONS))
def test_each_lesson_renders(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = LESSONS[name]
    if lesson.regimes:  # the same code on fewer seeds, to stay fast
        from dataclasses import replace

        monkeypatch.setitem(LESSONS, name, replace(lesson, seeds=(1, 2)))
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
    assert LESSONS[name].paragraph in handout and LESSONS[name].ask in handout
    import matplotlib.image

    picture = matplotlib.image.imread(tmp_path / f"{name}_adoption.png")
    assert picture.std() > 0.05  # not blank


def test_lesson_2_says_what_the_model_does() -> None:
    """The numbers lesson 2 quotes are the model's: 54 % clear the bar at launch, 84 %
    have adopted by step 40 (social proof), and its text names social proof."""
    lesson = LESSONS["breakeven"]
    measured = dict(line.split(": ", 1) for line in lesson_numbers(lesson))
    assert measured["λ̄ = 2.25"] == "54.4% clear the bar at launch, 83.8% adopted by step 40"
    assert "54 %" in lesson.notice and "84 %" in lesson.notice
    assert "social proof" in lesson.paragraph and "social proof" in lesson.notice
    assert "half" not in lesson.paragraph
    for each in LESSONS.values():
        assert each.notice and each.try_this and each.ask and each.short


def test_lesson_numbers_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson_command(_lesson_args(name="trust", numbers=True)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("T = 0.3, c = 0: 0.0% clear the bar at launch")
    assert len(out) == 3
