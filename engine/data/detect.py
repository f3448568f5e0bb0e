"""Which reader a file needs, told from its header line alone.

A header naming the A-share columns (``tradedate`` or ``accumadjfactor``) is
the A-share export; anything else is read as generic OHLCV, whose own column
mapping then reports what is missing.
"""

from __future__ import annotations

from engine.data.csvchunks import read_header

FORMATS = ("auto", "ohlcv", "ashare")
_ASHARE_MARKERS = {"tradedate", "accumadjfactor"}


def detect_format(path: str) -> str:
    """'ashare' or 'ohlcv'."""
    with open(path, "rb") as f:
        header = read_header(f, path)
    return "ashare" if _ASHARE_MARKERS & {name.lower() for name in header} else "ohlcv"
