"""Render integer-nanosecond timestamps as ISO 8601 text, vectorised and deterministic."""

from __future__ import annotations

import numpy as np

_DAY = 86_400_000_000_000
_SECOND = 1_000_000_000


def iso_unit(ts: np.ndarray) -> str:
    """The coarsest unit that loses nothing: D for daily bars, s for whole seconds, else ns."""
    if not len(ts) or not (ts % _DAY).any():
        return "D"
    if not (ts % _SECOND).any():
        return "s"
    return "ns"


def format_ts(ts: np.ndarray, unit: str) -> np.ndarray:
    return np.datetime_as_string(ts.astype("datetime64[ns]").astype(f"datetime64[{unit}]"), unit=unit)


def format_one(ts: int) -> str:
    array = np.array([ts], dtype=np.int64)
    return str(format_ts(array, iso_unit(array))[0])
