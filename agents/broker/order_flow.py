"""The life of an order, and what happens to an instrument's orders on each of its bars.

An order arrives (:meth:`OrderFlow.on_submit`) and waits for its instrument's
next bar. On every bar of instrument X (:meth:`OrderFlow.on_bar`), in the
order backtrader's default broker acts (shared/notes/parity.md):

1. **cancels** requested since X's previous bar take effect (``OrderCanceled``);
2. **submit-time checks**: orders submitted before this bar are checked
   (``check_submit``), priced at their ``created_price`` with commission and
   chained through one running cash figure and one cloned position, like
   ``BackBroker.check_submitted``: accepted (``OrderAccepted``) or rejected
   with the reason (``OrderRejected``);
3. **fills**: each active order, in arrival order, gets a price on this bar
   or none (:mod:`agents.broker.fill_prices`); its size is capped by the bar's
   volume (``volume_cap``: the rest stays open, a partial fill); the
   short-selling rule; then :meth:`Account.execute` checks cash at the fill
   price, charges commission and books it (``Fill``, or ``OrderRejected`` for
   margin);
4. **the mark**: the books are marked at X's close (:mod:`agents.broker.marks`);
   after a fill one ``AccountState`` follows, if anything subscribes to it.

An order is only considered on a bar strictly later than its ``ts`` (the
signal bar's timestamp), so an order never fills on the bar it was decided
on, and an order decided on the last bar never fills. Every order event is
published after the pending marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.broker.account import Account, Position
from agents.broker.fill_prices import fill_price
from agents.broker.marks import Marks
from agents.broker.orders import Order
from agents.broker.settings import BrokerSettings
from agents.broker.slippage import Slippage
from hub import keys as K
from hub.messages import (
    MARKET,
    AccountState,
    Bar,
    CancelOrder,
    EndOfData,
    Fill,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)


class InstrumentOrders:
    """One instrument's open orders and its position (once it traded, so each bar marks it).

    ``submitted`` await the submit check, ``active`` may fill; both keep
    arrival order, the order backtrader checks and fills them in. ``cancels``
    take effect at the start of the next bar. ``seen``: the instrument had a
    bar (orders for one that never does are rejected at the end of data).
    """

    def __init__(self, seen: bool, position: Position | None) -> None:
        self.seen = seen
        self.position = position
        self.submitted: list[Order] = []
        self.active: list[Order] = []
        self.cancels: list[str] = []


class OrderFlow:
    """The broker's handlers for bars, orders, cancels and the end of data."""

    def __init__(self, account: Account, settings: BrokerSettings, marks: Marks,
                 publish: Callable[[Any, Any], None], reaches: Callable[[Any], bool]) -> None:
        self.account = account
        self.marks = marks
        self.publish = publish
        self.reaches = reaches
        self.slippage = Slippage.from_settings(settings)
        self.fill_on_close = settings.fill_on_close
        self.check_submit = settings.check_submit
        self.volume_cap = settings.volume_cap
        self.allow_short = settings.allow_short
        self.books: dict[str, InstrumentOrders] = {}
        self.open: dict[str, Order] = {}  # order id -> the order, while it is open
        self.ignored_cancels = 0  # cancels for an unknown or finished order: its own final event said so
        self.changed = False  # a fill changed the books on this bar
        self.halted: str | None = None  # why the broker stopped working orders for good (see ``halt``)

    # ------------------------------------------------------------ orders arrive

    def on_submit(self, msg: SubmitOrder) -> None:
        """The order waits for its instrument's next bar; an invalid one is rejected there, not inside this call."""
        order = Order(msg)
        if order.invalid is None:
            if order.order_id in self.open:
                order.invalid = f"invalid order: duplicate order id {order.order_id!r}"
            else:
                self.open[order.order_id] = order
        self.book(order.instrument, False).submitted.append(order)

    def on_cancel(self, msg: CancelOrder) -> None:
        """Takes effect at the start of the instrument's next bar, also for an order not yet accepted."""
        order = self.open.get(msg.order_id)
        if order is None:
            self.ignored_cancels += 1
            return
        self.books[order.instrument].cancels.append(msg.order_id)

    def halt(self, reason: str) -> None:
        """Work no order any more, from the next order on (also mid-bar): nothing is accepted, filled or
        canceled; bars are still marked. The daemon halts when its journal cannot record what happens."""
        if self.halted is None:
            self.halted = reason

    def on_end(self, msg: EndOfData) -> None:
        """Orders for an instrument that never had a bar are rejected now (unless halted)."""
        self.marks.flush()
        for instrument, book in self.books.items():
            if not book.seen and self.halted is None:
                orders, book.submitted = book.submitted, []
                for order in orders:
                    self._reject(msg.ts, order, f"unknown instrument: no bar for {instrument!r} before end of data")

    # ------------------------------------------------------------ a bar

    def on_bar(self, bar: Bar) -> None:
        instrument = bar.instrument
        ts = bar.ts
        book = self.books.get(instrument)
        if book is None:
            book = self.books[instrument] = InstrumentOrders(True, self.account.positions.get(instrument))
        elif (book.submitted or book.active or book.cancels) and self.halted is None:
            book.seen = True
            if book.cancels:
                self._cancels(book, ts)
            if book.submitted:
                self._submit_checks(book, ts)
            if book.active:
                self._fills(book, bar, ts)
        self._mark(book, bar, ts)

    def _cancels(self, book: InstrumentOrders, ts) -> None:
        ids, book.cancels = book.cancels, []
        for order_id in ids:
            order = self.open.pop(order_id, None)
            if order is None:
                continue
            if order in book.active:
                book.active.remove(order)
            else:
                book.submitted.remove(order)
            self._emit(K.ORDER_CANCELED, OrderCanceled(ts, order_id, order.instrument))

    def _submit_checks(self, book: InstrumentOrders, ts) -> None:
        waiting = book.submitted
        ready = [o for o in waiting if o.ts < ts]
        if not ready:
            return
        book.submitted = [o for o in waiting if not o.ts < ts] if len(ready) < len(waiting) else []
        account = self.account
        cash = account.cash
        clone = None
        for order in ready:
            if self.halted is not None:  # halted while this bar's orders were worked: the rest waits
                book.submitted.append(order)
                continue
            if order.invalid is not None:
                self._reject(ts, order, order.invalid)
                continue
            if clone is None:
                clone = account.position(order.instrument).clone()
            signed = order.signed(order.remaining)
            if not self.allow_short and clone.size + signed < 0:
                self._reject(ts, order, f"short selling disabled: position {clone.size:g} {order.side} {order.size:g}")
                continue
            if self.check_submit:
                before = cash
                cash = account.cash_after_submit(cash, clone, signed, order.created_price)
                if not cash >= 0.0:
                    self._reject(ts, order, f"margin: cash {before:.2f} < cost {before - cash:.2f} at submit")
                    continue
            book.active.append(order)
            if self.reaches(K.ORDER_ACCEPTED):  # nobody listens in a backtest: build nothing
                self._emit(K.ORDER_ACCEPTED, OrderAccepted(ts, order.order_id, order.instrument))

    def _fills(self, book: InstrumentOrders, bar: Bar, ts) -> None:
        account = self.account
        orders = book.active
        keep: list[Order] = []
        book.active = keep
        for order in orders:
            if self.halted is not None:  # halted while this bar's orders were worked: the rest waits
                keep.append(order)
                continue
            price = fill_price(order, bar, self.slippage, self.fill_on_close)
            if price is None:
                keep.append(order)
                continue
            size = order.remaining
            if self.volume_cap is not None:
                size = min(size, bar.volume * self.volume_cap)
                if not size > 0:
                    keep.append(order)
                    continue
            pos = account.position(order.instrument)
            signed = order.signed(size)
            if not self.allow_short and pos.size + signed < 0:
                self._reject(ts, order, f"short selling disabled at fill: position {pos.size:g} SELL {size:g}")
                continue
            execution = account.execute(pos, signed, price)
            if execution.size:
                book.position = pos
                self.changed = True
                order.remaining -= abs(execution.size)
                fill_ts = order.ts if self.fill_on_close and order.order_type == MARKET else ts
                self._emit(K.FILL, Fill(
                    fill_ts, order.order_id, order.instrument, order.side, abs(execution.size), price,
                    execution.commission, order.remaining, pos.size, account.cash, pos.price,
                ))
            if execution.refused:
                self._reject(ts, order, f"margin: cash {execution.cash_before:.2f} < cost {execution.cost:.2f} at fill")
            elif order.remaining > 0:
                keep.append(order)
            else:
                self._forget(order)
        if book.active is not keep:  # orders accepted re-entrantly while publishing
            keep.extend(book.active)
            book.active = keep

    def _mark(self, book: InstrumentOrders, bar: Bar, ts) -> None:
        """Mark the books at the bar's close; after a fill, an ``AccountState`` for those who listen."""
        pos = book.position
        if pos is not None:
            pos.last = bar.close
        account = self.account
        cash = account.cash
        equity = account.equity()
        self.marks.add(ts, cash, equity)
        if self.changed:
            self.changed = False
            if self.reaches(K.ACCOUNT):  # nobody listens in a backtest: build nothing
                self.marks.flush()
                self.publish(K.ACCOUNT, AccountState(ts, cash, equity, account.position_states()))

    # ------------------------------------------------------------ helpers

    def book(self, instrument, seen: bool) -> InstrumentOrders:
        book = self.books.get(instrument)
        if book is None:
            book = self.books[instrument] = InstrumentOrders(seen, self.account.positions.get(instrument))
        return book

    def _emit(self, key: Any, msg: Any) -> None:
        """Publish an order event after the pending marks."""
        self.marks.flush()
        self.publish(key, msg)

    def _reject(self, ts, order: Order, reason: str) -> None:
        self._forget(order)
        self._emit(K.ORDER_REJECTED, OrderRejected(ts, order.order_id, order.instrument, order.side, order.size, reason))

    def _forget(self, order: Order) -> None:
        if self.open.get(order.order_id) is order:
            del self.open[order.order_id]
