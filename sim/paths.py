"""Where the repository's folders are: defined once, for default paths of outputs and inputs."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA", "DOCS", "RESULTS", "ROOT", "SCENARIOS"]

#: The repository (or source tree) the package lives in.
ROOT = Path(__file__).resolve().parents[1]
#: Default home of every generated output (not committed).
RESULTS = ROOT / "results"
SCENARIOS = ROOT / "scenarios"
DATA = ROOT / "data"
DOCS = ROOT / "docs"
