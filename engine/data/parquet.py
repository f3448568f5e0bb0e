"""Parquet input (``--format parquet``, or told by the file's ``PAR1`` magic): OHLCV columns, a row group at a time.

Columns are found by name as in a CSV header (:mod:`engine.data.mapping`).
The time column may be a Parquet timestamp (any unit; one without a time
zone is UTC, as a CSV time without an offset is), a date, an integer epoch
(its unit told from the first value's magnitude, as in a CSV) or text
(parsed as a CSV's); prices and volume any integer, float or decimal type,
or text. A null is a missing value: a bad row like any other. Where a CSV
names a line, a Parquet file names the row, counted from 1
(``x.parquet:17`` is the 17th row). What happens to the parsed columns is
:mod:`engine.data.finish`, as for a CSV.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from engine.data.buffers import PAD, Buffer
from engine.data.columns import BarColumns
from engine.data.errors import BAD_NUMBER, BAD_TIMESTAMP, MISSING, DataError, Report
from engine.data.finish import FileRules
from engine.data.mapping import ADJ_CLOSE, FIELDS, adj_close_column, map_columns
from engine.data.numbers import parse_floats
from engine.data.problems import Problems, cannot_parse
from engine.data.timestamps import UNITS, TimestampParser, epoch_unit, epoch_units, ns_per_unit

BATCH_ROWS = 65_536


def _open(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(path, None, None, f"not a readable Parquet file ({exc})") from None


def parquet_names(path: str) -> list[str]:
    """The file's column names (its header)."""
    return list(_open(path).schema_arrow.names)


def read_parquet(
    path: str,
    *,
    columns: dict[str, str] | None = None,
    instrument: str | None = None,
    skip_bad: bool = False,
    report: Report | None = None,
    adjust: str = "none",
    sort: bool = False,
) -> Iterator[BarColumns]:
    """Yield the file's bars as checked column chunks (one per row group batch; one in all with ``sort``)."""
    report = report if report is not None else Report()
    name = instrument if instrument is not None else os.path.splitext(os.path.basename(path))[0]
    parquet = _open(path)
    header = list(parquet.schema_arrow.names)
    adjusted = adjust == "close"
    index = map_columns(path, header, columns, adjusted)
    if not adjusted and (unused := adj_close_column(header, columns)):
        report.notes.append(f"{path}: its adjusted close column {unused!r} is not applied; "
                            "--adjust close ([data] adjust = \"close\") scales the prices to it")
    names = {key: header[i] for key, i in index.items()}
    numeric = [key for key in (*FIELDS[1:], ADJ_CLOSE) if key in index]
    wanted = [names[key] for key in ("ts", *numeric)]
    rules = FileRules(path, names, skip_bad=skip_bad, report=report, sort=sort)
    times = Times(path, names["ts"])
    rows = kept = 0
    for batch in _batches(parquet, wanted, sort):
        n = len(batch[names["ts"]])
        if n == 0:
            continue
        lines = np.arange(rows + 1, rows + n + 1, dtype=np.int64)
        rows += n
        report.rows_read[path] = rows
        problems = Problems(n)
        ts = times.parse(batch[names["ts"]], problems)
        values = {key: _floats(path, names[key], batch[names[key]], problems) for key in numeric}
        chunk = rules.finish(name, ts, values, problems, lines, lambda row, field, batch=batch: _text(batch, row, field))
        kept += len(chunk)
        yield chunk
    if rows == 0:
        raise DataError(path, None, None, "no rows")
    if kept == 0:
        raise report.nothing_left(path, rows)


def _batches(parquet: Any, wanted: list[str], whole: bool) -> Iterator[dict[str, Any]]:
    """Column arrays by name, a batch at a time, or the whole file as one (to sort it)."""
    if whole:
        table = parquet.read(columns=wanted)
        yield {name: table.column(name).combine_chunks() for name in wanted}
        return
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
        yield {name: batch.column(name) for name in wanted}


def _text(batch: dict[str, Any], row: int, field: str) -> str:
    column = batch.get(field)
    if column is None:
        return ""
    value = column[row].as_py()
    return "" if value is None else str(value)


def _nulls(array: Any, field: str, problems: Problems) -> None:
    if array.null_count:
        problems.add(np.flatnonzero(np.asarray(array.is_null())), field, "missing value (null)", MISSING)


def _strings(array: Any) -> tuple[Buffer, np.ndarray, np.ndarray]:
    """A text column as one buffer and each value's span in it (no Python object per value)."""
    import pyarrow as pa

    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    buf = Buffer(memoryview(data) if data is not None else b"")
    return buf, offsets[:-1] + PAD, offsets[1:] + PAD


def _floats(path: str, field: str, array: Any, problems: Problems) -> np.ndarray:
    import pyarrow as pa

    _nulls(array, field, problems)
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return np.asarray(array.cast(pa.float64()).fill_null(0.0), dtype=np.float64)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        buf, start, end = _strings(array)
        values, bad = parse_floats(buf, start, end)
        problems.add(bad, field, cannot_parse(buf, start, end), BAD_NUMBER)
        return values
    raise DataError(path, None, field, f"column type {kind} is not a number")


class Times:
    """One file's time column, batch by batch: the epoch unit is decided once, by the first value."""

    def __init__(self, path: str, field: str) -> None:
        self.path = path
        self.field = field
        self.text = TimestampParser()
        self.unit: str | None = None

    def parse(self, array: Any, problems: Problems) -> np.ndarray:
        import pyarrow as pa

        field = self.field
        _nulls(array, field, problems)
        kind = array.type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            target = pa.timestamp("ns", kind.tz) if pa.types.is_timestamp(kind) else pa.timestamp("ns")
            try:
                ns = array.cast(target).cast(pa.int64())
            except pa.ArrowInvalid:
                raise DataError(self.path, None, field,
                                "a time outside int64 nanoseconds (years 1678 to 2261)") from None
            return np.asarray(ns.fill_null(0), dtype=np.int64)
        if pa.types.is_integer(kind):
            return self._epoch(np.asarray(array.cast(pa.int64()).fill_null(0), dtype=np.int64), array, problems)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            buf, start, end = _strings(array)
            return self.text.parse(buf, start, end, problems, field)
        raise DataError(self.path, None, field,
                        f"column type {kind} is not a time: use a timestamp, a date, an integer epoch or text")

    def _epoch(self, values: np.ndarray, array: Any, problems: Problems) -> np.ndarray:
        """Epoch numbers in the unit the file's first one gives; one of another magnitude is a bad value."""
        valid = ~np.asarray(array.is_null()) if array.null_count else np.ones(values.size, dtype=bool)
        if self.unit is None and valid.any():
            self.unit = epoch_unit(int(values[np.flatnonzero(valid)[0]]))
        if self.unit is None:
            return values
        unit = self.unit
        other = np.flatnonzero(valid & (epoch_units(values) != UNITS.index(unit)))
        problems.add(other, self.field,
                     lambda i: f"epoch {int(values[i])}: its magnitude is not {unit}, the unit of the file's first time",
                     BAD_TIMESTAMP)
        scale = ns_per_unit(unit)
        beyond = valid & (np.abs(values.astype(np.float64)) > (2**63 - 1) // scale)
        problems.add(np.flatnonzero(beyond), self.field,
                     lambda i: f"epoch {int(values[i])} {unit} is outside int64 nanoseconds (years 1678 to 2261)",
                     BAD_TIMESTAMP)
        return np.where(beyond, 0, values) * scale
