"""The A-share daily export (see shared/data/README.md): quoted fields, forward-adjusted prices.

Preparation, as users of this format expect:
1. rows with ``isopen`` = ``false`` are dropped (listed in ``Report.filtered``,
   not errors; their price columns are not checked); any other value than
   ``true``/``false`` is an error;
2. open/high/low/close become ``(price * accumadjfactor) / factor_last`` in
   float64, computed in exactly that order, where ``factor_last`` is the
   factor of the file's last row (so the last row keeps raw prices); with
   ``skip_bad`` it is the last row whose factor is valid. Volume is not adjusted;
3. ``ts`` is the trade date at midnight UTC; the instrument is the ``ticker``
   text (leading zeros kept) and must be the same on every row.

The adjustment needs the last row, so the whole file is read before the first
bar comes out. These are daily files (a few thousand rows), so that is cheap;
the generic format is the one that streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from engine.data.checks import check_increasing, check_values
from engine.data.columns import BarColumns
from engine.data.csvchunks import CHUNK_BYTES, Fields, file_delimiter, line_blocks, read_header, split_block
from engine.data.errors import (
    BAD_FACTOR,
    BAD_FLAG,
    BAD_NUMBER,
    NOT_TRADING,
    OTHER_TICKER,
    DataError,
    Report,
    SkippedRow,
)
from engine.data.numbers import parse_floats
from engine.data.ohlcv_csv import field_text
from engine.data.problems import Problems, cannot_parse, quoted
from engine.data.timestamps import TimestampParser

TS, TICKER, ISOPEN, FACTOR = "tradedate", "ticker", "isopen", "accumadjfactor"
PRICES = {"open": "openprice", "high": "highestprice", "low": "lowestprice", "close": "closeprice"}
VOLUME = "turnovervol"
REQUIRED = (TICKER, TS, *PRICES.values(), VOLUME, FACTOR, ISOPEN)
NAMES = {"ts": TS, **PRICES, "volume": VOLUME}


def ashare_columns(path: str, header: list[str]) -> dict[str, int]:
    """Column index of each required A-share column (names matched case-insensitively)."""
    lower = [name.lower() for name in header]
    for name in REQUIRED:
        if name not in lower:
            raise DataError(path, 1, name, f"missing column (header: {', '.join(header)})")
    return {name: lower.index(name) for name in REQUIRED}


class _File:
    """One file's running state: its header, timestamp format, last good ts and ticker."""

    def __init__(self, path: str, header: list[str]) -> None:
        self.path = path
        self.header = header
        self.index = ashare_columns(path, header)
        self.stamps = TimestampParser()
        self.previous: int | None = None
        self.ticker: str | None = None

    def name(self, column: str) -> str:
        return self.header[self.index[column]]

    def numbers(self, fields: Fields, column: str, problems: Problems) -> np.ndarray:
        s, e = fields.spans[self.index[column]]
        values, bad = parse_floats(fields.buf, s, e)
        problems.add(bad, self.name(column), cannot_parse(fields.buf, s, e), BAD_NUMBER)
        return values

    def check(self, fields: Fields, skip_bad: bool, report: Report) -> tuple[np.ndarray, ...]:
        """Parse and check one block; returns the kept open rows' columns and every kept factor."""
        n = fields.n
        problems = fields.problems
        flags = fields.texts(self.index[ISOPEN])
        is_open = np.array([t == "true" for t in flags], dtype=bool)
        open_only = Problems(n)  # findings that count only on trading days
        s, e = fields.spans[self.index[TS]]
        ts = self.stamps.parse(fields.buf, s, e, open_only, self.name(TS))
        values = {key: self.numbers(fields, col, open_only) for key, col in PRICES.items()}
        values["volume"] = self.numbers(fields, VOLUME, open_only)
        problems.absorb(open_only, is_open)
        factor = self.numbers(fields, FACTOR, problems)
        bad_factor = np.flatnonzero(~(np.isfinite(factor) & (factor > 0)))
        problems.add(
            bad_factor, self.name(FACTOR), quoted("adjustment factor {!r} must be finite and > 0", factor.tolist()), BAD_FACTOR
        )
        bad_flag = [i for i, t in enumerate(flags) if t not in ("true", "false")]
        problems.add(
            np.array(bad_flag, dtype=np.int64),
            self.name(ISOPEN),
            quoted("isopen must be 'true' or 'false', not {!r}", flags),
            BAD_FLAG,
        )
        tickers = fields.texts(self.index[TICKER])
        if self.ticker is None:
            self.ticker = tickers[0]
        other = [i for i, t in enumerate(tickers) if t != self.ticker]
        problems.add(
            np.array(other, dtype=np.int64),
            self.name(TICKER),
            quoted(
                "ticker {!r} differs from the file's first "
                + repr(self.ticker)
                + " (one instrument per file)",
                tickers,
            ),
            OTHER_TICKER,
        )
        names = {key: self.name(col) for key, col in NAMES.items()}
        check_values(values, names, problems, considered=is_open)
        self.previous = check_increasing(ts, self.previous, problems, names["ts"], considered=is_open)
        column = {self.name(col): i for col, i in self.index.items()}
        keep = problems.settle(self.path, fields.lines, skip_bad, report, partial(field_text, fields, column))
        keep = np.ones(n, dtype=bool) if keep is None else keep
        report.filtered.extend(
            SkippedRow(
                self.path, int(fields.lines[i]), self.name(ISOPEN), "isopen is false: not a trading day",
                flags[i], NOT_TRADING,
            )
            for i in np.flatnonzero(keep & ~is_open).tolist()
        )
        rows = keep & is_open
        return (
            ts[rows],
            *(values[k][rows] for k in ("open", "high", "low", "close", "volume")),
            factor[rows],
            factor[keep],
        )


def read_ashare(
    path: str,
    *,
    instrument: str | None = None,
    skip_bad: bool = False,
    report: Report | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    delimiter: str = "auto",
) -> Iterator[BarColumns]:
    """Yield the whole file as one adjusted chunk (a generator so it composes with the streaming readers)."""
    report = report if report is not None else Report()
    parts: list[tuple[np.ndarray, ...]] = []
    delimiter = file_delimiter(path, delimiter)
    with open(path, "rb") as f:
        state = _File(path, read_header(f, path, delimiter))
        line = 2
        rows = 0
        for block in line_blocks(f, chunk_bytes):
            fields = split_block(block, line, state.header, list(state.index.values()), delimiter)
            line += fields.physical_lines
            if fields.n == 0:
                continue
            rows += fields.n
            report.rows_read[path] = rows
            parts.append(state.check(fields, skip_bad, report))
    if rows == 0:
        raise DataError(path, 2, None, "no data rows after the header")
    name = instrument if instrument is not None else state.ticker
    ts, o, h, lo, c, v, f, factors = (np.concatenate([p[k] for p in parts]) for k in range(8))
    if ts.size == 0:
        raise report.nothing_left(path, rows)
    last = factors[-1]
    yield BarColumns(name, ts, (o * f) / last, (h * f) / last, (lo * f) / last, (c * f) / last, v)
