"""The classroom: loss aversion live in the browser, a class session, and lesson figures.

- :mod:`.controls`: the page's controls and :class:`~.controls.ClassroomModel`;
- :mod:`.lessons`: the lessons as data: settings, what-ifs, text templates, checks;
- :mod:`.claims`: a lesson measured over 100 seeds, every number with its interval;
- :mod:`.wording`: a lesson's text filled from its measured claims;
- :mod:`.measured`: the claims kept per version of the code;
- :mod:`.handouts`: ``python run.py lesson NAME``: figures, handout, ``--numbers``;
- :mod:`.figures`, :mod:`.layout`: the matplotlib panels of the lesson handouts;
- :mod:`.views`: what the live page draws of a model, as JSON (the browser draws it);
- :mod:`.live`: one open page's models, stepped when the page asks, freed when it closes;
- :mod:`.elicitation`: the lottery list that measures a student's loss aversion;
- :mod:`.store`: a class session's joins and answers in SQLite;
- :mod:`.class_api`: the students' JSON endpoints and the teacher's live view;
- :mod:`.market`: the market run with the class's loss aversion;
- :mod:`.worksheet`: the class's answers and one-page picture to hand out;
- :mod:`.guard`: hosts, origins and headers every request and answer must respect;
- :mod:`.web`: the Starlette app; :mod:`.server`: ``python run.py app`` and ``class``;
- ``static/``: the pages (HTML, CSS, JavaScript) and ECharts, served by the app.

Only :mod:`.web`, :mod:`.guard`, :mod:`.class_api`, :mod:`.qr` and :mod:`.server`
need the ``app`` extra; the lessons need matplotlib only.
"""
