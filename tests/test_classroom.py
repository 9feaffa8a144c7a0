"""The classroom page without a browser (solara's render helpers), and the lessons."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.classroom.controls import CONTROLS, ClassroomModel, model_params
from sim.classroom.lessons import LESSONS, lesson_command
from sim.parameters import ParameterError

solara = pytest.importorskip("solara", reason="the classroom page needs the 'app' extra")
v = pytest.importorskip("ipyvuetify")

import sim.classroom.app as app  # noqa: E402  (after the skip: it imports solara)


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


def test_model_params_follow_settings() -> None:
    params = model_params({"loss_aversion_mean": 1.5, "extra": {"alpha": 1.0}})
    assert params["loss_aversion_mean"]["value"] == 1.5
    assert params["extra"] == {"alpha": 1.0}  # fixed: passed on by Reset
    assert params["seed"]["type"] == "SliderInt"  # a number, never a text field
    assert params["n_customers"]["max"] == 2000
    assert params["loss_aversion_mean"]["min"] == 0.5
    assert params["loss_aversion_mean"]["max"] == 4.0


# ----------------------------------------------------------------- the page
@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> list[ClassroomModel]:
    """Every model the page builds, in order."""
    built: list[ClassroomModel] = []

    class Recorded(ClassroomModel):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            built.append(self)

    # Mesa's Reset reads the model's signature: keep the real one (no **kwargs)
    Recorded.__init__.__signature__ = inspect.signature(ClassroomModel.__init__)  # type: ignore[attr-defined]

    monkeypatch.setattr(app, "ClassroomModel", Recorded)
    return built


def _render() -> tuple[Any, Any]:
    """Render the page as the server does: inside an AppLayout (it holds the sidebar)."""
    return solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)


def _slider(rc: Any, label: str) -> Any:
    found = rc.find(v.Slider, label=label)
    found.assert_single()
    return found.widget


def _info(rc: Any) -> str:
    """The page's one-line description of the current model."""
    from solara.widgets import HTML

    found = rc.find(HTML, attributes={"class": "classroom-info"})
    found.assert_single()
    return found.widget.unsafe_innerHTML


def _button(rc: Any, text: str) -> Any:
    found = rc.find(v.Btn, children=[text])
    found.assert_single()
    return found.widget


def test_page_has_every_control(models: list[ClassroomModel]) -> None:
    _, rc = _render()
    for control in CONTROLS:
        kind = v.Select if control.kind == "select" else v.Slider
        rc.find(kind, label=control.label).assert_single()
    for text in ("Step", "▶", "Reset"):
        _button(rc, text)
    assert _slider(rc, "Seed").v_model == 42  # numeric
    assert len(models) == 1
    rc.close()


def test_step_advances(models: list[ClassroomModel]) -> None:
    _, rc = _render()
    model = models[-1]
    _button(rc, "Step").click()
    _button(rc, "Step").click()
    assert model.steps == 2
    assert "<b>step 2</b>" in _info(rc)
    rc.close()


def test_reset_rebuilds_with_the_chosen_values(models: list[ClassroomModel]) -> None:
    _, rc = _render()
    first = models[-1]
    _button(rc, "Step").click()
    _slider(rc, "Mean loss aversion λ̄").v_model = 3.5
    _slider(rc, "Seed").v_model = 7
    _slider(rc, "Number of customers N").v_model = 500
    rc.find(v.Select, label="Firm B strategy").widget.v_model = "radical"
    _button(rc, "Reset").click()
    model = models[-1]
    assert model is not first
    assert model.steps == 0
    assert model.params["loss_aversion_mean"] == 3.5
    assert "λ̄ = 3.50" in _info(rc) and "<b>step 0</b>" in _info(rc)
    assert model.controls["seed"] == 7 and isinstance(model.controls["seed"], int)
    assert model.n_customers == 500
    assert [f.strategy.name for f in model.firms] == ["differentiated", "radical"]
    # the lesson's fixed settings survive Reset: still one release at step 0
    releases = model.releases()
    assert releases.loc[releases["firm"] != "legacy", "step"].tolist() == [0, 0]
    rc.close()


def test_lesson_sets_the_controls(models: list[ClassroomModel]) -> None:
    _, rc = _render()
    _slider(rc, "Mean loss aversion λ̄").v_model = 3.9  # moved, then a lesson is chosen
    _button(rc, "2. Break-even").click()
    model = models[-1]
    assert model.params["alpha"] == 1.0 and model.params["temperature"] == 0.0
    assert model.params["initial_trust"] == 1.0
    assert _slider(rc, "Initial trust T").v_model == 1.0
    assert _slider(rc, "Mean loss aversion λ̄").v_model == 2.25
    # Reset rebuilds from the lesson's settings, not from what the controls held before
    _button(rc, "Reset").click()
    rebuilt = models[-1]
    assert rebuilt is not model
    assert rebuilt.params["loss_aversion_mean"] == 2.25 and rebuilt.params["alpha"] == 1.0
    _button(rc, "4. Which innovation wins, and when").click()
    _slider(rc, "Market dynamism ρ").v_model = 0.01
    _button(rc, "Reset").click()
    model = models[-1]
    assert [f.strategy.name for f in model.firms] == ["incremental", "differentiated", "radical"]
    assert model.n_customers == 2000 and model.params["market_dynamism"] == 0.01
    assert model.params["alpha"] == 0.88  # lesson 2's fixed settings are gone
    assert _slider(rc, "Number of customers N").v_model == 2000
    rc.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_two_sessions_hold_two_models(models: list[ClassroomModel]) -> None:
    from solara.server import kernel, kernel_context

    renders = []
    for name in ("student-1", "student-2"):
        context = kernel_context.VirtualKernelContext(
            id=name, kernel=kernel.Kernel(), session_id=name
        )
        with context:
            renders.append((context, *_render()))
    first, second = models
    assert first is not second
    (c1, _, rc1), (c2, _, rc2) = renders
    with c1:
        _button(rc1, "Step").click()
    assert (first.steps, second.steps) == (1, 0)
    with c2:
        _slider(rc2, "Mean loss aversion λ̄").v_model = 1.0
        _button(rc2, "Reset").click()
    assert first.params["loss_aversion_mean"] == 2.25
    assert models[-1].params["loss_aversion_mean"] == 1.0
    for context, _, rc in renders:
        with context:
            rc.close()


def test_no_model_at_import_time() -> None:
    assert not [name for name, value in vars(app).items() if isinstance(value, ClassroomModel)]


# ----------------------------------------------------------------- lessons
def _lesson_args(**kwargs: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"name": None, "out": None, "list": False, **kwargs})


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
    assert LESSONS[name].paragraph in (tmp_path / f"{name}.md").read_text(encoding="utf-8")
    import matplotlib.image

    picture = matplotlib.image.imread(tmp_path / f"{name}_adoption.png")
    assert picture.std() > 0.05  # not blank
