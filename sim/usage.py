"""Which keys reach the model in a configuration, and why the others do not.

Some parameters belong to a mechanism a configuration may not have: the rewiring
probability to the Watts-Strogatz network, the exploration rate to firms that choose
among strategies, the market-wide broadcast intensity to firms that set none of their
own. :func:`unused_parameters` and :func:`unused_strategy_keys` say which written keys
cannot reach the model, and why, so that a scenario, a sweep or a calibration that sets
one refuses it instead of ignoring it silently (docs/ODD.md section 2). The rules read
the strategies' classifier, never their names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .parameters import MODEL_PARAMETERS
from .strategies import INFORMATION, STRATEGIES, chooses_among, uses

__all__ = [
    "FIRM_USE_RULES",
    "USE_RULES",
    "UseRule",
    "unused_firm_keys",
    "unused_parameters",
    "unused_strategy_keys",
]

#: Why a parameter does not reach the model in a configuration (None: it does).
#: Called with the resolved model parameters and the checked firms.
UseRule = Callable[[dict[str, Any], list[dict[str, Any]]], str | None]


def _with_network(*names: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if params["network"] in names:
            return None
        wanted = " or ".join(repr(n) for n in names)
        return (
            f"used only with network.network = {wanted}, and the network is {params['network']!r}"
        )

    return rule


def _with_neighbours(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if params["network"] != "complete":
        return None
    return "not used under complete mixing (network.network = 'complete'), which has no neighbours"


def _with_start(start: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if params["start"] == start:
            return None
        return f"used only with market.start = {start!r}, and the start is {params['start']!r}"

    return rule


def _with_choosing_firm(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if any(chooses_among(f["strategy"]) for f in firms):
        return None
    return "used only by firms that choose among strategies (adaptive), and no firm here does"


#: How the reasons name what a strategy uses (see sim.strategies.INFORMATION).
_USES = {
    "forecast": "a forecast of future needs",
    "customer_needs": "an estimate of needs",
    "cocreator_needs": "use of co-creators' needs",
}


def _with_firm_using(information: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        if any(information in uses(f["strategy"]) for f in firms):
            return None
        return f"used only by firms that make {_no_firm(information)}"

    return rule


def _no_firm(information: str) -> str:
    users = ", ".join(sorted(n for n in STRATEGIES if information in uses(n)))
    return f"{_USES[information]} ({users}), and no firm here does"


def _releases_at_start(params: dict[str, Any], firm: dict[str, Any]) -> bool:
    """Whether a firm's first release comes at step 0 (the legacy start's default)."""
    default = 0 if params["start"] == "legacy" else None
    return firm.get("first_release", default) == 0


def _with_launch(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if any(_releases_at_start(params, f) and "launch_step" not in f for f in firms):
        return None
    if any(_releases_at_start(params, f) for f in firms):
        return _default_for_firms("launch_step")(params, firms)
    return (
        "used only by a first release at step 0 (market.start = 'legacy', or "
        "firms.NAME.first_release = 0), and no firm releases then"
    )


def _with_future(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
    if params["market_dynamism"] > 0 or any("forecast" in uses(f["strategy"]) for f in firms):
        return None
    return (
        "used only when needs drift (market.market_dynamism > 0) or by firms that make "
        + _no_firm("forecast")
    )


def _default_for_firms(name: str) -> UseRule:
    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        own = [f["name"] for f in firms if name in f]
        if len(own) < len(firms):
            return None
        keys = ", ".join(f"firms.{n}.{name}" for n in own[:3]) + (", ..." if len(own) > 3 else "")
        return (
            f"every firm sets its own {name} ({keys}), which overrides this market-wide "
            f"default, so it would change nothing; set firms.*.{name} (every firm) or "
            f"firms.NAME.{name} instead"
        )

    return rule


def _all(*rules: UseRule) -> UseRule:
    """Reaches the model when every rule says it does (the first reason otherwise)."""

    def rule(params: dict[str, Any], firms: list[dict[str, Any]]) -> str | None:
        return next((r for r in (f(params, firms) for f in rules) if r is not None), None)

    return rule


#: The model parameters that reach the model only with some mechanism, and its rule.
USE_RULES: dict[str, UseRule] = {
    "future_need": _with_future,
    "forecast_error": _all(_with_firm_using("forecast"), _default_for_firms("forecast_error")),
    "initial_trust": _default_for_firms("initial_trust"),
    "capacity": _default_for_firms("capacity"),
    "release_cost": _default_for_firms("release_cost"),
    "launch_step": _with_launch,
    "estimate_noise": _with_firm_using("customer_needs"),
    "initial_quality": _with_start("spread"),
    "legacy_quality": _with_start("legacy"),
    "broadcast": _default_for_firms("broadcast"),
    "cocreation": _default_for_firms("cocreation"),
    "exploration": _with_choosing_firm,
    "mean_degree": _with_neighbours,
    "rewiring": _with_network("watts_strogatz"),
}
assert set(USE_RULES) <= set(MODEL_PARAMETERS)


def unused_parameters(params: dict[str, Any], firms: list[dict[str, Any]]) -> dict[str, str]:
    """Model parameters that cannot reach the model in this configuration, with why.

    ``params`` are resolved (every parameter), ``firms`` checked. A value that switches
    a mechanism off (a co-creation intensity of 0) still counts as used.
    """
    unused = {}
    for name in MODEL_PARAMETERS:  # in the table's order, as errors name the first
        rule = USE_RULES.get(name)
        reason = rule(params, firms) if rule is not None else None
        if reason is not None:
            unused[name] = reason
    return unused


def unused_strategy_keys(
    strategies: dict[str, dict[str, float | int]], firms: list[dict[str, Any]]
) -> dict[str, str]:
    """Strategy-level keys (``strategies.NAME.KEY``) that reach no firm, with why."""
    unused = {}
    for name, table in strategies.items():
        followers = [f for f in firms if f["strategy"] == name]
        choosers = [f["name"] for f in firms if name in chooses_among(f["strategy"])]
        for key in table:
            if not followers and not choosers:
                reason = f"no firm follows strategy {name!r} or chooses among strategies"
            elif not choosers and all(key in f for f in followers):
                own = ", ".join(f"firms.{f['name']}.{key}" for f in followers)
                reason = f"every firm following {name!r} sets its own {key} ({own})"
            else:
                continue
            unused[f"strategies.{name}.{key}"] = reason
    return unused


#: Why one firm's key does not reach the model (None: it does), given the resolved
#: parameters and the firm's checked table.
FirmRule = Callable[[dict[str, Any], dict[str, Any]], str | None]


def _firm_uses(*information: str) -> FirmRule:
    def rule(params: dict[str, Any], firm: dict[str, Any]) -> str | None:
        if set(information) & uses(firm["strategy"]):
            return None
        what = " or ".join(_USES.get(i, INFORMATION[i]) for i in information)
        return f"used only by firms whose strategy makes {what}, and {firm['name']} follows " + (
            f"{firm['strategy']!r}"
        )

    return rule


def _lead_users(params: dict[str, Any], firm: dict[str, Any]) -> str | None:
    reason = _firm_uses("customer_needs", "cocreator_needs")(params, firm)
    if reason is not None:
        return reason
    if params["market_dynamism"] > 0:
        return None
    return (
        "lead users reveal where needs are going, and needs do not drift here "
        "(market.market_dynamism = 0), so it would change nothing"
    )


def _firm_launch(params: dict[str, Any], firm: dict[str, Any]) -> str | None:
    if _releases_at_start(params, firm):
        return None
    return (
        "used only by a first release at step 0 (market.start = 'legacy', or "
        f"firms.{firm['name']}.first_release = 0); later releases draw their step from capacity"
    )


#: A firm's keys that reach the model only with some mechanism, and its rule.
FIRM_USE_RULES: dict[str, FirmRule] = {
    "forecast_error": _firm_uses("forecast"),
    "lead_users": _lead_users,
    "launch_step": _firm_launch,
}


def unused_firm_keys(params: dict[str, Any], firms: list[dict[str, Any]]) -> dict[str, str]:
    """Keys of each firm's table (``firms.NAME.KEY``) that cannot reach the model, with why."""
    unused = {}
    for firm in firms:
        for key, rule in FIRM_USE_RULES.items():
            if key in firm:
                reason = rule(params, firm)
                if reason is not None:
                    unused[f"firms.{firm['name']}.{key}"] = reason
    return unused
