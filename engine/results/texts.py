"""Numbers and timestamps as text, a column at a time: the result files' formatting hot path.

A backtest writes a row of equity.csv per timestamp; formatting it one value
at a time (``repr`` through CPython's dtoa, numpy's ISO printer through C
``printf``, an f-string per row) cost ~10k CPU instructions a row, as much as
the agents' whole work on a bar. Here a block of rows is formatted at once:

* numbers: msgspec's JSON encoder writes the shortest round-trip digits, as
  ``repr`` does, ~7x faster. The two spell exponents differently (``1e16`` /
  ``1e+16``) and JSON has no NaN or infinity, so a block holding a value
  outside ``[1e-4, 1e16)`` in magnitude (zero excepted) or a non-finite one
  is written with ``repr`` instead. Either way the text is ``repr``'s.
* timestamps: the calendar arithmetic runs on numpy arrays and the digits
  are laid into a byte matrix; the text is numpy's ``datetime_as_string``.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from .timefmt import DAY, SECOND, UNITS, format_ts

_encode = msgspec.json.Encoder().encode


def positional(values: np.ndarray) -> bool:
    """True when every value's ``repr`` is positional (no exponent) and finite: msgspec writes the same."""
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        return bool((((magnitude >= 1e-4) & (magnitude < 1e16)) | (values == 0.0)).all())


def float_texts(values: list[float] | tuple[float, ...]) -> list[str]:
    """``[repr(x) for x in values]`` for floats, computed a column at a time."""
    return [b.decode() for b in float_bytes(values)]


def float_bytes(values: list[float] | tuple[float, ...] | np.ndarray) -> list[bytes]:
    """``repr`` of each float as ASCII bytes; a run of equal values is formatted once (cash, a flat book's equity)."""
    if not len(values):
        return []
    arr = np.asarray(values, dtype=np.float64)
    if not positional(arr):
        return _mixed_bytes(arr)
    change = _run_starts(arr.view(np.int64))  # equal bits, not equal values: -0.0 and 0.0 print differently
    if change.all():
        return _encode(arr.tolist())[1:-1].split(b",")
    texts = np.array(_encode(arr[change].tolist())[1:-1].split(b","), dtype=object)
    return texts[np.cumsum(change) - 1].tolist()


def _mixed_bytes(arr: np.ndarray) -> list[bytes]:
    """Some values need an exponent (or are not finite): those through ``repr``, the others a column at a time."""
    magnitude = np.abs(arr)
    with np.errstate(invalid="ignore"):
        plain = ((magnitude >= 1e-4) & (magnitude < 1e16)) | (arr == 0.0)
    texts = [b""] * len(arr)
    if plain.any():
        for i, text in zip(np.flatnonzero(plain).tolist(), _encode(arr[plain].tolist())[1:-1].split(b","), strict=True):
            texts[i] = text
    for i in np.flatnonzero(~plain).tolist():
        texts[i] = repr(float(arr[i])).encode()
    return texts


def csv_rows(stamps: list[bytes], *columns: list[float] | np.ndarray) -> bytes:
    """``stamp,x,y...`` lines as ASCII bytes (each ending in ``\\n``), every number as its ``repr``.

    The row parts are laid out in one list by slice assignment and joined
    once: no per-row string is built.
    """
    rows = len(stamps)
    if not rows:
        return b""
    stride = 2 * (len(columns) + 1)
    parts = [b","] * (rows * stride)
    parts[0::stride] = stamps
    for j, column in enumerate(columns):
        parts[2 + 2 * j :: stride] = float_bytes(column)
    parts[stride - 1 :: stride] = [b"\n"] * rows
    return b"".join(parts)


def stamp_cells(rows: list[list[Any]], columns: tuple[int, ...]) -> np.ndarray:
    """The integer cells of ``columns`` (nanosecond timestamps; None and text skipped), row by row, as int64."""
    return np.array([row[j] for row in rows for j in columns if type(row[j]) is int], dtype=np.int64)


