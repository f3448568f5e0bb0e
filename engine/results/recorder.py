"""Writes a run's results from the hub's events: fills.csv, orders.csv, equity.csv.

It observes only: it subscribes to order and account events and never
publishes. Rows are buffered and handed to :class:`~engine.results.output.Output`
in chunks, so memory stays flat however long the run; it formats them here or
in a writer process (``writer``). Every number is written with ``repr`` so the
files are exact and byte-identical across reruns and modes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hub import keys as K
from hub.bus import Bus
from hub.messages import AgentError

from .book import Batches, Book, MarkBuffer
from .output import Output
from .texts import stamp_cells
from .timefmt import finest_units

_CHUNK = 65_536
_BATCH = 4096  # fills or orders a batch
_DAY = 86_400_000_000_000
WRITER = "auto"  # the Recorder's default writer mode (see output.py)

FILL_COLUMNS = ["ts", "order_id", "instrument", "side", "size", "price", "commission", "remaining", "position", "cash"]
ORDER_COLUMNS = [
    "order_id", "submitted", "instrument", "side", "type", "size", "limit_price", "stop_price",
    "status", "filled", "avg_fill_price", "commission", "closed", "reason",
]


class EquityCurve(MarkBuffer):
    """Equity per timestamp, streamed to CSV in chunks; tracks drawdown and daily closes on the way.

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
        self.peak = -math.inf
        self.max_drawdown = 0.0
        self.daily: list[float] = []  # last equity of each UTC day
        self._day: int | None = None
        self._pending_day_close = 0.0
        self.first: float | None = None
        self.last: float | None = None
        self.rows = 0

    def flush(self, keep_last: bool = False) -> None:
        """Write the rows held; ``keep_last`` holds back the newest, which a later mark of its timestamp may replace."""
        n = self.held - (1 if keep_last else 0)
        if n <= 0:
            return
        ts, cash, equity = self.take(n)
        self._checked = max(0, self._checked - n)
        self.unit = finest_units(self.unit, ts)
        self._output.marks(self._path, self.unit, ts, cash, equity)
        if self.first is None:
            self.first = float(equity[0])
        self.last = float(equity[-1])
        peaks = np.maximum.accumulate(np.concatenate(([self.peak], equity)))[1:]
        self.peak = float(peaks[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdown = np.where(peaks > 0, (peaks - equity) / peaks, 0.0)
        self.max_drawdown = max(self.max_drawdown, float(drawdown.max()))
        days = ts // _DAY
        last_of_day = np.flatnonzero(np.diff(days)) if len(days) > 1 else np.array([], dtype=np.int64)
        if self._day is not None and days[0] != self._day:
            self.daily.append(self._pending_day_close)
        self.daily.extend(equity[last_of_day].tolist())
        self._day = int(days[-1])
        self._pending_day_close = float(equity[-1])
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
            if self._day is not None:
                self.daily.append(self._pending_day_close)
                self._day = None
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
        try:
            self._fills = self._batches(output, out_dir / "fills.csv", (0,), FILL_COLUMNS)
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
        return self._book.round_trips

    @property
    def commission(self) -> float:
        return self._book.commission

    @property
    def reject_reasons(self) -> dict[str, int]:
        return self._book.reject_reasons

    # ------------------------------------------------------------ output

    def _batches(self, output: Output, path: Path, stamp_columns: tuple[int, ...], header: list[str]) -> Batches:
        """A CSV file's rows (the header is its first row); each batch's timestamps at the run's resolution then."""

        def write(rows: list[list[Any]]) -> None:
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
