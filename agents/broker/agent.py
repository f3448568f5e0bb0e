"""The simulated broker agent: backtrader's default broker, driven by hub messages.

Where each rule lives (all Python, read top-down):

* :mod:`agents.broker.order_flow`: the life of an order and the steps of
  each bar (cancels, submit-time checks, fills, the mark);
* :mod:`agents.broker.orders`: an open order and why one is invalid;
* :mod:`agents.broker.fill_prices`, :mod:`agents.broker.slippage`: the price
  an order fills at on a bar;
* :mod:`agents.broker.account`, :mod:`agents.broker.commission`: cash checks,
  commission, positions, P&L and the mark-to-market formula;
* :mod:`agents.broker.marks`: marks published in blocks;
* :mod:`agents.broker.settings`: the ``[broker]`` settings.

This module only wires them to the bus and answers questions about the books.

Decisions, documented:

* Marks travel in :class:`EquityMarks` blocks (``marks_every`` per block),
  published before any order or account event and at the end of data, so a
  consumer always holds every mark older than the event it handles.
* The mark-to-market formula lives here alone: a strategy's ``value`` asks
  (``AccountQuery``) and the broker answers at once (``AccountValue``), with
  cash and equity marked at the last prices it has seen.
* ``AccountState`` (after a bar with a fill) lists every instrument ever
  traded, flat ones too, in first-trade order. It and ``OrderAccepted`` are
  built only when something subscribes to them (``Bus.reaches``): nothing
  does in a backtest.
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

from collections.abc import Callable, Iterable

from agents.base import Agent
from agents.broker.account import Account, Position
from agents.broker.commission import Commission
from agents.broker.marks import Marks
from agents.broker.order_flow import OrderFlow
from agents.broker.orders import Order
from agents.broker.settings import BrokerSettings
from hub import keys as K
from hub.bus import Bus
from hub.messages import AccountQuery, AccountValue, PositionState, SubmitOrder


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
        self.marks = Marks(bus.publish, K.EQUITY_MARKS, marks_every)
        self.flow = OrderFlow(self.account, settings, self.marks, bus.publish, bus.reaches)

    # ------------------------------------------------------------ wiring

    def attach(self) -> None:
        sub = self.bus.subscribe
        flow = self.flow
        sub(self.name, K.BAR, flow.on_bar)
        sub(self.name, K.SUBMIT_ORDER, flow.on_submit)
        sub(self.name, K.CANCEL_ORDER, flow.on_cancel)
        sub(self.name, K.ACCOUNT_QUERY, self.on_account_query)
        sub(self.name, K.END_OF_DATA, flow.on_end)

    def stop(self) -> None:
        self.marks.flush()

    def on_account_query(self, msg: AccountQuery) -> None:
        """What the account is worth now: cash and equity marked at the last prices seen (no mark is published)."""
        account = self.account
        self.bus.publish(K.ACCOUNT_VALUE, AccountValue(msg.ts, msg.requester, account.cash, account.equity()))

    def halt(self, reason: str) -> None:
        """Stop working orders for good, from the next order on (the daemon's journal failed)."""
        self.flow.halt(reason)

    # ------------------------------------------------------------ a restart

    def restore(self, cash: float, positions: Iterable[PositionState],
                open_orders: Iterable[tuple[SubmitOrder, float]]) -> None:
        """Start from recovered books: cash, positions, and open orders with what remained of each.

        The orders wait for their instrument's next bar like new ones (they are
        not published: the journal already holds them).
        """
        self.account.cash = float(cash)
        self.account.set_positions([Position.from_state(p) for p in positions])
        for instrument, book in self.flow.books.items():
            book.position = self.account.positions.get(instrument)
        for order, remaining in open_orders:
            self.flow.on_submit(order)
            live = self.flow.open.get(order.order_id)
            if live is not None:
                live.remaining = float(remaining)

    # ------------------------------------------------------------ reads (tests, metrics, snapshots)

    @property
    def cash(self) -> float:
        return self.account.cash

    @property
    def ignored_cancels(self) -> int:
        return self.flow.ignored_cancels

    def flush_marks(self) -> None:
        self.marks.flush()

    def equity(self) -> float:
        return self.account.equity()

    def position(self, instrument: str) -> Position | None:
        return self.account.positions.get(instrument)

    def position_states(self) -> tuple[PositionState, ...]:
        """Every instrument ever traded, flat ones too, in first-trade order."""
        return self.account.position_states()

    def open_order_count(self) -> int:
        return len(self.flow.open)

    def open_orders(self) -> list[Order]:
        """Orders not yet filled, rejected or canceled, in submission order (snapshots, restarts)."""
        return list(self.flow.open.values())
