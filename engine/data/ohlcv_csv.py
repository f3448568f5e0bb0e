"""The generic OHLCV CSV reader: file -> chunks of checked columns, streamed.

Columns are found by name (:mod:`engine.data.mapping`); the separator is
told from the header line unless given. The file is read in blocks of about
a megabyte, so memory does not grow with its length; with ``sort`` it is read
whole, since the rows' order is known only at the end. What happens to the
parsed columns is :mod:`engine.data.finish`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

from engine.data.columns import BarColumns
from engine.data.csvchunks import CHUNK_BYTES, Fields, file_delimiter, line_blocks, read_header, split_block
from engine.data.errors import BAD_NUMBER, DataError, Report
from engine.data.finish import FileRules
from engine.data.mapping import ADJ_CLOSE, FIELDS, adj_close_column, map_columns
from engine.data.numbers import parse_floats
from engine.data.problems import cannot_parse
from engine.data.timestamps import TimestampParser

NUMERIC = FIELDS[1:]


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
    delimiter: str = "auto",
    adjust: str = "none",
    sort: bool = False,
) -> Iterator[BarColumns]:
    """Yield the file's bars as checked column chunks (possibly empty after skipping)."""
    report = report if report is not None else Report()
    name = instrument if instrument is not None else os.path.splitext(os.path.basename(path))[0]
    delimiter = file_delimiter(path, delimiter)
    adjusted = adjust == "close"
    if sort:
        chunk_bytes = max(chunk_bytes, os.path.getsize(path) + 1)  # the whole file is one chunk
    with open(path, "rb") as f:
        header = read_header(f, path, delimiter)
        index = map_columns(path, header, columns, adjusted)
        if not adjusted and (unused := adj_close_column(header, columns)):
            report.notes.append(f"{path}: its adjusted close column {unused!r} is not applied; "
                                "--adjust close ([data] adjust = \"close\") scales the prices to it")
        names = {key: header[i] for key, i in index.items()}
        numeric = [key for key in (*NUMERIC, ADJ_CLOSE) if key in index]
        wanted = [index[key] for key in ("ts", *numeric)]
        column = {header[i]: i for i in wanted}
        rules = FileRules(path, names, skip_bad=skip_bad, report=report, sort=sort)
        stamps = TimestampParser()
        line = 2
        rows = kept = 0
        for block in line_blocks(f, chunk_bytes):
            fields = split_block(block, line, header, wanted, delimiter)
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
            for key in numeric:  # one column per call: the temporaries stay in cache
                s, e = fields.spans[index[key]]
                values[key], bad = parse_floats(fields.buf, s, e)
                problems.add(bad, names[key], cannot_parse(fields.buf, s, e), BAD_NUMBER)
            chunk = rules.finish(name, ts, values, problems, fields.lines, partial(field_text, fields, column))
            kept += len(chunk)
            yield chunk
    if rows == 0:
        raise DataError(path, 2, None, "no data rows after the header")
    if kept == 0:
        raise report.nothing_left(path, rows)
