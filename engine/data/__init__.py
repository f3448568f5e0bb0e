"""Historical market data: CSV and Parquet files -> checked columns -> one time-ordered stream of ``Bar``.

Public API::

    open_stream(paths, format="auto", columns=None, skip_bad=False, instrument=None, *,
                delimiter="auto", adjust="none", sort=False, ahead="auto") -> BarStream
        paths: a file, a directory (its *.csv and *.parquet, sorted), a glob, or a list of them.
            A path that is not a regular file is refused for what it is (paths.py).
        format: "auto" (Parquet by its magic bytes, else by the CSV header), "ohlcv" (generic
            CSV), "ashare" (the A-share export) or "parquet".
        columns: generic formats only, e.g. {"ts": "Date", "open": "Open"}; unmapped fields are
            autodetected case-insensitively (ts: timestamp|time|datetime|date, open, high, low,
            close, volume; adj_close: adj close|adj_close|adjclose|adjusted close).
        delimiter: the CSV separator, or "auto" (told from the header line: , tab ; |).
        adjust: "close" scales prices to the adjusted close as yfinance does (adjust.py).
        sort: sort each file by time (stable; a note in the report) instead of refusing
            rows out of order.
        skip_bad: skip bad rows instead of raising; each is listed in ``stream.report``.
        instrument: the instrument name (one file only); default: the file stem (generic) or
            the ``ticker`` (A-share).
        ahead: where parsing runs: "inline" (here), "process" (a child process, ahead of the
            consumer) or "auto" (a process for inputs of 8 MB or more; see ahead.py).
    BarStream: iterate for ``Bar`` messages in time order (ties: instrument name, then the order
        the files were given). ``.files`` resolved paths; ``.report`` a ``Report``; ``.chunks()``
        column chunks and ``.batches()`` lists of ``Bar`` for cheaper replay loops.
    load_columns(path, *, format="auto", columns=None, skip_bad=False, instrument=None,
                 delimiter="auto", adjust="none", sort=False)
        -> (BarColumns, Report): one file as numpy columns (ts int64 ns UTC; open, high, low,
        close, volume float64) -- the parse step, kept apart from streaming for caching.
    DataError(ValueError): .path, .line (1-based physical line, header = 1), .field (the file's
        column name), .reason; str() is "data/x.csv:17: field 'close': cannot parse 'abc' as a number".
    Report: .skipped and .filtered lists of SkippedRow(path, line, field, reason, value, rule);
        .rows_read per file; .notes (a file sorted, an adjusted close not applied); .counts(rows)
        per rule; .summary(). A file left with no bar after
        skipping and filtering raises DataError naming what removed its rows.
    BarColumns: the one holder of parsed data (a file's chunk, a merged chunk, a cached file).

Rules (details in each module's docstring): timestamps are ISO dates/datetimes (no offset means
UTC) or epoch numbers whose unit comes from the magnitude of the file's first value (timestamps.py);
prices and volume obey hub/market_rules.py (checks.py), timestamps strictly increase within a
file unless ``sort`` (finish.py); the A-share export is forward adjusted and its isopen=false
rows filtered (ashare_csv.py). The generic CSV is read in ~1 MB blocks and Parquet a row batch at
a time, so memory does not grow with the file (except with ``sort``); the A-share format reads its
(daily, small) file whole because the adjustment needs the last row. Files and file-level problems (missing column, no data rows) always raise.
"""

from engine.data.columns import BarColumns
from engine.data.errors import DataError, Report, SkippedRow
from engine.data.stream import BarStream, load_columns, open_stream, read_file

__all__ = [
    "BarColumns",
    "BarStream",
    "DataError",
    "Report",
    "SkippedRow",
    "load_columns",
    "open_stream",
    "read_file",
]
