"""The join address as a QR code (SVG), drawn here: nothing is fetched to draw it.

``segno`` (pure Python, no dependencies) encodes it; a QR encoder is error-correction
maths we would rather not keep ourselves.
"""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg"]


def qr_svg(text: str) -> str:
    """``text`` as an SVG document (an ``<img>`` can show it) that scales to its box,
    with medium error correction."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", xmldecl=False, omitsize=True, border=2, dark="#000000", light="#ffffff"
    )
    return out.getvalue().decode()
