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
from typing import Any

from agents.base import Agent
from agents.broker import matching
from agents.broker.account import Account, Position
from agents.broker.bar_path import BarPath, InstrumentOrders
from agents.broker.config import BrokerConfig
from agents.broker.orders import OpenOrder
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    LIMIT,
    MARKET,
    STOP,
    Bar,
    CancelOrder,
    EndOfData,
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)


class BrokerAgent(Agent):
    name = "broker"

    def __init__(self, bus: Bus, clock: Callable[[], int], config: BrokerConfig | None = None) -> None:
        super().__init__(bus, clock)
        self.config = config or BrokerConfig()
        self.account = Account(self.config.cash, self.config.commission)
        self._books: dict[str, InstrumentOrders] = {}
        self._open: dict[str, OpenOrder] = {}
        self._publish = bus.publish
        self.ignored_cancels = 0
        # The compiled bar handler (marks, and this agent's order work when a book has any).
        self._bars = BarPath(self._books, self.account, self._process, bus.publish, K.EQUITY_MARKS, K.ACCOUNT,
                             max(1, self.config.marks_every), bus.reaches)
        self.flush_marks = self._bars.flush_marks

    # ------------------------------------------------------------ wiring

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(self.name, K.BAR, self._bars.on_bar)
        sub(self.name, K.SUBMIT_ORDER, self.on_submit)
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
        order = OpenOrder(msg)
        book = self._books.get(msg.instrument)
        if book is None:
            book = self._books[msg.instrument] = InstrumentOrders(seen=False)
        if order.invalid is None:
            if msg.order_id in self._open:
                order.invalid = f"invalid order: duplicate order id {msg.order_id!r}"
            else:
                self._open[msg.order_id] = order
        book.submitted.append(order)

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
                self._reject(msg.ts, order, f"unknown instrument: no bar for {instrument!r} before end of data")

    def on_bar(self, bar: Bar) -> None:
        """The hot path (compiled, :mod:`agents.broker.bar_path`): order work on ``bar.instrument``, then the mark."""
        self._bars.on_bar(bar)

    def _emit(self, key: Any, msg: Any) -> None:
        """Publish an order event after the pending marks (see the module docstring)."""
        self.flush_marks()
        self._publish(key, msg)

    # ------------------------------------------------------------ one bar's order work

    def _process(self, book: InstrumentOrders, bar: Bar) -> None:
        book.seen = True
        ts = bar.ts
        if book.cancels:
            self._cancel(book, ts)
        if book.submitted:
            self._check_submitted(book, bar)
        if book.active:
            self._execute_active(book, bar)

    def _cancel(self, book: InstrumentOrders, ts: int) -> None:
        ids, book.cancels = book.cancels, []
        for order_id in ids:
            order = self._open.pop(order_id, None)
            if order is None:
                continue
            if order in book.active:
                book.active.remove(order)
            else:
                book.submitted.remove(order)
            self._emit(K.ORDER_CANCELED, OrderCanceled(ts, order_id, order.instrument))

    def _check_submitted(self, book: InstrumentOrders, bar: Bar) -> None:
        ts = bar.ts
        waiting = book.submitted
        ready = [o for o in waiting if o.ts < ts]
        if not ready:
            return
        book.submitted = [o for o in waiting if o.ts >= ts] if len(ready) < len(waiting) else []
        config = self.config
        account = self.account
        cash = account.cash
        clone: Position | None = None
        for order in ready:
            if order.invalid is not None:
                self._reject(ts, order, order.invalid)
                continue
            if clone is None:
                real = account.positions.get(order.instrument)
                clone = real.clone() if real is not None else Position(order.instrument)
            signed = order.signed_remaining
            if not config.allow_short and clone.size + signed < 0:
                self._reject(ts, order, f"short selling disabled: position {clone.size:g} {order.side} {order.size:g}")
                continue
            if config.check_submit:
                before = cash
                cash = account.pseudo_execute(cash, clone, signed, order.created_price)
                if not cash >= 0.0:
                    self._reject(ts, order, f"margin: cash {before:.2f} < cost {before - cash:.2f} at submit")
                    continue
            book.active.append(order)
            if self.bus.reaches(K.ORDER_ACCEPTED):  # nobody listens in a backtest: build nothing
                self._emit(K.ORDER_ACCEPTED, OrderAccepted(ts, order.order_id, order.instrument))

    def _execute_active(self, book: InstrumentOrders, bar: Bar) -> None:
        config = self.config
        slip = config.slippage
        cap = config.volume_cap
        account = self.account
        ts = bar.ts
        popen, high, low, close = bar.open, bar.high, bar.low, bar.close
        orders, keep = book.active, []
        book.active = keep
        for order in orders:
            kind = order.order_type
            is_buy = order.is_buy
            fill_ts = ts
            if kind == MARKET:
                if config.fill_on_close:
                    price = matching.market(is_buy, order.signal_price, high, low, slip)
                    fill_ts = order.ts
                else:
                    price = matching.market(is_buy, popen, high, low, slip)
            elif kind == LIMIT:
                price = matching.limit(is_buy, order.limit_price, popen, high, low, slip)
            elif kind == STOP:
                price = matching.stop(is_buy, order.stop_price, popen, high, low, slip)
            else:
                price, order.triggered = matching.stop_limit(
                    is_buy, order.triggered, order.stop_price, order.limit_price, popen, high, low, close, slip)
            if price is None:
                keep.append(order)
                continue
            size = order.remaining
            if cap is not None:
                size = min(size, bar.volume * cap)
                if not size > 0:
                    keep.append(order)
                    continue
            pos = account.positions.get(order.instrument)
            if pos is None:  # booked on its first execution: the first-trade order every mirror sees in fills
                pos = Position(order.instrument, last=close)
            signed = size if is_buy else -size
            if not config.allow_short and pos.size + signed < 0:
                self._reject(ts, order, f"short selling disabled at fill: position {pos.size:g} SELL {size:g}")
                continue
            was_open = bool(pos.size)
            ex = account.execute(pos, signed, price)
            if ex.size:
                account.positions.setdefault(order.instrument, pos)
            if was_open != bool(pos.size):
                account.refresh_holding()
            if ex.size:
                self._bars.changed = True
                order.remaining -= abs(ex.size)
                self._emit(K.FILL, Fill(
                    fill_ts, order.order_id, order.instrument, order.side, abs(ex.size), price,
                    ex.commission, order.remaining, pos.size, account.cash, pos.price,
                ))
            if ex.refused:
                self._reject(ts, order, f"margin: cash {ex.cash_before:.2f} < cost {ex.cost:.2f} at fill")
            elif order.remaining > 0:
                keep.append(order)
            else:
                self._forget(order)
        if book.active is not keep:  # orders accepted re-entrantly while publishing
            keep.extend(book.active)
            book.active = keep

    # ------------------------------------------------------------ helpers

    def _reject(self, ts: int, order: OpenOrder, reason: str) -> None:
        self._forget(order)
        self._emit(K.ORDER_REJECTED, OrderRejected(ts, order.order_id, order.instrument, order.side, order.size, reason))

    def _forget(self, order: OpenOrder) -> None:
        if self._open.get(order.order_id) is order:
            del self._open[order.order_id]
