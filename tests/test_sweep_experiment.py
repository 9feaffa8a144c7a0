"""Experiment files: designs, quick sizes, and one-line errors before any run starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.sweep.experiment import ExperimentError
from sim.sweep.loader import load_experiment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOOD = """
[experiment]
name = "tiny"
base = "scenarios/baseline.toml"
replicates = 2
steps = 10
seed = 5
keep = ["share_*"]

[set]
"market.n_customers" = 300

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]

[factors.rho]
key = "market.market_dynamism"
low = 0.0
high = 0.02
levels = 3
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_grid_design_and_seeds(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, GOOD))
    assert exp.n_points == 6 and exp.n_runs == 12
    assert exp.table["rho"].tolist() == [0.0, 0.01, 0.02, 0.0, 0.01, 0.02]
    assert exp.point_kwargs[4]["loss_aversion_mean"] == 3.0
    assert exp.point_kwargs[4]["market_dynamism"] == pytest.approx(0.01)
    seeds = {(t.labels["point"], t.labels["replicate"]): t.seed for t in exp.tasks()}
    assert len(set(seeds.values())) == 12  # every run its own seed
    again = load_experiment(write(tmp_path, GOOD, "again.toml"))
    assert {(t.labels["point"], t.labels["replicate"]): t.seed for t in again.tasks()} == seeds
    assert "grid of 6 points" in exp.describe()


def test_shorthand_wildcard_template_and_quick(tmp_path: Path) -> None:
    text = (
        GOOD.replace(
            '[factors.rho]\nkey = "market.market_dynamism"\nlow = 0.0\nhigh = 0.02\nlevels = 3',
            '[factors]\n"firms.*.broadcast" = [0.01, 0.05]\n'
            'focal = { keys = [], values = ["incremental", "radical"] }\n'
            'co = { key = "firms.{focal}.cocreation", values = [0.0, 0.3] }',
        )
        + '\n[quick]\nreplicates = 1\nfactors.lam.values = [2.0]\nset = { "market.n_customers" = 200 }\n'
    )
    exp = load_experiment(write(tmp_path, text))
    assert exp.factor_names == ["lam", "firms.*.broadcast", "focal", "co"]
    assert exp.n_points == 2 * 2 * 2 * 2
    firms = {f["name"]: f for f in exp.point_kwargs[exp.n_points - 1]["firms"]}
    default = exp.point_kwargs[exp.n_points - 1]["cocreation"]
    assert firms["radical"]["cocreation"] == 0.3 and "cocreation" not in firms["incremental"]
    assert default == 0.05  # the incremental firm takes the market-wide default
    assert all(f["broadcast"] == 0.05 for f in firms.values())
    quick = load_experiment(write(tmp_path, text), quick=True)
    assert quick.quick and quick.replicates == 1 and quick.n_points == 8
    assert quick.base.resolved_parameters()["n_customers"] == 200


def test_lhs_and_sobol_designs(tmp_path: Path) -> None:
    lhs = GOOD.replace("values = [1.0, 3.0]", "low = 1.0\nhigh = 3.0").replace(
        "seed = 5", 'seed = 5\ndesign = "lhs"\nsamples = 7'
    )
    exp = load_experiment(write(tmp_path, lhs))
    assert exp.n_points == 7
    assert exp.table["lam"].between(1, 3).all() and exp.table["rho"].between(0, 0.02).all()
    sobol = lhs.replace('design = "lhs"\nsamples = 7', 'design = "sobol"\nsamples = 8')
    exp = load_experiment(write(tmp_path, sobol))
    assert exp.n_points == 8 * (2 + 2)  # Saltelli without second order: N (D + 2)
    with pytest.raises(ExperimentError, match=r"experiment.samples = 6: expected a power of 2"):
        load_experiment(write(tmp_path, sobol.replace("samples = 8", "samples = 6")))