def write_rows(
    rows: list[list[Any]],
    stamp_columns: tuple[int, ...],
    stamp_texts: list[bytes],
    write_line: Callable[[list[str]], None],
) -> None:
    """A batch of rows as text, a column at a time: floats as ``repr``, None as ``""``, ints in ``stamp_columns`` as
    ``stamp_texts`` (in :func:`stamp_cells`' order); text as is. ``rows`` are changed in place.

    For fills.csv and orders.csv: six or so numbers a row through ``repr``
    were most of a recorded order's cost. ``write_line`` gets each finished
    line (it handles CSV quoting: :func:`line_writer`).
    """
    if stamp_columns:
        texts = iter([b.decode() for b in stamp_texts])
        for row in rows:
            for j in stamp_columns:
                if type(row[j]) is int:
                    row[j] = next(texts)
    texts = iter(float_texts([c for row in rows for c in row if type(c) is float]))
    for row in rows:
        write_line([next(texts) if type(c) is float else c if type(c) is str else "" if c is None else repr(c) for c in row])


def line_writer(file: Any) -> Callable[[list[str]], None]:
    """A row writer byte-identical to ``csv.writer(file, lineterminator="\\n").writerow`` (QUOTE_MINIMAL).

    The csv module tests every character of every field against the
    delimiter, the quote and the line terminator (~18k CPU instructions a
    fill row, callgrind). Numbers and timestamps never need quoting, so a row
    whose joined text has exactly one comma between fields and no quote, CR,
    LF or NUL is written as is; any other row goes through the csv writer.
    """
    writer = csv.writer(file, lineterminator="\n")
    write = file.write

    def write_row(fields: list[str]) -> None:
        line = ",".join(fields)
        if len(fields) < 2 or line.count(",") != len(fields) - 1 or '"' in line or "\n" in line or "\r" in line or "\0" in line:
            writer.writerow(fields)
            return
        write(line + "\n")

    return write_row


def stamp_bytes(ts: np.ndarray, unit: int) -> list[bytes]:
    """ISO text (numpy's ``datetime_as_string``) of integer-nanosecond timestamps at resolution ``unit``, as ASCII bytes.

    Dates are computed once per run of equal days (timestamps arrive sorted),
    times of day come from a table of all 86,400 ``THH:MM:SS`` texts.
    """
    if unit == 2 or not len(ts):
        return [t.encode() for t in format_ts(ts, UNITS[unit]).tolist()]
    days, rest = np.divmod(ts.astype(np.int64), DAY)
    change = _run_starts(days)
    year, month, day = _civil(days[change])
    if year.min() < 0 or year.max() > 9999:
        return [t.encode() for t in format_ts(ts, UNITS[unit]).tolist()]
    dates = np.empty((len(year), 10), dtype=np.uint8)
    _digits(dates, 0, year, 4)
    dates[:, 4] = dates[:, 7] = ord("-")
    _digits(dates, 5, month, 2)
    _digits(dates, 8, day, 2)
    run = np.cumsum(change) - 1
    if unit == 0:
        return dates[run].view("S10").ravel().tolist()
    text = np.empty((len(ts), 19), dtype=np.uint8)
    text[:, :10] = dates[run]
    text[:, 10:] = _times_of_day()[rest // SECOND]
    return text.view("S19").ravel().tolist()


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values begins; ``np.cumsum(starts) - 1`` then numbers each value's run."""
    starts = np.empty(len(values), dtype=bool)
    starts[0] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


@functools.cache
def _times_of_day() -> np.ndarray:
    """``THH:MM:SS`` for every second of a day, as a (86400, 9) byte matrix (built once, ~0.8 MB)."""
    seconds = np.arange(86_400)
    table = np.empty((86_400, 9), dtype=np.uint8)
    table[:, 0] = ord("T")
    _digits(table, 1, seconds // 3600, 2)
    table[:, 3] = table[:, 6] = ord(":")
    _digits(table, 4, seconds // 60 % 60, 2)
    _digits(table, 7, seconds % 60, 2)
    return table


_PAIRS = np.array([[ord("0") + i // 10, ord("0") + i % 10] for i in range(100)], dtype=np.uint8)


def _digits(text: np.ndarray, at: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` (0 <= v < 10**width, width even) as zero-padded digits into columns ``at .. at+width``."""
    for k in range(width - 2, -1, -2):
        text[:, at + k : at + k + 2] = _PAIRS[values % 100]
        values = values // 100


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of day numbers since 1970-01-01 (H. Hinnant's ``civil_from_days``)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day
