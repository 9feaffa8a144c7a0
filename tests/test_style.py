"""Colours follow strategies, not the order firms are listed in."""

from __future__ import annotations

from sim.style import STRATEGY_COLOURS, firm_colours, strategy_colours


def test_a_firm_takes_its_strategys_colour_whatever_the_order() -> None:
    firms = [
        {"name": "rival_bold", "strategy": "radical"},
        {"name": "us", "strategy": "differentiated"},
        {"name": "rival_fast", "strategy": "incremental"},
    ]
    colours = firm_colours(firms)
    assert colours == firm_colours(firms[::-1])
    assert colours["us"] == STRATEGY_COLOURS["differentiated"]
    assert colours["rival_bold"] == STRATEGY_COLOURS["radical"]


def test_firms_sharing_a_strategy_and_unknown_names_get_distinct_colours() -> None:
    firms = [
        {"name": "b", "strategy": "radical"},
        {"name": "a", "strategy": "radical"},
        {"name": "lab", "strategy": "sideways"},  # registered later, no colour of its own
    ]
    colours = firm_colours(firms)
    assert colours["a"] == STRATEGY_COLOURS["radical"]  # the first by name keeps it
    assert len(set(colours.values())) == 3
    options = strategy_colours(["radical", "radical, cocreation 0.1", "radical, cocreation 0.2"])
    assert options["radical"] == STRATEGY_COLOURS["radical"]
    assert len(set(options.values())) == 3
