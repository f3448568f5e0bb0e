"""Which reader a file needs, told from its first bytes alone.

A Parquet file starts with ``PAR1``. A CSV header naming the A-share
columns (``tradedate`` or ``accumadjfactor``) is the A-share export; anything
else is read as generic OHLCV, whose own column mapping then reports what is
missing.
"""

from __future__ import annotations

import csv

from engine.data.csvchunks import header_text, sniff_delimiter

FORMATS = ("auto", "ohlcv", "ashare", "parquet")
PARQUET_MAGIC = b"PAR1"
_ASHARE_MARKERS = {"tradedate", "accumadjfactor"}


def detect_format(path: str) -> str:
    """'parquet', 'ashare' or 'ohlcv'."""
    with open(path, "rb") as f:
        if f.read(4) == PARQUET_MAGIC:
            return "parquet"
        f.seek(0)
        delimiter = sniff_delimiter(f, path)
        f.seek(0)
        text = header_text(f, path)
    names = next(csv.reader([text], delimiter=delimiter))
    return "ashare" if _ASHARE_MARKERS & {name.strip().lower() for name in names} else "ohlcv"
