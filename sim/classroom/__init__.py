"""The classroom: loss aversion live in the browser, a class session, and lesson figures.

- :mod:`.controls`: the page's controls and :class:`~.controls.ClassroomModel`;
- :mod:`.lessons`: the lessons as data, and ``python run.py lesson NAME``;
- :mod:`.figures`, :mod:`.layout`: the matplotlib panels of the lesson handouts;
- :mod:`.views`: what the live page draws of a model, as JSON (the browser draws it);
- :mod:`.live`: one open page's models, stepped when the page asks, freed when it closes;
- :mod:`.elicitation`: the lottery list that measures a student's loss aversion;
- :mod:`.store`: a class session's joins and answers in SQLite;
- :mod:`.class_api`: the students' JSON endpoints and the teacher's live view;
- :mod:`.market`: the market run with the class's loss aversion;
- :mod:`.web`: the Starlette app; :mod:`.server`: ``python run.py app`` and ``class``;
- ``static/``: the pages (HTML, CSS, JavaScript) and ECharts, served by the app.

Only :mod:`.web`, :mod:`.class_api`, :mod:`.qr` and :mod:`.server` need the ``app``
extra; the lessons need matplotlib only.
"""
