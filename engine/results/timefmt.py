"""Render integer-nanosecond timestamps as ISO 8601 text, deterministically.

One resolution per run: ``D`` (dates) while every timestamp seen is a UTC
midnight, ``s`` while all are whole seconds, else ``ns``. The recorder
learns it from the bars as they stream, so daily data reads as dates and a
minute series never mixes ``2020-01-02`` with ``2020-01-02T00:01:00``.
"""

from __future__ import annotations

import datetime
import functools

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


def finest_units(unit: int, ts: np.ndarray) -> int:
    """:func:`finest_unit` over an array of timestamps at once."""
    while unit < 2 and len(ts) and (ts % DIVISORS[unit]).any():
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
    The text is ``datetime.isoformat``'s, built from a cached date and integer
    formatting: ``isoformat`` goes through C ``printf`` per field, which made
    the fills' and orders' timestamps cost ~11k CPU instructions each (callgrind).
    """
    if unit is None:
        unit = finest_unit(0, ts)
    seconds, nanos = divmod(ts, SECOND)
    days, second_of_day = divmod(seconds, 86_400)
    date = _date_text(days)
    if unit == 0:
        return date
    if unit == 1:
        return date + _time_text(second_of_day)
    return f"{date}{_time_text(second_of_day)}.{nanos:09d}"


@functools.lru_cache(maxsize=4096)
def _time_text(second_of_day: int) -> str:
    """``THH:MM:SS``: integer formatting with a width costs ~1k CPU instructions a field, so it is cached."""
    hours, second_of_hour = divmod(second_of_day, 3600)
    minutes, secs = divmod(second_of_hour, 60)
    return f"T{hours:02d}:{minutes:02d}:{secs:02d}"


@functools.lru_cache(maxsize=256)
def _date_text(days: int) -> str:
    """ISO date of a day number since the epoch (OverflowError outside datetime's range, as before)."""
    return (_EPOCH + datetime.timedelta(days=days)).date().isoformat()
