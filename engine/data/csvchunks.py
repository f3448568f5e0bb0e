"""Split CSV bytes into fields without creating a Python object per field.

The file is read in blocks of whole lines (a bounded amount of memory however
long the file). For a block without quotes, or with plain ``"..."`` quoting as
in the A-share export, the field boundaries come from two vectorised searches
(commas and newlines): a million rows split in tens of milliseconds. Anything
else (quoted commas, escaped quotes, rows with the wrong number of fields) goes
through the ``csv`` module one line at a time so the error can name the exact
line. Records spanning several lines are not supported (a market-data CSV has
no reason to contain a line break inside a field).

The separator is a comma unless the caller gives another, or "auto" finds
it in the header line (:func:`sniff_delimiter`: the one of comma, tab,
semicolon and pipe that splits it into the most columns).

Line numbers are physical (the header is line 1); blank lines are ignored but
counted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from engine.data.buffers import PAD, Buffer
from engine.data.errors import MALFORMED, DataError
from engine.data.problems import Problems

CHUNK_BYTES = 1 << 20  # ~18k rows of minute bars: big enough to amortise numpy calls, small enough for cache
DELIMITERS = (",", "\t", ";", "|")  # what "auto" chooses from, in this order of preference on a tie
_NL, _CR, _QUOTE = 10, 13, 34


def read_header(f: BinaryIO, path: str, delimiter: str = ",") -> list[str]:
    """Column names of the first line (BOM and surrounding spaces removed), split at ``delimiter``."""
    text = header_text(f, path)
    try:
        names = next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise DataError(path, 1, None, f"cannot read the header: {exc}") from None
    return [name.strip() for name in names]


def header_text(f: BinaryIO, path: str) -> str:
    raw = f.readline()
    if not raw.strip():
        raise DataError(path, 1, None, "empty file: no header line")
    try:
        return raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DataError(path, 1, None, f"header is not UTF-8 text ({exc.reason})") from None


def sniff_delimiter(f: BinaryIO, path: str) -> str:
    """The separator that splits the header line into the most columns: comma, tab, semicolon or pipe.

    A header that none of them splits is read as one column (comma), and the
    column mapping then says which column is missing.
    """
    text = header_text(f, path)
    best, most = ",", 1
    for candidate in DELIMITERS:
        try:
            count = len(next(csv.reader([text], delimiter=candidate, strict=True)))
        except csv.Error:
            continue
        if count > most:
            best, most = candidate, count
    return best


def file_delimiter(path: str, delimiter: str) -> str:
    """``delimiter``, or the one the file's header shows when it is "auto"."""
    if delimiter != "auto":
        return delimiter
    with open(path, "rb") as f:
        return sniff_delimiter(f, path)


