"""Writes a run's results from the hub's events: fills.csv, orders.csv, equity.csv.

It observes only: it subscribes to order and account events and never
publishes. Rows are buffered and handed to :class:`~engine.results.output.Output`
in chunks, so memory stays flat however long the run; it formats them here or
in a writer process (``writer``). Every number is written with ``repr`` so the
files are exact and byte-identical across reruns and modes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hub import keys as K
from hub.bus import Bus
from hub.messages import AgentError

from .book import Batches, Book, MarkBuffer
from .equity_stats import EquityStats
from .output import Output
from .texts import stamp_cells
from .timefmt import finest_units
from .trades import RoundTrips

_CHUNK = 65_536
_BATCH = 4096  # fills or orders a batch
WRITER = "auto"  # the Recorder's default writer mode (see output.py)

FILL_COLUMNS = ["ts", "order_id", "instrument", "side", "size", "price", "commission", "remaining", "position", "cash"]
ORDER_COLUMNS = [
    "order_id", "submitted", "instrument", "side", "type", "size", "limit_price", "stop_price",
    "status", "filled", "avg_fill_price", "commission", "closed", "reason",
]


class EquityCurve(MarkBuffer):
    """Equity per timestamp, streamed to CSV in chunks; its figures accumulate on the way (equity_stats.py).

    Marks are held in arrays until a chunk is written (``extend`` is
    compiled: :class:`~engine.results.book.MarkBuffer`): the broker's blocks
    are small when orders are frequent (it publishes pending marks before
    every order event), so numpy per block (~8 us a block) was a fifth of a
    busy backtest. The chunk's text is the ``output``'s work (a private
    inline one if none is given); the figures are computed here.
    """

    def __init__(self, path: Path, output: Output | None = None) -> None:
        super().__init__(_CHUNK)
        self._path = path
        self._own_output = output is None
        self._output = Output("inline") if output is None else output
        self._output.create(path, binary=True, header=b"ts,cash,equity\n")
        self._checked = 0  # how many of the marks held raise_unit has already looked at
        self.unit = 0  # index into UNITS; raised as timestamps show finer resolution (never lossy)
        self.stats = EquityStats()  # the curve's figures, a chunk at a time
        self.rows = 0

    @property
    def first(self) -> float | None:
        return self.stats.first

    @property
    def last(self) -> float | None:
        return self.stats.last

    @property
    def max_drawdown(self) -> float:
        return self.stats.max_drawdown

    def flush(self, keep_last: bool = False) -> None:
        """Write the rows held; ``keep_last`` holds back the newest, which a later mark of its timestamp may replace."""
        n = self.held - (1 if keep_last else 0)
        if n <= 0:
            return
        ts, cash, equity = self.take(n)
        self._checked = max(0, self._checked - n)
        self.unit = finest_units(self.unit, ts)
        self._output.marks(self._path, self.unit, ts, cash, equity)
        self.stats.add(ts, equity)
        self.rows += len(ts)

    def raise_unit(self, ts: np.ndarray) -> int:
        """Raise the run's resolution for ``ts`` and the marks held; returns it (fills and orders share it)."""
        unit = finest_units(self.unit, ts)
        held = self.held
        if unit < 2 and held > self._checked:  # only the marks not looked at yet: the unit never falls
            unit = finest_units(unit, self.ts_array[self._checked:held])
        self._checked = held
        self.unit = unit
        return unit

    def close(self) -> None:
        """Write the rows held and finish the figures (and the file, if the output is this curve's own)."""
        try:
            self.flush()
        finally:
            if self._own_output:
                self._output.close()


class Recorder:
    """The results agent of a backtest (its per-event work: :class:`~engine.results.book.Book`)."""

    name = "recorder"

    def __init__(self, bus: Bus, out_dir: Path, writer: str | None = None) -> None:
        """``writer``: "auto", "inline" or "process" (see output.py); None for the module's ``WRITER``."""
        self.bus = bus
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.output = output = Output(writer or WRITER)
        self.trades = RoundTrips()  # fed each batch of fills before it is formatted
        try:
            self._fills = self._batches(output, out_dir / "fills.csv", (0,), FILL_COLUMNS, self._trade)
            self._orders = self._batches(output, out_dir / "orders.csv", (1, 12), ORDER_COLUMNS)
            self.equity = EquityCurve(out_dir / "equity.csv", output)
        except BaseException:
            output.close()
            raise
        self._book = book = Book(self._fills, self._orders, self.equity)
        self.errors: list[AgentError] = []
        self._on_submit, self._on_fill, self._on_reject = book.on_submit, book.on_fill, book.on_reject
        self._on_cancel, self._on_marks = book.on_cancel, book.on_marks

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(self.name, K.SUBMIT_ORDER, self._on_submit)
        sub(self.name, K.FILL, self._on_fill)
        sub(self.name, K.ORDER_REJECTED, self._on_reject)
        sub(self.name, K.ORDER_CANCELED, self._on_cancel)
        sub(self.name, K.EQUITY_MARKS, self._on_marks)
        sub(self.name, K.AGENT_ERROR, self.errors.append)

    def start(self) -> None:
        pass

    # ------------------------------------------------------------ the run's figures

    @property
    def fills(self) -> int:
        return self._book.fills

    @property
    def orders_submitted(self) -> int:
        return self._book.orders_submitted

    @property
    def orders_rejected(self) -> int:
        return self._book.orders_rejected

    @property
    def orders_canceled(self) -> int:
        return self._book.orders_canceled

    @property
    def round_trips(self) -> int:
        """Closed round trips: the trade list's length (trades.py defines a round trip)."""
        return self.trades.count

    @property
    def commission(self) -> float:
        return self._book.commission

    @property
    def reject_reasons(self) -> dict[str, int]:
        return self._book.reject_reasons

    # ------------------------------------------------------------ output

    def _trade(self, rows: list[list[Any]]) -> None:
        """A batch of fill rows (FILL_COLUMNS) into the round trips, before the rows are formatted in place."""
        fill = self.trades.fill
        for ts, _order, instrument, side, size, price, commission, _remaining, position, _cash in rows:
            if type(ts) is int:  # not the header row
                fill(ts, instrument, side, size, price, commission, position)

    def sync_fills(self) -> None:
        """Hand the fills held over now (the price tape needs every fill up to the bars it looks at)."""
        self._fills.flush()

    def _batches(self, output: Output, path: Path, stamp_columns: tuple[int, ...], header: list[str],
                 first: Any = None) -> Batches:
        """A CSV file's rows (the header is its first row); each batch's timestamps at the run's resolution then.

        ``first`` sees each batch before it is formatted.
        """

        def write(rows: list[list[Any]]) -> None:
            if first is not None:
                first(rows)
            unit = self.equity.raise_unit(stamp_cells(rows, stamp_columns))  # never lossy: these or the marks held
            output.rows(path, unit, rows, stamp_columns)

        output.create(path, binary=False)
        batches = Batches(write, _BATCH)
        batches.add(list(header))
        return batches

    def close(self) -> None:
        """Write orders still open at the end (status open) and finish the files: raises WriteError if one failed."""
        self.output.ending()
        try:
            book = self._book
            for order in book.open.values():
                book.write_order(order, "open", None, "")
            book.open.clear()
            self._fills.flush()
            self._orders.flush()
            self.equity.close()
        finally:
            self.output.close()
