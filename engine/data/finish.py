"""What every reader does once a chunk's columns are parsed: rules, time order, adjustment, bad rows settled.

The generic CSV and Parquet readers share it (the A-share reader has its own
rules: its trading-day filter and factor). In order:

1. the market rules (:mod:`engine.data.checks`) on the raw prices, and an
   adjusted close, when asked for, must be a valid price too;
2. time order: timestamps must increase within the file, or, with ``sort``,
   the rows (the whole file is one chunk then) are sorted by time, stably,
   and a note says so; equal timestamps stay an error either way;
3. bad rows raise (the first) or, with ``skip_bad``, are reported and dropped;
4. with an adjusted close, prices are scaled to it (:mod:`engine.data.adjust`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.data.adjust import to_adjusted_close
from engine.data.checks import check_increasing, check_values
from engine.data.columns import BarColumns
from engine.data.errors import Report
from engine.data.mapping import ADJ_CLOSE
from engine.data.problems import Problems
from hub.market_rules import price_problem

ValueOf = Callable[[int, str], str]
SORT_HINT = "; if the file is not in time order, --sort ([data] sort = true) sorts it"


class FileRules:
    """One file's running state through its chunks: the last good timestamp, the options, the report."""

    def __init__(self, path: str, names: dict[str, str], *, skip_bad: bool, report: Report, sort: bool) -> None:
        self.path = path
        self.names = names  # logical field -> the file's column name
        self.skip_bad = skip_bad
        self.report = report
        self.sort = sort
        self.previous: int | None = None

    def finish(self, name: str, ts: np.ndarray, values: dict[str, np.ndarray], problems: Problems,
               lines: np.ndarray, value_of: ValueOf) -> BarColumns:
        """The chunk's good rows, in time order (``values`` may hold ``adj_close``)."""
        names = self.names
        check_values(values, names, problems)
        adj = values.get(ADJ_CLOSE)
        if adj is not None:
            _check_adj_close(adj, names[ADJ_CLOSE], problems)
        if not self.sort:
            self.previous = check_increasing(ts, self.previous, problems, names["ts"], sort_hint=SORT_HINT)
        keep = problems.settle(self.path, lines, self.skip_bad, self.report, value_of)
        rows = np.arange(ts.size) if keep is None else np.flatnonzero(keep)
        chunk = BarColumns(name, ts, *(values[k] for k in ("open", "high", "low", "close", "volume")))
        if keep is not None:
            chunk = chunk.take(rows)
        if self.sort:
            chunk, rows = self._sorted(chunk, rows, lines, value_of)
        if adj is not None:
            chunk = to_adjusted_close(chunk, adj[rows])
        return chunk

    def _sorted(self, chunk: BarColumns, rows: np.ndarray, lines: np.ndarray,
                value_of: ValueOf) -> tuple[BarColumns, np.ndarray]:
        order = np.argsort(chunk.ts, kind="stable")
        if (order != np.arange(order.size)).any():
            how = "newest first" if (np.diff(chunk.ts) <= 0).all() else "not in time order"
            self.report.notes.append(f"{self.path}: rows were {how}; sorted by time (stable)")
        chunk, rows = chunk.take(order), rows[order]
        repeated = Problems(len(chunk))
        check_increasing(chunk.ts, None, repeated, self.names["ts"])  # after sorting, only equal times remain
        keep = repeated.settle(self.path, lines[rows], self.skip_bad, self.report,
                               lambda row, field: value_of(int(rows[row]), field))
        if keep is not None:
            chunk, rows = chunk.take(keep), rows[keep]
        return chunk, rows


def _check_adj_close(adj: np.ndarray, field: str, problems: Problems) -> None:
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(adj) | (adj <= 0)
    if bad.any():
        found = {i: price_problem(ADJ_CLOSE, float(adj[i])) for i in np.flatnonzero(bad).tolist()}
        for rule in dict.fromkeys(p.rule for p in found.values() if p is not None):
            rows = np.array([i for i, p in found.items() if p is not None and p.rule == rule])
            problems.add(rows, field, lambda i, found=found: found[i].detail, rule)
