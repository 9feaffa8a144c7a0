"""The classroom page: loss aversion live in the browser (Mesa's SolaraViz, offline).

Start it with ``python run.py app``. Every browser session builds its own model inside
the component (never at import time), so students on one server never share a run.
Choosing a lesson sets the controls to its preset and builds a fresh model from them;
Reset rebuilds the model from the controls as they are. The controls are Mesa's
(``model_params``); their values live in per-session reactive variables, which is
how a lesson can set them without rebuilding the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from . import figures
from .controls import ClassroomModel, full_settings, model_params
from .lessons import FIRST_LESSON, LESSONS

__all__ = ["COMPONENTS", "TITLE", "LessonPicker", "ModelInfo", "Page"]

TITLE = "Why customers resist innovations: loss aversion in class"

#: Large type and high contrast, for a projector at the back of a room.
CSS = """
.v-application { font-size: 18px; }
.v-application .v-label, .v-application .v-select__selection,
.v-application .v-slider__thumb-label, .v-application .v-input { font-size: 17px !important; }
.v-application .v-card__title { font-size: 1.35rem; font-weight: 700; }
.v-application .v-btn { font-size: 16px; font-weight: 700; }
.v-application .v-input__slot label, .v-application .v-input label { color: #111 !important; }
.classroom-lesson { font-size: 1.3rem; line-height: 1.55; color: #111; max-width: 75em; }
.classroom-lesson-title { font-size: 1.6rem; font-weight: 700; margin: 0.4em 0; color: #111; }
.classroom-info { font-size: 1.15rem; color: #111; }
/* each panel fills its grid cell, and grows when the cell is resized (drag its corner) */
.vue-grid-item > div > div { height: 100%; }
.vue-grid-item .classroom-panel, .vue-grid-item .classroom-breakeven { height: 100%; }
.classroom-breakeven .classroom-panel { flex: 1 1 auto; min-height: 0; }
.classroom-panel img { width: 100%; height: 100%; object-fit: contain; }
/* slider values always visible (Mesa's sliders show them only while dragging) */
.v-application .v-slider__thumb-label-container { display: block !important; }
.v-application .v-slider__thumb-label { font-size: 12px; font-weight: 700;
  width: 40px !important; height: 40px !important; }
.v-application .v-input__slider { margin-top: 26px; }
"""


def _panel(make: Callable[[], Any], deps: list[Any]) -> None:
    """A matplotlib panel, redrawn only when ``deps`` change."""
    figure = solara.use_memo(make, deps)
    with solara.Column(classes=["classroom-panel"]):
        solara.FigureMatplotlib(figure, dependencies=deps, format="png")


def AdoptionCurves(model: ClassroomModel) -> None:
    """Share per firm and on its latest release, live."""
    _panel(lambda: figures.adoption_figure(model), [id(model), model.steps])


def Network(model: ClassroomModel) -> None:
    """The customers on their network, coloured by firm."""
    _panel(lambda: figures.network_figure(model), [id(model), model.steps])


def ValueFunction(model: ClassroomModel) -> None:
    """v(x) for the model's λ̄, α and β, with its kink at 0."""
    p = model.params
    _panel(
        lambda: figures.value_function_figure(p["loss_aversion_mean"], p["alpha"], p["beta"]),
        [id(model)],
    )


def BreakEven(model: ClassroomModel) -> None:
    """Felt gain against felt loss of a firm's latest release; who clears the bar."""
    firm, set_firm = solara.use_state(0)
    firm = firm if firm < model.n_firms else 0
    with solara.Column(classes=["classroom-breakeven"], gap="0px"):
        if model.n_firms > 1:
            names = [f.name for f in model.firms]
            solara.ToggleButtonsSingle(
                value=names[firm],
                values=names,
                on_value=lambda name: set_firm(names.index(name)),
            )
        _panel(lambda: figures.breakeven_figure(model, firm), [id(model), model.steps, firm])


#: The page's panels (Mesa's ``components``), all on the first tab.
COMPONENTS: list[tuple[Callable[[Any], Any], int]] = [
    (AdoptionCurves, 0),
    (Network, 0),
    (ValueFunction, 0),
    (BreakEven, 0),
]


@solara.component
def ModelInfo(model: ClassroomModel) -> None:
    """One line: what the current model is, and its step."""
    update_counter.get()
    c = model.controls
    firms = ", ".join(f"{f.name} {f.strategy.name}" for f in model.firms)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>Model:</b> {c['n_customers']:,} customers, {c['start']} start · "
            f"λ̄ = {c['loss_aversion_mean']:.2f} · trust {c['initial_trust']:.2f} · "
            f"co-creation {c['cocreation']:.2f} · ρ = {c['market_dynamism']:.3f} · "
            f"seed {c['seed']} · firms: {firms} · <b>step {model.steps}</b>"
        ),
        classes=["classroom-info"],
    )


@solara.component
def LessonPicker(current: str, on_choose: Callable[[str], None]) -> None:
    """Lesson buttons and the current lesson's paragraph."""
    lesson = LESSONS[current]
    with solara.Card():
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Text("Lesson:", style={"font-size": "1.3rem", "font-weight": "700"})
            for name, item in LESSONS.items():
                solara.Button(
                    item.title.split(":")[0],
                    color="primary",
                    outlined=name != current,
                    on_click=lambda name=name: on_choose(name),
                    style={"font-size": "1.05rem", "text-transform": "none"},
                )
        solara.HTML(tag="div", unsafe_innerHTML=lesson.title, classes=["classroom-lesson-title"])
        solara.HTML(tag="div", unsafe_innerHTML=lesson.paragraph, classes=["classroom-lesson"])


@solara.component
def Page() -> None:
    """The classroom page: lesson picker, controls (Step, Play, Reset) and four panels.

    Everything here is per browser session: the settings (one reactive variable per
    control, which Mesa's controls display and edit) and the model built from them.
    """
    settings = solara.use_memo(
        lambda: {
            key: solara.reactive(value)
            for key, value in full_settings(LESSONS[FIRST_LESSON].settings).items()
        },
        [],
    )
    initial = solara.use_memo(
        lambda: ClassroomModel(**{key: var.value for key, var in settings.items()}), []
    )
    model = solara.use_reactive(initial)
    current = solara.use_reactive(FIRST_LESSON)

    def choose(name: str) -> None:
        """Set every control to the lesson's preset and start its model."""
        preset = full_settings(LESSONS[name].settings)
        for key, var in settings.items():
            var.set(preset[key])
        current.set(name)
        model.set(ClassroomModel(**preset))

    solara.Title(TITLE)
    solara.Style(CSS)
    LessonPicker(current.value, choose)
    ModelInfo(model.value)
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(settings),
        name=TITLE,
        play_interval=101,
    )
