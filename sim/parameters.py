"""The tables of every setting: model parameters, a firm's keys, run settings.

Each entry is a :class:`~sim.spec.Spec`: type, default, allowed range, unit, meaning,
and for the settings a page shows, its label and slider range. These tables are data;
the check of a value is :func:`sim.spec.check_value`, the resolution of a dotted
scenario key to its entry is :mod:`sim.keys`, and which keys reach the model in a
configuration is :mod:`sim.usage`. docs/ODD.md describes every parameter.
"""

from __future__ import annotations

from .network import NETWORKS
from .spec import Range, Spec
from .strategies import STRATEGIES, TUNABLE

__all__ = [
    "DEFAULT_STRATEGY",
    "FIRM_PARAMETERS",
    "MODEL_PARAMETERS",
    "REPLACED_KEYS",
    "RUN_PARAMETERS",
    "SCENARIO_PARAMETERS",
    "SECTIONS",
    "STRATEGY_PARAMETERS",
]

#: The strategy of a firm that names none.
DEFAULT_STRATEGY = "incremental"

MODEL_PARAMETERS: dict[str, Spec] = {
    # market
    "n_customers": Spec(
        section="market",
        kind=int,
        default=2000,
        help="number of customers N",
        unit="customers",
        low=2,
        high=20_000_000,
        label="Number of customers N",
        interactive=Range(100, 2000, integer=True, step=100),
    ),
    "start": Spec(
        section="market",
        kind=str,
        default="spread",
        help="initial condition: customers spread evenly over the firms' first products, "
        "or all on a legacy product no firm improves",
        choices=("spread", "legacy"),
        label="Customers start on",
    ),
    "n_dims": Spec(
        section="market",
        kind=int,
        default=2,
        help="dimensions D of the attribute (needs) space",
        unit="",
        low=1,
        high=10,
    ),
    "market_dynamism": Spec(
        section="market",
        kind=float,
        default=0.0,
        help="rate rho at which needs drift toward the future need point",
        unit="per step",
        low=0.0,
        high=1.0,
        label="Market dynamism ρ",
        interactive=Range(0.0, 0.05, step=0.001),
    ),
    "future_need": Spec(
        section="market",
        kind=float,
        default=0.9,
        help="future need point (the same value on every axis)",
        unit="attribute units",
        low=0.0,
        high=1.0,
    ),
    "forecast_error": Spec(
        section="market",
        kind=float,
        default=0.1,
        help="sd of a forecasting firm's forecast of the future need point (firms that set none)",
        unit="attribute units",
        low=0.0,
        high=1.0,
    ),
    "estimate_noise": Spec(
        section="market",
        kind=float,
        default=0.2,
        help="sd of a firm's guess of current needs without co-creators",
        unit="attribute units",
        low=0.0,
        high=1.0,
    ),
    "initial_quality": Spec(
        section="market",
        kind=float,
        default=1.0,
        help="quality of every firm's first product",
        unit="quality units",
        low=0.0,
        high=100.0,
    ),
    "legacy_quality": Spec(
        section="market",
        kind=float,
        default=1.0,
        help="quality of the legacy product (start = 'legacy')",
        unit="quality units",
        low=0.0,
        high=100.0,
    ),
    # economics (MODEL.md "Innovation economics")
    "capacity": Spec(
        section="economics",
        kind=float,
        default=0.008,
        help="g: expected true-quality gain per step a firm's R&D buys (firms that set none)",
        unit="quality units per step",
        low=0.0,
        high=10.0,
    ),
    "launch_step": Spec(
        section="economics",
        kind=float,
        default=0.1,
        help="quality gain of a firm's first release at step 0 over the product it replaces "
        "(no R&D steps behind it; firms that set none)",
        unit="quality units",
        low=-10.0,
        high=10.0,
    ),
    "release_cost": Spec(
        section="economics",
        kind=float,
        default=0.25,
        help="F: cost of a release (firms that set none), in steps of the whole market's margin",
        unit="market margin per step",
        low=0.0,
        high=1000.0,
    ),
    "discount": Spec(
        section="economics",
        kind=float,
        default=1.0,
        help="delta: per-step discount factor of revenue and costs (1: none)",
        unit="per step",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    # customers
    "loss_aversion_mean": Spec(
        section="customers",
        kind=float,
        default=2.25,
        help="mean loss aversion lambda-bar across customers",
        unit="",
        low=0.0,
        high=20.0,
        label="Mean loss aversion λ̄",
        interactive=Range(0.5, 4.0, step=0.05),
    ),
    "loss_aversion_sd": Spec(
        section="customers",
        kind=float,
        default=0.3,
        help="sigma of log loss aversion (0: every customer has lambda-bar)",
        unit="",
        low=0.0,
        high=3.0,
    ),
    "alpha": Spec(
        section="customers",
        kind=float,
        default=0.88,
        help="value-function curvature for gains",
        unit="",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    "beta": Spec(
        section="customers",
        kind=float,
        default=0.88,
        help="value-function curvature for losses",
        unit="",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    "initial_trust": Spec(
        section="customers",
        kind=float,
        default=0.5,
        help="initial trust in every firm (firms that set none of their own)",
        unit="",
        low=0.0,
        high=1.0,
        label="Initial trust T",
        interactive=Range(0.0, 1.0, step=0.05),
    ),
    # decision
    "fit_weight": Spec(
        section="decision",
        kind=float,
        default=0.5,
        help="d: value of moving one unit closer to one's needs",
        unit="quality units per attribute unit",
        low=0.0,
        high=10.0,
    ),
    "switching_cost": Spec(
        section="decision",
        kind=float,
        default=0.05,
        help="s: loss of leaving one provider for another",
        unit="quality units",
        low=0.0,
        high=10.0,
    ),
    "learning_cost": Spec(
        section="decision",
        kind=float,
        default=0.3,
        help="l: loss per unit of distance between old and new product",
        unit="quality units per attribute unit",
        low=0.0,
        high=10.0,
    ),
    "cocreation_discount": Spec(
        section="decision",
        kind=float,
        default=0.5,
        help="kappa: share of the learning cost a co-creator is spared",
        unit="",
        low=0.0,
        high=1.0,
    ),
    "social_proof": Spec(
        section="decision",
        kind=float,
        default=0.2,
        help="w_s: gain per unit share of neighbours using the release",
        unit="quality units",
        low=0.0,
        high=10.0,
    ),
    "temperature": Spec(
        section="decision",
        kind=float,
        default=0.02,
        help="tau of the logistic choice (0: adopt exactly when V > 0)",
        unit="value units",
        low=0.0,
        high=10.0,
    ),
    # trust
    "trust_rate": Spec(
        section="trust",
        kind=float,
        default=0.3,
        help="eta: trust moved per unit value of a quality surprise",
        unit="",
        low=0.0,
        high=10.0,
    ),
    "cocreation_trust_growth": Spec(
        section="trust",
        kind=float,
        default=0.01,
        help="delta: a co-creator's trust grows by delta*(1 - T) each step",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    # diffusion and firms' defaults
    "imitation": Spec(
        section="diffusion",
        kind=float,
        default=0.38,
        help="Bass q: awareness from the share of neighbours using a release",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    "broadcast": Spec(
        section="diffusion",
        kind=float,
        default=0.03,
        help="Bass p: awareness from advertising, per step (default for firms that set none)",
        unit="per step",
        low=0.0,
        high=1.0,
    ),
    "cocreation": Spec(
        section="diffusion",
        label="Co-creation intensity c",
        interactive=Range(0.0, 1.0, step=0.05),
        kind=float,
        default=0.05,
        help="share of a firm's customers who co-create with it (default for firms that set none)",
        unit="",
        low=0.0,
        high=1.0,
    ),
    "exploration": Spec(
        section="diffusion",
        kind=float,
        default=0.1,
        help="epsilon: an adaptive firm's chance of a random strategy",
        unit="",
        low=0.0,
        high=1.0,
    ),
    # network
    "network": Spec(
        section="network",
        kind=str,
        default="watts_strogatz",
        help="social network",
        choices=NETWORKS,
    ),
    "mean_degree": Spec(
        section="network",
        kind=int,
        default=10,
        help="mean number of neighbours",
        unit="customers",
        low=1,
        high=10_000,
    ),
    "rewiring": Spec(
        section="network",
        kind=float,
        default=0.1,
        help="Watts-Strogatz rewiring probability",
        unit="",
        low=0.0,
        high=1.0,
    ),
}

#: Keys of one firm's table. ``None`` defaults come from the model or the strategy.
FIRM_PARAMETERS: dict[str, Spec] = {
    "strategy": Spec(
        section="firm",
        kind=str,
        default=DEFAULT_STRATEGY,
        help="innovation strategy",
        choices=lambda: tuple(STRATEGIES),  # the live registry: strategies can be added
        label="strategy",
    ),
    "cocreation": Spec(
        section="firm",
        kind=float,
        default=None,
        help="c_k: share of its customers who co-create",
        unit="",
        low=0,
        high=1,
    ),
    "broadcast": Spec(
        section="firm",
        kind=float,
        default=None,
        help="p_k: Bass advertising intensity",
        unit="per step",
        low=0,
        high=1,
    ),
    "first_release": Spec(
        section="firm",
        kind=int,
        default=None,
        help="step of the first release (default: its cadence; 0 with start = 'legacy')",
        unit="step",
        low=0,
        high=1_000_000,
    ),
    "cadence": Spec(
        section="firm",
        kind=int,
        default=None,
        help="steps between releases",
        unit="steps",
        low=1,
        high=1_000_000,
    ),
    "step_cv": Spec(
        section="firm",
        kind=float,
        default=None,
        help="coefficient of variation of a release's quality step (its sd over its mean)",
        unit="",
        low=0,
        high=5,
    ),
    "move": Spec(
        section="firm",
        kind=float,
        default=None,
        help="share of the way toward its target a release moves",
        unit="",
        low=0,
        high=1,
    ),
    "risk_ratio": Spec(
        section="firm",
        kind=float,
        default=None,
        help="sd of true minus claimed quality, as a share of the expected quality step",
        unit="",
        low=0,
        high=10,
    ),
    "capacity": Spec(
        section="firm",
        kind=float,
        default=None,
        help="g_k: expected true-quality gain per step its R&D buys (default: economics.capacity)",
        unit="quality units per step",
        low=0,
        high=10,
    ),
    "launch_step": Spec(
        section="firm",
        kind=float,
        default=None,
        help="quality gain of a first release at step 0, which has no R&D steps behind it "
        "(default: economics.launch_step)",
        unit="quality units",
        low=-10,
        high=10,
    ),
    "release_cost": Spec(
        section="firm",
        kind=float,
        default=None,
        help="F_k: cost of each release (default: economics.release_cost)",
        unit="market margin per step",
        low=0,
        high=1000,
    ),
    "initial_trust": Spec(
        section="firm",
        kind=float,
        default=None,
        help="every customer's initial trust in this firm (default: customers.initial_trust)",
        unit="",
        low=0,
        high=1,
    ),
    "lead_users": Spec(
        section="firm",
        kind=bool,
        default=True,
        help="its co-creators reveal where their needs are going, one cadence ahead",
    ),
    "forecast_error": Spec(
        section="firm",
        kind=float,
        default=None,
        help="sd of its forecast of the future need point (default: market.forecast_error)",
        unit="attribute units",
        low=0,
        high=1,
    ),
    "position": Spec(
        section="firm",
        kind=list,
        default=None,
        help="initial position in attribute space (one value per axis in [0, 1])",
    ),
}

#: Keys that no longer exist, with what replaced them (a file that writes one is refused
#: with this, never silently ignored).
REPLACED_KEYS: dict[str, str] = {
    "quality_step_mean": "a release's quality step is the firm's capacity times the steps "
    "since its last release (economics.capacity, firms.NAME.capacity; MODEL.md innovation "
    "economics); a first release at step 0 gains launch_step (economics.launch_step, "
    "firms.NAME.launch_step)",
    "quality_step_sd": "the quality step's spread is its coefficient of variation, step_cv "
    "(sd over mean)",
    "risk": "the sd of true minus claimed quality is risk_ratio times the expected quality step",
}

#: Keys a strategy's table ``[strategies.NAME]`` may set: its release parameters.
STRATEGY_PARAMETERS: dict[str, Spec] = {key: FIRM_PARAMETERS[key] for key in TUNABLE}

#: Settings of a run, ``[run]`` (not parameters of the model).
RUN_PARAMETERS: dict[str, Spec] = {
    "steps": Spec(
        section="run",
        kind=int,
        default=200,
        help="number of steps to simulate",
        unit="steps",
        low=1,
        high=1_000_000,
    ),
    "replicates": Spec(
        section="run",
        kind=int,
        default=5,
        help="independent seeded replicates",
        low=1,
        high=100_000,
    ),
    "seed": Spec(
        section="run",
        kind=int,
        default=42,
        help="base seed; replicate seeds derive from it",
        low=0,
        high=2**63 - 1,
        label="Seed",
        interactive=Range(0, 100, integer=True, step=1),
    ),
}

#: The scenario's own description, ``[scenario]``.
SCENARIO_PARAMETERS: dict[str, Spec] = {
    "name": Spec(section="scenario", kind=str, default="", help="the scenario's name"),
    "description": Spec(
        section="scenario", kind=str, default="", help="what the scenario sets up, in a sentence"
    ),
}

#: The model's parameter sections, as scenario tables name them.
SECTIONS: tuple[str, ...] = tuple(sorted({spec.section for spec in MODEL_PARAMETERS.values()}))
