"""The simulated broker agent: backtrader's default broker, driven by hub messages.

On each bar of instrument X, in backtrader's order (see shared/notes/parity.md):

0. cancels requested since X's previous bar take effect (``OrderCanceled``);
1. orders submitted before this bar are checked (``check_submit``): priced at
   ``created_price`` with commission, chained through one running cash figure
   and one cloned position like ``BackBroker.check_submitted``: accepted
   (``OrderAccepted``) or rejected with a reason (``OrderRejected``);
2. active orders try to fill on this bar (see :mod:`agents.broker.matching`),
   cash is checked again at the fill price (``Fill`` / ``OrderRejected``);
3. the books are marked at the close: one mark (ts, cash, equity) per
   timestamp goes into a buffer published as ``EquityMarks`` in blocks of
   ``marks_every``; if a fill changed the books on this bar, one
   ``AccountState`` follows, listing the open positions (first-trade order).
   ``AccountState`` and ``OrderAccepted`` are built only when something
   subscribes to them (``Bus.reaches``): nothing does in a backtest.

Marks travel in blocks because a per-bar account message (a struct, a
publish, a delivery to every consumer) was a third of a backtest's cost,
for figures nobody needs bar by bar: the strategy host values its own
mirror of the books with the same formula (:mod:`hub.marking`). Pending marks
are published before any order or account event and at the end of data, so a
consumer always holds every mark older than the event it handles.

An order is only considered on a bar strictly later than its ``ts`` (the
signal bar's timestamp), so an order decided on an instrument's bar never
fills on that same bar, and an order decided on the last bar never fills.

Decisions, documented:

* A cancel takes effect at the start of the instrument's next bar (before any
  fill there), also for an order not yet accepted. A cancel for an id that is
  unknown or already finished publishes nothing (the order's own final event
  already said so) and is counted in ``ignored_cancels``.
* Invalid orders (size <= 0, missing prices, unknown type, duplicate id) are
  rejected on the instrument's next bar, like margin rejections, never inside
  the publisher's ``publish`` call. Orders for an instrument that never gets a
  bar are rejected ("unknown instrument") on ``EndOfData``.
* Open orders are kept only while open; nothing here grows with history.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.base import Agent
from agents.broker.account import Account, Position
from agents.broker.bar_path import BarPath, InstrumentOrders
from agents.broker.commission import Commission
from agents.broker.orders import OpenOrder
from agents.broker.settings import BrokerSettings
from agents.broker.slippage import Slippage
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    Bar,
    CancelOrder,
    EndOfData,
    SubmitOrder,
)


class BrokerAgent(Agent):
    name = "broker"
    MARKS_EVERY = 4096  # marks per published EquityMarks block in a backtest

    def __init__(self, bus: Bus, clock: Callable[[], int], settings: BrokerSettings | None = None,
                 marks_every: int = MARKS_EVERY) -> None:
        """``marks_every``: timestamps per published ``EquityMarks`` block (the daemon uses 1, so status
        and gauges follow every bar)."""
        super().__init__(bus, clock)
        if not (type(marks_every) is int and marks_every >= 1):
            raise ValueError(f"marks_every must be an integer >= 1, got {marks_every!r}")
        self.settings = settings = settings or BrokerSettings()
        self.account = Account(settings.cash, Commission.from_settings(settings))
        self._books: dict[str, InstrumentOrders] = {}
        self._open: dict[str, OpenOrder] = {}
        self.ignored_cancels = 0
        # The compiled bar handler: one bar's order work when the instrument has any, then the mark.
        self._bars = BarPath(self._books, self.account, self._open, settings, Slippage.from_settings(settings),
                             bus.publish, bus.reaches, K.EQUITY_MARKS, K.ACCOUNT, marks_every)
        self.flush_marks = self._bars.flush_marks

    # ------------------------------------------------------------ wiring

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(self.name, K.BAR, self._bars.on_bar)
        sub(self.name, K.SUBMIT_ORDER, self._bars.on_submit)
        sub(self.name, K.CANCEL_ORDER, self.on_cancel)
        sub(self.name, K.END_OF_DATA, self.on_end)

    def stop(self) -> None:
        self.flush_marks()

    # ------------------------------------------------------------ reads (tests, metrics)

    @property
    def cash(self) -> float:
        return self.account.cash

    def equity(self) -> float:
        return self.account.equity()

    def position(self, instrument: str) -> Position | None:
        return self.account.positions.get(instrument)

    def open_order_count(self) -> int:
        return len(self._open)

    def open_orders(self) -> list[OpenOrder]:
        """Orders not yet filled, rejected or canceled, in submission order (snapshots, restarts)."""
        return list(self._open.values())

    # ------------------------------------------------------------ handlers

    def on_submit(self, msg: SubmitOrder) -> None:
        """The order waits for its instrument's next bar (compiled: ``BarPath.on_submit``)."""
        self._bars.on_submit(msg)

    def on_cancel(self, msg: CancelOrder) -> None:
        order = self._open.get(msg.order_id)
        if order is None:
            self.ignored_cancels += 1
            return
        self._books[order.instrument].cancels.append(msg.order_id)

    def on_end(self, msg: EndOfData) -> None:
        self.flush_marks()
        for instrument, book in self._books.items():
            if book.seen:
                continue
            orders, book.submitted = book.submitted, []
            for order in orders:
                self._bars.reject(msg.ts, order, f"unknown instrument: no bar for {instrument!r} before end of data")

    def on_bar(self, bar: Bar) -> None:
        """The hot path (compiled, :mod:`agents.broker.bar_path`): order work on ``bar.instrument``, then the mark."""
        self._bars.on_bar(bar)
