"""One open page's models, driven by the page over its WebSocket, freed when it closes.

The page asks for each step and draws the frame before asking for the next, so a
page that is closed, hidden or cut off stops playing at once: nothing steps unless a
page asks. The server keeps the models only while the socket is open (a socket that
stops answering pings is closed within ``ping interval + ping timeout``), and never
steps one page faster than :data:`FLOOR_MS`. :class:`LivePages` counts open pages and
refuses more than it can hold, so memory stays bounded whoever connects.

Messages (JSON objects, ``op`` says which):

- ``{"op": "build", "lesson": NAME, "settings": {...}, "steps": N}``: a new model from
  the lesson's preset with the page's control values; answers ``{"type": "model"}``;
- ``{"op": "step", "firm": K}``: one step (up to the run's end), answers a frame;
- ``{"op": "firm", "firm": K}``: the frame again, with firm K's break-even;
- ``{"op": "market"}``, ``{"op": "market_step"}`` (teacher only): the class's market
  beside the same market at λ = 1, built and stepped together.

A mistake answers ``{"type": "error", "message": ...}`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError
from ..spec import integer
from .controls import ClassroomModel, check_controls, full_settings
from .elicitation import Band
from .lessons import LESSONS
from .market import MARKET_LESSON, MARKET_SEED, class_markets
from .views import ModelView

__all__ = ["FLOOR_MS", "MAX_PAGES", "MAX_STEPS", "LivePage", "LivePages"]

#: The shortest time between two steps of one page (the play interval's floor).
FLOOR_MS = 20
#: Most pages with a live model at once: bounds memory (a model of 2,000 customers
#: takes a few MB) whatever the number of tabs.
MAX_PAGES = 40
#: Longest run a page may ask for.
MAX_STEPS = 1000


class LivePages:
    """The open pages of this server: at most ``limit`` at once."""

    def __init__(self, limit: int = MAX_PAGES) -> None:
        self.limit = limit
        self.open: set[LivePage] = set()

    def admit(self, page: LivePage) -> bool:
        if len(self.open) >= self.limit:
            return False
        self.open.add(page)
        return True

    def release(self, page: LivePage) -> None:
        page.close()
        self.open.discard(page)

    @property
    def models(self) -> int:
        """Models held by open pages."""
        return sum(page.model_count for page in self.open)


class LivePage:
    """The models of one open page. ``class_bands`` gives the class's answers (the
    teacher's page only); ``floor_ms`` is the least time between two steps."""

    def __init__(
        self,
        *,
        class_bands: Callable[[], Sequence[Band]] | None = None,
        floor_ms: float = FLOOR_MS,
    ) -> None:
        self.class_bands = class_bands
        self.floor_s = floor_ms / 1000
        self.view: ModelView | None = None
        self.markets: tuple[ModelView, ModelView] | None = None
        self._last_step = 0.0
        self._stepping = asyncio.Lock()  # steps one at a time, each after the floor

    @property
    def model_count(self) -> int:
        return (self.view is not None) + 2 * (self.markets is not None)

    def close(self) -> None:
        """Drop the models (the socket is gone)."""
        self.view = None
        self.markets = None

    async def handle(self, message: Any) -> dict[str, Any]:
        """The answer to one message from the page."""
        try:
            if not isinstance(message, dict):
                raise InputError("message", reason="expected a JSON object")
            op = message.get("op")
            if op == "build":  # in a thread: the server answers others meanwhile
                return await asyncio.to_thread(self._build, message)
            if op in ("step", "market_step"):
                async with self._stepping:
                    await self._wait_for_floor()
                    return self._step(message) if op == "step" else self._market_step()
            if op == "firm":
                return self._require_view().frame(_firm(message))
            if op == "market":
                if self.class_bands is None:
                    raise InputError("op", "market", "the teacher's page of a class session")
                bands = list(self.class_bands())  # here: the store is the event loop's
                return await asyncio.to_thread(self._market, message, bands)
            raise InputError("op", op, "one of build, step, firm, market, market_step")
        except InputError as err:
            return {"type": "error", "message": str(err)}

    async def _wait_for_floor(self) -> None:
        """Sleep until ``floor_ms`` has passed since the last step of this page."""
        wait = self._last_step + self.floor_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_step = time.monotonic()

    def _require_view(self) -> ModelView:
        if self.view is None:
            raise InputError("op", reason="no model yet: send build first")
        return self.view

    def _build(self, message: dict[str, Any]) -> dict[str, Any]:
        name = message.get("lesson")
        if name not in LESSONS:
            raise InputError("lesson", name, f"one of {', '.join(LESSONS)}")
        lesson = LESSONS[name]
        steps = message.get("steps", lesson.steps)
        steps = integer("steps", steps, 1, MAX_STEPS, InputError)
        settings = full_settings(lesson.settings)
        settings.update(check_controls(message.get("settings") or {}))
        self.view = None  # the old model goes before the new one is built
        self.view = ModelView(ClassroomModel(**settings), steps)
        return self.view.start(_firm(message))

    def _step(self, message: dict[str, Any]) -> dict[str, Any]:
        view = self._require_view()
        if view.model.steps < view.max_steps:
            view.model.step()
        return view.frame(_firm(message))

    def _market(self, message: dict[str, Any], bands: list[Band]) -> dict[str, Any]:
        if not bands:
            raise InputError(
                "market", reason="no consistent answers yet: wait for the class to answer"
            )
        seed = message.get("seed", MARKET_SEED)
        seed = integer("seed", seed, 0, 10**6, InputError)
        self.markets = None
        steps = LESSONS[MARKET_LESSON].steps
        with_class, neutral = class_markets(bands, seed)
        self.markets = (
            ModelView(with_class, steps, full=False),
            ModelView(neutral, steps, full=False),
        )
        return {
            "type": "market",
            "students": len(bands),
            "class": self.markets[0].start(),
            "neutral": self.markets[1].start(),
        }

    def _market_step(self) -> dict[str, Any]:
        if self.markets is None:
            raise InputError("op", reason="no market yet: send market first")
        for view in self.markets:
            if view.model.steps < view.max_steps:
                view.model.step()
        return {
            "type": "market_frame",
            "class": self.markets[0].frame(),
            "neutral": self.markets[1].frame(),
        }


def _firm(message: dict[str, Any]) -> int:
    return integer("firm", message.get("firm", 0), 0, 2, InputError)