BAD = [
    # (replace this, with this, expected message fragment)
    (
        'key = "customers.loss_aversion_mean"',
        'key = "customers.loss_avers"',
        "factors.lam.key = 'customers.loss_avers': customers.loss_avers: unknown key; allowed:",
    ),
    (
        "low = 0.0\nhigh = 0.02",
        "low = 0.02\nhigh = 0.02",
        "factors.rho.high = 0.02: expected a number > low = 0.02",
    ),
    (
        "seed = 5",
        'seed = 5\ndesign = "random"',
        "experiment.design = 'random': expected one of grid, lhs, sobol",
    ),
    ("replicates = 2", "replicates = 0", "experiment.replicates = 0: expected an integer >= 1"),
    ("values = [1.0, 3.0]", "values = []", "factors.lam.values = []: expected a non-empty list"),
    (
        "values = [1.0, 3.0]",
        "values = [1.0, 30.0]",
        "factors.lam.values = 30.0: expected a number >= 0 and <= 20 (the values of customers.loss_aversion_mean)",
    ),
    ("[set]", "[sett]", "[sett]: unknown table; allowed: experiment, base, set, factors"),
    (
        "seed = 5",
        'seed = 5\ndesign = "sobol"\nsamples = 8',
        "factors.lam: a sobol design samples ranges; expected low and high, not values",
    ),
    ('keep = ["share_*"]', 'keep = ["sales_*"]', "experiment.keep = 'sales_*': expected an"),
    ("seed = 5", "seed = 5\nworkers = 3", "experiment.workers: unknown key; allowed: name,"),
    (
        'base = "scenarios/baseline.toml"',
        'base = "scenarios/nope.toml"',
        "experiment.base = 'scenarios/nope.toml': expected a scenario file",
    ),
    ("levels = 3", "levels = 1", "factors.rho.levels = 1: expected an integer >= 2"),
    ('key = "market.market_dynamism"', 'key = "run.steps"', "factors.rho.key = 'run.steps'"),
    (
        '"market.n_customers" = 300',
        '"market.n_customers" = 5',
        "network.mean_degree = 10: expected fewer than n_customers = 5",
    ),
    ("[factors.lam]", "[quick]\nsize = 2\n\n[factors.lam]", "quick.size: unknown key"),
    (
        "[factors.lam]",
        '[report]\nmap = ["lam", "nope"]\n\n[factors.lam]',
        "report = 'nope': expected a factor name among lam, rho",
    ),
    ("seed = 5", "seed = 5\nsteps = 3", "not valid TOML"),
    ("[factors.lam]", "[factors.strategy]", "factors.strategy: the name 'strategy' is taken"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_experiment_gives_one_line_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_experiment(path)
    text = str(info.value)
    assert text.startswith(f"{path}") and "\n" not in text
    assert message in text


def test_cli_reports_error_and_starts_no_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import run

    out = tmp_path / "out"
    path = write(tmp_path, GOOD.replace("replicates = 2", "replicates = 0"))
    assert run.main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    assert run.main(["validate", str(path)]) == 2


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "experiments").glob("*.toml")))
def test_shipped_experiments_are_valid(name: str) -> None:
    for quick in (False, True):
        exp = load_experiment(ROOT / "experiments" / name, quick=quick)
        assert exp.question and exp.n_runs >= 1


def test_a_factor_that_never_reaches_the_model_is_refused(tmp_path: Path) -> None:
    """The bass_validation trap: a factor on the market-wide Bass p while the only firm
    sets its own. Refused before any run, naming both keys and what to vary instead."""
    text = GOOD.replace(
        '[factors.lam]\nkey = "customers.loss_aversion_mean"\nvalues = [1.0, 3.0]',
        '[base.firms.solo]\nstrategy = "incremental"\nbroadcast = 0.03\n\n'
        '[factors.lam]\nkey = "diffusion.broadcast"\nvalues = [0.01, 0.05]',
    )
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "diffusion.broadcast = [0.01, 0.05]: set by factor lam, does not reach the model" in (
        message
    )
    assert "firms.solo.broadcast" in message and "firms.*.broadcast" in message


def test_a_key_used_at_some_points_only_is_noted(tmp_path: Path) -> None:
    text = GOOD.replace(
        '[factors.lam]\nkey = "customers.loss_aversion_mean"\nvalues = [1.0, 3.0]',
        '[factors.lam]\nkey = "network.network"\nvalues = ["complete", "watts_strogatz"]',
    ).replace('"market.n_customers" = 300', '"market.n_customers" = 300\n"network.rewiring" = 0.2')
    exp = load_experiment(write(tmp_path, text))
    assert exp.notes == ["network.rewiring reaches the model at 3 of 6 design points"]
