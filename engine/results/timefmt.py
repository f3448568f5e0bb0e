"""Render integer-nanosecond timestamps as ISO 8601 text, deterministically.

One resolution per run: ``D`` (dates) while every timestamp seen is a UTC
midnight, ``s`` while all are whole seconds, else ``ns``. The recorder
learns it from the bars as they stream, so daily data reads as dates and a
minute series never mixes ``2020-01-02`` with ``2020-01-02T00:01:00``.
"""

from __future__ import annotations

import datetime

import numpy as np

DAY = 86_400_000_000_000
SECOND = 1_000_000_000
UNITS = ("D", "s", "ns")
DIVISORS = (DAY, SECOND, 1)
_EPOCH = datetime.datetime(1970, 1, 1)


def finest_unit(unit: int, ts: int) -> int:
    """The resolution index (into UNITS) that also renders ``ts`` without loss."""
    while unit < 2 and ts % DIVISORS[unit]:
        unit += 1
    return unit


def iso_unit(ts: np.ndarray) -> str:
    """The coarsest unit that renders every value of ``ts`` without loss."""
    if not len(ts) or not (ts % DAY).any():
        return "D"
    if not (ts % SECOND).any():
        return "s"
    return "ns"


def format_ts(ts: np.ndarray, unit: str) -> np.ndarray:
    """Vectorised: for chunks of rows (equity.csv)."""
    return np.datetime_as_string(ts.astype("datetime64[ns]").astype(f"datetime64[{unit}]"), unit=unit)


def format_one(ts: int, unit: int | None = None) -> str:
    """One timestamp at resolution ``unit`` (default: the coarsest lossless one for this value).

    Pure Python: a numpy round trip cost ~100x more, paid on every fill and order.
    """
    if unit is None:
        unit = finest_unit(0, ts)
    seconds, nanos = divmod(ts, SECOND)
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    if unit == 0:
        return moment.date().isoformat()
    if unit == 1:
        return moment.isoformat()
    return f"{moment.isoformat()}.{nanos:09d}"
