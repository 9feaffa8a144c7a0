"""The classroom: loss aversion live in the browser, and lesson figures for slides.

- :mod:`.controls`: the page's controls and :class:`~.controls.ClassroomModel`, the
  model built from them (one per browser session);
- :mod:`.figures`: the matplotlib panels shared by the page and the lessons;
- :mod:`.lessons`: the lessons as data, and ``python run.py lesson NAME``;
- :mod:`.app`: the Solara page (Mesa's SolaraViz), ``python run.py app``;
- :mod:`.server`: starts the page offline on 127.0.0.1.

Only :mod:`.app` and :mod:`.server` import Solara; the lessons need matplotlib only.
"""
