"""Bad input, as a careful user would try it: every case a command line or a file
mutation of run, validate, sweep, calibrate or data, and the one-line error it must get.

Each case asserts exit status 2, exactly one line on stderr (``error: ...``) holding the
expected text (the field, the value and what is allowed), no traceback, and nothing
written: the output folder, if the command got that far, holds no new file. Together
they are the issue's "bad-input sweep": 0 tracebacks and 0 silent accepts.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

import run

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "data" / "adoption" / "us_household_technologies.csv"

SCENARIO = """
[run]
steps = 5
replicates = 2
seed = 1

[market]
n_customers = 200
"""

EXPERIMENT = """
[experiment]
name = "table"
base = "{root}/scenarios/baseline.toml"
replicates = 2
steps = 5
seed = 1
keep = ["share_*"]

[set]
"market.n_customers" = 100

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]
"""

LHS = EXPERIMENT.replace("replicates = 2", 'replicates = 1\ndesign = "lhs"\nsamples = 4').replace(
    "values = [1.0, 3.0]", "low = 1.0\nhigh = 3.0"
)


def exp(old: str, new: str, base: str = EXPERIMENT) -> str:
    """The tiny experiment with ``old`` replaced by ``new`` (which must be there)."""
    assert old in base, old
    return base.replace(old, new)


def add(text: str, base: str = EXPERIMENT) -> str:
    return base + "\n" + text + "\n"


# case: (command, files {placeholder: content}, expected text in the one line)
# Placeholders: {scn} the tiny scenario, {exp} the tiny experiment, {csv} the shipped
# series, {out} a fresh output folder, {file} an existing file, {ro} a folder that
# cannot be written to, {big} as much free memory as a laptop's 1 GB.
CASES: dict[str, tuple[str, dict[str, str], str]] = {
    # ---- run: the scenario file
    "run: no such file": ("run {tmp}/none.toml", {}, "none.toml: no such scenario file"),
    "run: not TOML": ("run {scn}", {"scn": "[market\n"}, "not valid TOML"),
    "run: not text": ("run {scn}", {"scn": "\udcff"}, "not a UTF-8 text file"),
    "run: unknown section": ("run {scn}", {"scn": "[marquet]\n"}, "[marquet]: unknown section"),
    "run: unknown key": (
        "run {scn}",
        {"scn": "[customers]\nloss_aversion_mea = 2\n"},
        "customers.loss_aversion_mea: unknown key; allowed: loss_aversion_mean",
    ),
    "run: out of range": (
        "run {scn}",
        {"scn": "[customers]\ninitial_trust = 1.5\n"},
        "customers.initial_trust = 1.5: expected a number >= 0 and <= 1",
    ),
    "run: wrong type": (
        "run {scn}",
        {"scn": '[market]\nn_customers = "many"\n'},
        "market.n_customers = 'many': expected an integer",
    ),
    "run: nan": ("run {scn}", {"scn": "[customers]\nalpha = nan\n"}, "alpha = nan: expected"),
    "run: too few customers": (
        "run {scn}",
        {"scn": "[market]\nn_customers = 1\n"},
        "market.n_customers = 1: expected an integer >= 2",
    ),
    "run: too many customers": (
        "run {scn}",
        {"scn": "[market]\nn_customers = 30000000\n"},
        "market.n_customers = 30000000: expected an integer >= 2 and <= 20_000_000",
    ),
    "run: degree above customers": (
        "run {scn}",
        {"scn": "[market]\nn_customers = 10\n[network]\nmean_degree = 20\n"},
        "network.mean_degree = 20: expected fewer than n_customers = 10",
    ),
    "run: unknown network": (
        "run {scn}",
        {"scn": '[network]\nnetwork = "ring"\n'},
        "network.network = 'ring': expected one of",
    ),
    "run: unknown strategy": (
        "run {scn}",
        {"scn": '[firms.a]\nstrategy = "disruptive"\n'},
        "firms.a.strategy = 'disruptive': expected one of",
    ),
    "run: firm key out of range": (
        "run {scn}",
        {"scn": '[firms.a]\nstrategy = "radical"\ncocreation = 2\n'},
        "firms.a.cocreation = 2",
    ),
    "run: unknown firm key": (
        "run {scn}",
        {"scn": '[firms.a]\nstrategy = "radical"\ncadense = 3\n'},
        "firms.a.cadense",
    ),
    "run: unknown strategy table": (
        "run {scn}",
        {"scn": "[strategies.disruptive]\ncadence = 3\n"},
        "strategies.disruptive",
    ),
    "run: key that cannot reach the model": (
        "run {scn}",
        {"scn": '[network]\nnetwork = "complete"\nrewiring = 0.2\n'},
        "network.rewiring = 0.2: does not reach the model",
    ),
    "run: run key out of range": (
        "run {scn}",
        {"scn": "[run]\nreplicates = 0\n"},
        "run.replicates = 0: expected an integer >= 1",
    ),
    "run: run steps too many": (
        "run {scn}",
        {"scn": "[run]\nsteps = 10000000\n"},
        "run.steps = 10000000: expected an integer >= 1 and <= 1_000_000",
    ),
    "run: unknown run key": (
        "run {scn}",
        {"scn": "[run]\nsteps_ = 5\n"},
        "run.steps_: unknown key",
    ),
    # ---- run: the command line
    "run: --set without =": ("run {scn} --set customers.loss_aversion_mean", {}, "--set = "),
    "run: --set unknown key": (
        "run {scn} --set customers.lambda=2",
        {},
        "with --set: customers.lambda: unknown key",
    ),
    "run: --set unknown section": (
        "run {scn} --set client.lambda=2",
        {},
        "unknown section 'client'",
    ),
    "run: --set out of range": (
        "run {scn} --set customers.initial_trust=1.5",
        {},
        "with --set: customers.initial_trust = 1.5: expected a number >= 0 and <= 1",
    ),
    "run: --set unreachable": (
        "run {scn} --set network.network=complete --set network.rewiring=0.2",
        {},
        "network.rewiring = 0.2: does not reach the model",
    ),
    "run: --set unknown firm": (
        "run {scn} --set firms.lab.cocreation=0.2",
        {},
        "no firm 'lab' in the scenario",
    ),
    "run: --steps 0": ("run {scn} --steps 0", {}, "--steps = 0: expected an integer >= 1"),
    "run: --steps 10^7": (
        "run {scn} --steps 10000000",
        {},
        "--steps = 10000000: expected an integer >= 1 and <= 1_000_000",
    ),
    "run: --replicates 0": ("run {scn} --replicates 0", {}, "--replicates = 0: expected"),
    "run: --replicates 10^9": (
        "run {scn} --replicates 1000000000",
        {},
        "--replicates = 1000000000: expected an integer >= 1 and <= 100_000",
    ),
    "run: --seed -1": ("run {scn} --seed -1", {}, "--seed = -1: expected an integer >= 0"),
    "run: --seed 2^70": (
        f"run {{scn}} --seed {2**70}",
        {},
        f"--seed = {2**70}: expected an integer >= 0 and <= 9_223_372_036_854_775_807",
    ),
    "run: --out is a file": ("run {scn} --out {file}", {}, "expected a folder (this is a file)"),
    "run: --out under a file": ("run {scn} --out {file}/sub", {}, "--out = "),
    "run: --out read-only": ("run {scn} --out {ro}/sub", {}, "cannot write there"),
    "run: more memory than free": (
        "run {scn} --set market.n_customers=10000000 {big}",
        {},
        "market.n_customers = 10000000: a run of 10,000,000 customers needs about",
    ),
    # ---- validate
    "validate: no such file": ("validate {tmp}/none.toml", {}, "no such scenario file"),
    "validate: bad scenario": ("validate {scn}", {"scn": "[marquet]\n"}, "unknown section"),
    "validate: bad experiment": (
        "validate {exp}",
        {"exp": add("[nonsense]")},
        "[nonsense]: unknown table",
    ),
    # ---- sweep: the experiment file
    "sweep: no such file": ("sweep {tmp}/none.toml", {}, "none.toml: no such experiment file"),
    "sweep: not TOML": ("sweep {exp}", {"exp": "[experiment\n"}, "not valid TOML"),
    "sweep: no [experiment]": (
        "sweep {exp}",
        {"exp": "[set]\nx = 1\n"},
        "[experiment]: missing table",
    ),
    "sweep: unknown table": ("sweep {exp}", {"exp": add("[sets]")}, "[sets]: unknown table"),
    "sweep: unknown key": (
        "sweep {exp}",
        {"exp": exp("seed = 1", "seed = 1\nseeds = 2")},
        "experiment.seeds: unknown key",
    ),
    "sweep: unknown design": (
        "sweep {exp}",
        {"exp": exp("seed = 1", 'seed = 1\ndesign = "random"')},
        "experiment.design = 'random': expected one of grid, lhs, sobol",
    ),
    "sweep: missing base": (
        "sweep {exp}",
        {"exp": exp("{root}/scenarios/baseline.toml", "nowhere.toml")},
        "experiment.base = 'nowhere.toml': expected a scenario file",
    ),
    "sweep: bad base scenario": (
        "sweep {exp}",
        {"exp": exp("{root}/scenarios/baseline.toml", "{tmp}/scn.toml"), "scn": "[marquet]\n"},
        "scn.toml: [marquet]: unknown section",
    ),
    "sweep: replicates 0": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", "replicates = 0")},
        "experiment.replicates = 0: expected an integer >= 1 and <= 100_000",
    ),
    "sweep: replicates 10^9": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", "replicates = 1000000000")},
        "experiment.replicates = 1000000000: expected an integer >= 1 and <= 100_000",
    ),
    "sweep: replicates 1e9": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", "replicates = 1e9")},
        "experiment.replicates = 1000000000.0: expected an integer or a table",
    ),
    "sweep: replicates a string": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = "many"')},
        "experiment.replicates = 'many': expected an integer or a table",
    ),
    "sweep: steps 0": (
        "sweep {exp}",
        {"exp": exp("steps = 5", "steps = 0")},
        "experiment.steps = 0: expected an integer >= 1",
    ),
    "sweep: steps 10^7": (
        "sweep {exp}",
        {"exp": exp("steps = 5", "steps = 10000000")},
        "experiment.steps = 10000000: expected an integer >= 1 and <= 1_000_000",
    ),
    "sweep: seed -1": (
        "sweep {exp}",
        {"exp": exp("seed = 1", "seed = -1")},
        "experiment.seed = -1: expected an integer >= 0",
    ),
    "sweep: seed 2^70": (
        "sweep {exp}",
        {"exp": exp("seed = 1", f"seed = {2**70}")},
        f"experiment.seed = {2**70}: expected an integer >= 0 and <= 9_223_372_036_854_775_807",
    ),
    "sweep: bootstrap 5": (
        "sweep {exp}",
        {"exp": exp("seed = 1", "seed = 1\nbootstrap = 5")},
        "experiment.bootstrap = 5: expected an integer >= 10",
    ),
    "sweep: more than a million runs": (
        "sweep {exp}",
        {
            "exp": exp("replicates = 2", "replicates = 100000").replace(
                "[1.0, 3.0]", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"
            )
        },
        "1,100,000 runs: expected at most 1,000,000 runs in one sweep",
    ),
    "sweep: keep nothing known": (
        "sweep {exp}",
        {"exp": exp('keep = ["share_*"]', 'keep = ["sales_*"]')},
        "experiment.keep = 'sales_*': expected an observable",
    ),
    # ---- sweep: the replicate rule
    "rule: min 1": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 1, max = 4, until = "winner" }')},
        "experiment.replicates.min = 1: expected an integer >= 2",
    ),
    "rule: max below min": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 8, max = 4, until = "winner" }')},
        "experiment.replicates.max = 4: expected an integer >= min = 8",
    ),
    "rule: max 10^9": (
        "sweep {exp}",
        {
            "exp": exp(
                "replicates = 2", 'replicates = { min = 2, max = 1000000000, until = "winner" }'
            )
        },
        "experiment.replicates.max = 1000000000: expected an integer >= 1 and <= 100_000",
    ),
    "rule: unknown until": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 2, max = 4, until = "forever" }')},
        "experiment.replicates.until = 'forever': expected one of 'winner', 'ci'",
    ),
    "rule: ci without width": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 2, max = 4, until = "ci" }')},
        "experiment.replicates.width = 0.0: expected a number > 0",
    ),
    "rule: unknown key": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 2, max = 4, until = "ci", w = 1 }')},
        "experiment.replicates.w: unknown key",
    ),
    "rule: missing max": (
        "sweep {exp}",
        {"exp": exp("replicates = 2", 'replicates = { min = 2, until = "winner" }')},
        "experiment.replicates.max: missing",
    ),
    "rule: unknown metric": (
        "sweep {exp}",
        {
            "exp": exp(
                "replicates = 2",
                'replicates = { min = 2, max = 4, until = "ci", metric = "sales", width = 0.1 }',
            )
        },
        "experiment.replicates.metric = 'sales': expected one of",
    ),
    # ---- sweep: [set] and factors
    "set: a table": (
        "sweep {exp}",
        {"exp": exp('"market.n_customers" = 100', "market = { n_customers = 100 }")},
        "set.market = {'n_customers': 100}: expected a value; quote dotted keys",
    ),
    "set: out of range": (
        "sweep {exp}",
        {"exp": exp('"market.n_customers" = 100', '"market.n_customers" = 1')},
        "market.n_customers = 1: expected an integer >= 2",
    ),
    "set: never reaches the model": (
        "sweep {exp}",
        {
            "exp": exp(
                '"market.n_customers" = 100',
                '"market.n_customers" = 100\n"customers.exploration" = 0.1',
            )
        },
        "exploration",
    ),
    "set: a key a factor varies": (
        "sweep {exp}",
        {
            "exp": exp(
                '"market.n_customers" = 100',
                '"market.n_customers" = 100\n"customers.loss_aversion_mean" = 5.0',
            )
        },
        "set.customers.loss_aversion_mean: also varied by factor lam",
    ),
    "factor: two on one key": (
        "sweep {exp}",
        {"exp": add('[factors.again]\nkey = "customers.loss_aversion_mean"\nvalues = [2.0, 4.0]')},
        "customers.loss_aversion_mean: set by both lam and again: one would override the other",
    ),
    "factor: two on one firm key, one by wildcard": (
        "sweep {exp}",
        {
            "exp": add(
                '[factors.c1]\nkey = "firms.*.cocreation"\nvalues = [0.1, 0.2]\n'
                '[factors.c2]\nkey = "firms.radical.cocreation"\nvalues = [0.3, 0.4]'
            )
        },
        "firms.radical.cocreation: set by both c1 and c2: one would override the other",
    ),
    "factor: unknown key": (
        "sweep {exp}",
        {"exp": exp('key = "customers.loss_aversion_mean"', 'key = "customers.lambda"')},
        "factors.lam.key = 'customers.lambda': customers.lambda: unknown key",
    ),
    "factor: a run setting": (
        "sweep {exp}",
        {"exp": exp('key = "customers.loss_aversion_mean"', 'key = "run.steps"')},
        "steps, replicates and seed are set in [experiment]",
    ),
    "factor: level out of range": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "values = [1.0, 30.0]")},
        "factors.lam.values = 30.0: expected a number >= 0 and <= 20",
    ),
    "factor: empty values": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "values = []")},
        "factors.lam.values = []: expected a non-empty list",
    ),
    "factor: repeated values": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "values = [1.0, 1.0]")},
        "factors.lam.values = [1.0, 1.0]: expected distinct values",
    ),
    "factor: values and range": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "values = [1.0, 3.0]\nlow = 1.0")},
        "expected either values = [...] or low and high",
    ),
    "factor: low >= high": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "low = 3.0\nhigh = 1.0")},
        "factors.lam.high = 1.0: expected a number > low = 3.0",
    ),
    "factor: one level": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "low = 1.0\nhigh = 3.0\nlevels = 1")},
        "factors.lam.levels = 1: expected an integer >= 2",
    ),
    "factor: log of zero": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", 'low = 0.0\nhigh = 3.0\nscale = "log"')},
        "factors.lam.low = 0.0: expected a number > 0 for scale = 'log'",
    ),
    "factor: labels for a range": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", 'low = 1.0\nhigh = 3.0\nlabels = ["a", "b"]')},
        "factors.lam.labels: only for explicit values",
    ),
    "factor: labels miscounted": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", 'values = [1.0, 3.0]\nlabels = ["a"]')},
        "factors.lam.labels = ['a']: expected 2 strings, one per value",
    ),
    "factor: unknown option": (
        "sweep {exp}",
        {"exp": exp("values = [1.0, 3.0]", "values = [1.0, 3.0]\nstep = 1")},
        "factors.lam.step: unknown key",
    ),
    "factor: reserved name": (
        "sweep {exp}",
        {"exp": exp("[factors.lam]", "[factors.seed]")},
        "factors.seed: the name 'seed' is taken by a results column",
    ),
    "factor: braces naming nothing": (
        "sweep {exp}",
        {
            "exp": exp(
                'key = "customers.loss_aversion_mean"', 'key = "firms.{who}.cocreation"'
            ).replace("[1.0, 3.0]", "[0.1, 0.2]")
        },
        "braces naming another factor",
    ),
    "factor: values on a sobol design": (
        "sweep {exp}",
        {"exp": exp("seed = 1", 'seed = 1\ndesign = "sobol"\nsamples = 4')},
        "a sobol design samples ranges",
    ),
    # ---- sweep: designs, quick, report, robust, discovery
    "lhs: one sample": (
        "sweep {exp}",
        {"exp": exp("samples = 4", "samples = 1", LHS)},
        "experiment.samples = 1: expected an integer >= 2",
    ),
    "sobol: samples not a power of 2": (
        "sweep {exp}",
        {"exp": exp('design = "lhs"\nsamples = 4', 'design = "sobol"\nsamples = 6', LHS)},
        "experiment.samples = 6: expected a power of 2",
    ),
    "lhs: no factors": (
        "sweep {exp}",
        {"exp": exp("[factors.lam]", "[nothing]", LHS).split("[nothing]")[0]},
        "[factors]: a lhs design needs a range factor",
    ),
    "quick: unknown key": (
        "sweep {exp} --quick",
        {"exp": add("[quick]\nsteps = 3\nworkers = 2")},
        "quick.workers: unknown key",
    ),
    "quick: unknown factor": (
        "sweep {exp}",
        {"exp": add("[quick.factors]\nrho = [0.0]")},
        "quick.factors.rho: no entry 'rho' in [factors]; entries: lam",
    ),
    "quick: steps 0": (
        "sweep {exp} --quick",
        {"exp": add("[quick]\nsteps = 0")},
        "experiment.steps = 0: expected an integer >= 1",
    ),
    "report: unknown key": ("sweep {exp}", {"exp": add("[report]\nmapp = 1")}, "report.mapp"),
    "report: unknown factor": (
        "sweep {exp}",
        {"exp": add('[report]\nmap = ["lam", "rho"]')},
        "report = 'rho': expected a factor name among lam",
    ),
    "report: unknown metric": (
        "sweep {exp}",
        {"exp": add('[report]\nmetric = "sales"')},
        "report.metrics = 'sales': expected one of",
    ),
    "report: unknown analysis": (
        "sweep {exp}",
        {"exp": add('[report]\nanalysis = "magic"')},
        "report.analysis = 'magic': expected one of standard, bass",
    ),
    "robust: on a grid": (
        "sweep {exp}",
        {"exp": add('[robust]\nfocal = "radical"')},
        "robust: needs sampled futures (experiment.design = 'lhs'), not 'grid'",
    ),
    "robust: unknown firm": (
        "sweep {exp}",
        {"exp": add('[robust]\nfocal = "newco"', LHS)},
        "robust.focal = 'newco': expected a firm of the base scenario",
    ),
    "discovery: on a grid": (
        "sweep {exp}",
        {"exp": add("[discovery]")},
        "discovery: scenario discovery needs a random design",
    ),
    "discovery: peel out of range": (
        "sweep {exp}",
        {"exp": add("[discovery]\npeel_alpha = 0.9", LHS)},
        "discovery.peel_alpha = 0.9: expected a number > 0 and < 0.5",
    ),
    # ---- sweep: the command line and the folder
    "sweep: --workers 0": (
        "sweep {exp} --workers 0",
        {},
        "--workers = 0: expected an integer >= 1",
    ),
    "sweep: --workers beyond memory": (
        "sweep {exp} --workers 64 {big}",
        {},
        "--workers = 64: expected at most 3",
    ),
    "sweep: --out is a file": (
        "sweep {exp} --out {file}",
        {},
        "expected a folder (this is a file)",
    ),
    "sweep: --out read-only": ("sweep {exp} --out {ro}/sub", {}, "cannot write there"),
    "sweep: folder of another experiment": (
        "sweep {exp} --out {other}",
        {"exp": exp("seed = 1", "seed = 2")},
        "holds results of a different experiment, size or store format",
    ),
    "sweep: folder of another seed, no manifest": (
        "sweep {exp} --out {other_bare}",
        {"exp": exp("seed = 1", "seed = 2")},
        "with seed",
    ),
    # ---- calibrate and data
    "data: no such file": ("data {tmp}/none.csv", {}, "none.csv: no such file"),
    "data: unknown series": ("data {csv} --series fax", {}, "--series = 'fax': expected one of"),
    "calibrate: no such file": ("calibrate {tmp}/none.csv", {}, "none.csv: no such file"),
    "calibrate: unknown series": ("calibrate {csv} --series fax", {}, "--series = 'fax'"),
    "calibrate: --fit malformed": (
        "calibrate {csv} --series colour_tv --fit diffusion.imitation",
        {},
        "--fit = 'diffusion.imitation': expected KEY=LOW:HIGH",
    ),
    "calibrate: --fit unknown key": (
        "calibrate {csv} --series colour_tv --fit diffusion.imitatio=0:1",
        {},
        "diffusion.imitatio: unknown key",
    ),
    "calibrate: --fit low >= high": (
        "calibrate {csv} --series colour_tv --fit diffusion.imitation=0.5:0.2",
        {},
        "LOW < HIGH",
    ),
    "calibrate: --holdout too large": (
        "calibrate {csv} --series colour_tv --holdout 40",
        {},
        "--holdout = 40: expected an integer >= 0 and <= 35",
    ),
    "calibrate: --budget too small": (
        "calibrate {csv} --series colour_tv --budget 10",
        {},
        "--budget = 10: expected an integer >= 748: the prior sample (200) and a first generation",
    ),
    "calibrate: --population too small": (
        "calibrate {csv} --series colour_tv --population 5",
        {},
        "--population = 5: expected an integer >= 20",
    ),
    "calibrate: --generations 0": (
        "calibrate {csv} --series colour_tv --generations 0",
        {},
        "--generations = 0: expected an integer >= 1",
    ),
    "calibrate: --seed -1": ("calibrate {csv} --series colour_tv --seed -1", {}, "--seed = -1"),
    "calibrate: --seed 2^70": (
        f"calibrate {{csv}} --series colour_tv --seed {2**70}",
        {},
        f"--seed = {2**70}: expected an integer >= 0 and <= 9_223_372_036_854_775_807",
    ),
    "calibrate: --workers 0": (
        "calibrate {csv} --series colour_tv --workers 0",
        {},
        "--workers = 0",
    ),
    "calibrate: --workers and --scheduler": (
        "calibrate {csv} --series colour_tv --workers 2 --scheduler tcp://127.0.0.1:1",
        {},
        "either --workers or --scheduler",
    ),
    "calibrate: --workers beyond memory": (
        "calibrate {csv} --series colour_tv --workers 64 {big}",
        {},
        "--workers = 64: expected at most",
    ),
    "calibrate: --out is a file": (
        "calibrate {csv} --series colour_tv --out {file}",
        {},
        "expected a folder (this is a file)",
    ),
    "calibrate: --out read-only": (
        "calibrate {csv} --series colour_tv --out {ro}/sub",
        {},
        "cannot write there",
    ),
    "calibrate: bad scenario": (
        "calibrate {csv} --series colour_tv --scenario {scn}",
        {"scn": "[marquet]\n"},
        "[marquet]: unknown section",
    ),
    "backtest: --out is a file": (
        "backtest --out {file}",
        {},
        "--out = '{file}': expected a folder (this is a file)",
    ),
    "backtest: --doc under a file": (
        "backtest --doc {file}/validation.md",
        {},
        "--doc = '{file}': expected a folder (this is a file)",
    ),
    "calibrate: --out of another calibration": (
        "calibrate {csv} --series colour_tv --out {history}",
        {},
        "history.db there is not a calibration history this command can continue",
    ),
}


def _read_only(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder nothing can be written to (made so for root too: its writes fail EACCES)."""
    folder = root / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if folder in self.parents and not self.exists():
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    return folder


