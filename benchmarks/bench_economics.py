"""What the innovation economics costs (issue 16): customer-steps per second of the
baseline before and after, measured in one run.

"Before" is the code at a git revision (default: the parent of the commit that added
``sim/economics.py``), extracted with ``git archive`` into a temporary folder; "after"
is this tree. Each measurement runs in a fresh single-threaded subprocess on its own
tree's ``scenarios/baseline.toml`` with ``market.n_customers`` overridden; before and
after alternate, so load on a shared machine hits both alike. The rate is per second of
the process's own CPU time (the better estimate on a shared machine), median over
rounds; the ratio after / before must stay above 0.9 (the economics may cost at most
10 %). Usage::

    python benchmarks/bench_economics.py                    # N = 10,000 and 100,000
    python benchmarks/bench_economics.py --sizes 2000 --rounds 2 --steps 50   # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINGLE_THREAD = {f"{n}_NUM_THREADS": "1" for n in ("OMP", "OPENBLAS", "MKL", "NUMEXPR")}
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from sim.model import InnovationModel
from sim.scenario import load_scenario
tree, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
scenario = load_scenario(tree + "/scenarios/baseline.toml", {"market.n_customers": n})
model = InnovationModel(**scenario.model_kwargs(), rng=1, customer_agents=False)
model.run(2)  # warm-up: compiled kernels loaded, buffers allocated
began = time.process_time()
model.run(steps)
print(json.dumps({"cpu_s": time.process_time() - began}))
"""


def default_before() -> str:
    """The parent of the commit that added sim/economics.py."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "sim/economics.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("no commit adds sim/economics.py here: give --before REV")
    return f"{added[-1]}^"


def extract(revision: str, into: Path) -> Path:
    """The package and scenarios at ``revision``, from this repository's history."""
    archive = into / "before.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), revision, "sim", "scenarios"],
        cwd=ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def measure(tree: Path, n: int, steps: int) -> float:
    """Customer-steps per CPU second of one fresh run."""
    env = {**os.environ, **SINGLE_THREAD}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(n), str(steps)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tree,
    )
    cpu = json.loads(out.stdout.strip().splitlines()[-1])["cpu_s"]
    return n * steps / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="git revision of 'before' (default: see above)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    args = parser.parse_args()
    revision = args.before or default_before()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before = extract(revision, Path(tmp))
        for n in args.sizes:
            rates: dict[str, list[float]] = {"before": [], "after": []}
            for round_ in range(args.rounds):
                order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
                for which in order:
                    tree = before if which == "before" else ROOT
                    rates[which].append(measure(tree, n, args.steps))
            b, a = statistics.median(rates["before"]), statistics.median(rates["after"])
            ratios = [x / y for x, y in zip(rates["after"], rates["before"], strict=True)]
            rows.append(
                {
                    "n_customers": n,
                    "before_M_per_s": b / 1e6,
                    "after_M_per_s": a / 1e6,
                    "ratio": a / b,
                    "ratio_min": min(ratios),
                    "ratio_max": max(ratios),
                }
            )
            print(
                f"N = {n:>9,}: before {b / 1e6:.2f} M, after {a / 1e6:.2f} M customer-steps "
                f"per CPU s; after/before {a / b:.3f} (paired rounds {min(ratios):.3f}-"
                f"{max(ratios):.3f})"
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Cost of the innovation economics (issue 16)",
        "",
        f"Before: `{revision}`; after: this tree. Baseline scenario, {args.steps} steps, "
        f"{args.rounds} alternating rounds, customer-steps per CPU second (median).",
        "",
        "| customers | before (M/s) | after (M/s) | after / before | paired range |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {r['n_customers']:,} | {r['before_M_per_s']:.2f} | {r['after_M_per_s']:.2f} | "
            f"{r['ratio']:.3f} | {r['ratio_min']:.3f}-{r['ratio_max']:.3f} |"
            for r in rows
        ),
    ]
    (out / "bench_economics.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {out / 'bench_economics.md'}")


if __name__ == "__main__":
    main()
