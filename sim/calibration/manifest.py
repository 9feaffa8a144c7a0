"""Where a calibration's folder says it is finished: its manifest, written last."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "read_manifest"]

MANIFEST = "manifest.json"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a finished calibration in ``directory``, or None."""
    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