def _store(root: Path, name: str, manifest: bool) -> Path:
    """A folder holding a finished tiny sweep (seed 1), with or without its manifest."""
    path = root / f"{name}.toml"
    path.write_text(_filled(EXPERIMENT, root))
    out = root / name
    assert run.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    if not manifest:
        (out / "manifest.json").unlink()
    return out


def _filled(text: str, tmp_path: Path) -> str:
    return text.replace("{root}", str(ROOT)).replace("{tmp}", str(tmp_path))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _placeholders(
    tmp_path: Path, command: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {"tmp": str(tmp_path), "root": str(ROOT), "csv": str(CSV), "big": ""}
    texts = {"scn": SCENARIO, "exp": EXPERIMENT, **files}
    for name, text in texts.items():
        path = tmp_path / f"{name}.toml"
        if "\udcff" in text:
            path.write_bytes(b"\xff\xfe\x00binary")
        else:
            path.write_text(_filled(text, tmp_path))
        values[name] = str(path)
    values["out"] = str(tmp_path / "out")
    values["file"] = str(tmp_path / "a-file.txt")
    Path(values["file"]).write_text("not a folder\n")
    if "{ro}" in command:
        values["ro"] = str(_read_only(tmp_path, monkeypatch))
    if "{big}" in command:  # 1 GB free: a 10-million-customer run or 64 workers do not fit
        import sim.memory

        monkeypatch.setattr(sim.memory, "available_bytes", lambda: (1 << 30, None))
    if "{other}" in command:
        values["other"] = str(_store(tmp_path, "other", manifest=True))
    if "{other_bare}" in command:
        values["other_bare"] = str(_store(tmp_path, "other_bare", manifest=False))
    if "{history}" in command:
        folder = tmp_path / "history"
        folder.mkdir()
        (folder / "history.db").write_bytes(b"not SQLite")
        values["history"] = str(folder)
    return values


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    command, files, expected = CASES[case]
    values = _placeholders(tmp_path, command, files, monkeypatch)
    argv = command.format(**values).split()
    uses_out = "--out" in argv
    if not uses_out and argv[0] in ("run", "sweep", "calibrate"):
        argv += ["--out", values["out"]]
    argv += ["--quiet"] if argv[0] in ("run", "sweep", "calibrate") else []
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = run.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, f"{case}: exit {code}\n{err}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{case}:\n{err}"
    assert expected.replace("{file}", values["file"]) in lines[0], f"{case}: {lines[0]}"
    assert "Traceback" not in err
    assert _snapshot(tmp_path) == before, f"{case}: wrote files"


def test_the_table_is_broad() -> None:
    """At least 105 cases, over every command that takes input."""
    assert len(CASES) >= 105, len(CASES)
    for command in ("run", "validate", "sweep", "calibrate", "backtest", "data"):
        assert any(c.split()[0] == command for c, _, _ in CASES.values()), command