def line_blocks(f: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Blocks of whole lines, each ending with a newline (one is added at EOF if missing)."""
    rest = b""
    while True:
        block = f.read(chunk_bytes)
        if not block:
            if rest:
                yield rest + b"\n"
            return
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        yield data[:cut]
        rest = data[cut:]


class Fields:
    """The wanted columns of one block: ``spans[col] = (start, end)`` offsets into ``buf``.

    ``lines[i]`` is the physical line number of row ``i``; ``problems`` already
    holds rows whose shape is wrong (their spans are empty).
    """

    __slots__ = ("buf", "n", "lines", "spans", "problems", "physical_lines")

    def __init__(
        self,
        buf: Buffer,
        lines: np.ndarray,
        spans: dict[int, tuple[np.ndarray, np.ndarray]],
        problems: Problems,
        physical_lines: int,
    ):
        self.buf = buf
        self.physical_lines = physical_lines
        self.n = int(lines.size)
        self.lines = lines
        self.spans = spans
        self.problems = problems

    def text(self, col: int, row: int) -> str:
        """One field's text (for reports)."""
        start, end = self.spans[col]
        return self.buf.text(int(start[row]), int(end[row]))

    def texts(self, col: int) -> list[str]:
        """A column as Python strings (for the few text columns, e.g. a ticker)."""
        start, end = self.spans[col]
        data = self.buf.data
        return [
            data[s:e].tobytes().decode("utf-8", "replace")
            for s, e in zip(start.tolist(), end.tolist(), strict=True)
        ]


def split_block(block: bytes, first_line: int, names: list[str], wanted: list[int], delimiter: str = ",") -> Fields:
    """Fields of a block of whole lines whose first line is ``first_line``, separated by ``delimiter``."""
    fields = _split_fast(block, first_line, len(names), wanted, ord(delimiter))
    if fields is None:
        fields = _split_with_csv(block, first_line, names, wanted, delimiter)
    return fields


def _split_fast(block: bytes, first_line: int, ncols: int, wanted: list[int], separator: int) -> Fields | None:
    buf = Buffer(block)
    data = buf.data
    body = data[PAD : PAD + len(block)]
    nl = np.flatnonzero(body == _NL) + PAD
    line_start = np.empty_like(nl)
    line_start[0] = PAD
    line_start[1:] = nl[:-1] + 1
    line_end = nl - (data[nl - 1] == _CR)
    blank = line_end <= line_start
    lines = first_line + np.arange(nl.size, dtype=np.int64)
    if blank.any():
        keep = ~blank
        lines, line_start, line_end = lines[keep], line_start[keep], line_end[keep]
    n = lines.size
    commas = np.flatnonzero(body == separator) + PAD
    if commas.size != n * (ncols - 1):
        return None
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Fields(buf, lines, {j: (empty, empty) for j in wanted}, Problems(0), nl.size)
    if ncols > 1:
        # with the right total, every row has ncols - 1 commas iff each row's group lies inside its line
        commas = commas.reshape(n, ncols - 1)
        if not ((commas[:, 0] >= line_start).all() and (commas[:, -1] < line_end).all()):
            return None

    def span(j: int) -> tuple[np.ndarray, np.ndarray]:
        start = line_start if j == 0 else commas[:, j - 1] + 1
        end = line_end if j == ncols - 1 else commas[:, j]
        return start, end

    if b'"' not in block:
        return Fields(buf, lines, {j: span(j) for j in wanted}, Problems(n), nl.size)
    quotes = block.count(b'"')
    # plain "..." quoting: every quote must be the first or last character of a field
    spans = {}
    stripped = 0
    for j in range(ncols):
        start, end = span(j)
        quoted = (end - start >= 2) & (data[start] == _QUOTE) & (data[end - 1] == _QUOTE)
        stripped += 2 * int(np.count_nonzero(quoted))
        if j in wanted:
            spans[j] = (start + quoted, end - quoted)
    if stripped != quotes:
        return None
    return Fields(buf, lines, spans, Problems(n), nl.size)


def _split_with_csv(block: bytes, first_line: int, names: list[str], wanted: list[int], delimiter: str) -> Fields:
    """The careful path: one ``csv`` parse per line, exact diagnostics for malformed rows."""
    ncols = len(names)
    rows: list[list[str] | None] = []
    lines: list[int] = []
    shape_errors: list[tuple[int, str | None, str]] = []
    physical = block.split(b"\n")[:-1]
    for offset, raw in enumerate(physical):
        raw = raw.rstrip(b"\r")
        if not raw:
            continue
        row_index = len(rows)
        lines.append(first_line + offset)
        try:
            text = raw.decode("utf-8")
            values = next(csv.reader([text], delimiter=delimiter, strict=True))
        except UnicodeDecodeError as exc:
            shape_errors.append((row_index, None, f"not UTF-8 text ({exc.reason})"))
            rows.append(None)
            continue
        except csv.Error as exc:
            reason = (
                "unterminated quote (a record cannot span lines)" if "end of data" in str(exc) else str(exc)
            )
            shape_errors.append((row_index, None, f"malformed CSV: {reason}"))
            rows.append(None)
            continue
        if len(values) != ncols:
            missing = names[len(values)] if len(values) < ncols else None
            shape_errors.append((row_index, missing, f"row has {len(values)} fields, the header has {ncols}"))
            rows.append(None)
            continue
        rows.append(values)
    n = len(rows)
    problems = Problems(n)
    for row_index, field, reason in shape_errors:
        problems.add(np.array([row_index]), field, reason, MALFORMED)
    # re-serialise the wanted fields back to back so the vectorised parsers can read them
    pieces: list[bytes] = []
    lengths: list[int] = []
    for j in wanted:
        for values in rows:
            piece = b"" if values is None else values[j].encode("utf-8")
            pieces.append(piece)
            lengths.append(len(piece))
    buf = Buffer(b"".join(pieces))
    ends = PAD + np.cumsum(np.array(lengths, dtype=np.int64))
    starts = ends - np.array(lengths, dtype=np.int64)
    spans = {j: (starts[k * n : (k + 1) * n], ends[k * n : (k + 1) * n]) for k, j in enumerate(wanted)}
    return Fields(buf, np.array(lines, dtype=np.int64), spans, problems, len(physical))
