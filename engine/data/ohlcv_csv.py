"""The generic OHLCV CSV reader: file -> chunks of checked columns, streamed.

Columns are found by name: an explicit mapping (``{"ts": "Date", "open":
"Open", ...}``, partial is fine) or, for the rest, a case-insensitive match of
the usual names. Extra columns are ignored. The file is read in blocks of
about a megabyte, so memory does not grow with its length.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

from engine.data.checks import check_increasing, check_values
from engine.data.columns import BarColumns
from engine.data.csvchunks import CHUNK_BYTES, Fields, line_blocks, read_header, split_block
from engine.data.errors import BAD_NUMBER, DataError, Report
from engine.data.numbers import parse_floats
from engine.data.problems import cannot_parse
from engine.data.timestamps import TimestampParser

FIELDS = ("ts", "open", "high", "low", "close", "volume")
NUMERIC = FIELDS[1:]
AUTODETECT = {
    "ts": ("timestamp", "time", "datetime", "date"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume",),
}


def map_columns(path: str, header: list[str], columns: dict[str, str] | None) -> dict[str, int]:
    """Logical field -> column index; DataError (line 1) for a missing or ambiguous column."""
    columns = dict(columns or {})
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown column keys {sorted(unknown)}; use {list(FIELDS)}")
    found: dict[str, int] = {}
    for key in FIELDS:
        if key in columns:
            hits = [i for i, name in enumerate(header) if name == columns[key]]
            if not hits:
                raise DataError(path, 1, columns[key], f"missing column (header: {', '.join(header)})")
        else:
            wanted = AUTODETECT[key]
            hits = [i for i, name in enumerate(header) if name.lower() in wanted]
            if not hits:
                raise DataError(
                    path,
                    1,
                    key,
                    f"missing column: none of {'|'.join(wanted)} in the header "
                    f"({', '.join(header)}); map it with columns={{{key!r}: ...}}",
                )
        if len(hits) > 1:
            names = ", ".join(repr(header[i]) for i in hits)
            raise DataError(
                path,
                1,
                header[hits[0]],
                f"ambiguous: columns {names} could all be {key!r}; map one with columns={{{key!r}: ...}}",
            )
        found[key] = hits[0]
    return found


def field_text(fields: Fields, column: dict[str, int], row: int, name: str) -> str:
    """The text of column ``name`` (as the file names it) in ``row``; "" for a column not read."""
    return fields.text(column[name], row) if name in column else ""


def read_ohlcv(
    path: str,
    *,
    columns: dict[str, str] | None = None,
    instrument: str | None = None,
    skip_bad: bool = False,
    report: Report | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[BarColumns]:
    """Yield the file's bars as checked column chunks (possibly empty after skipping)."""
    report = report if report is not None else Report()
    name = instrument if instrument is not None else os.path.splitext(os.path.basename(path))[0]
    with open(path, "rb") as f:
        header = read_header(f, path)
        index = map_columns(path, header, columns)
        names = {key: header[i] for key, i in index.items()}
        wanted = [index[key] for key in FIELDS]
        column = {header[i]: i for i in wanted}
        stamps = TimestampParser()
        previous: int | None = None
        line = 2
        rows = kept = 0
        for block in line_blocks(f, chunk_bytes):
            fields = split_block(block, line, header, wanted)
            line += fields.physical_lines
            n = fields.n
            if n == 0:
                continue
            rows += n
            report.rows_read[path] = rows
            problems = fields.problems
            start, end = fields.spans[index["ts"]]
            ts = stamps.parse(fields.buf, start, end, problems, names["ts"])
            values = {}
            for key in NUMERIC:  # one column per call: the temporaries stay in cache
                s, e = fields.spans[index[key]]
                values[key], bad = parse_floats(fields.buf, s, e)
                problems.add(bad, names[key], cannot_parse(fields.buf, s, e), BAD_NUMBER)
            check_values(values, names, problems)
            previous = check_increasing(ts, previous, problems, names["ts"])
            keep = problems.settle(path, fields.lines, skip_bad, report, partial(field_text, fields, column))
            chunk = BarColumns(
                name, ts, values["open"], values["high"], values["low"], values["close"], values["volume"]
            )
            chunk = chunk if keep is None else chunk.take(keep)
            kept += len(chunk)
            yield chunk
    if rows == 0:
        raise DataError(path, 2, None, "no data rows after the header")
    if kept == 0:
        raise report.nothing_left(path, rows)
