# cython: annotation_typing=False
# (annotations only document: context.pxd holds the C types, so both builds accept the same arguments)
"""The strategy's context and the host's hub handlers: what a strategy can ask and do, and what keeps it current.

A strategy's ``self._ctx`` is a :class:`HostContext` (it implements
:class:`strategies.api.StrategyContext`). It owns what the strategy may ask
about between events: the event time, the latest bar per instrument, the
account mirrored from the broker's fills, its open orders. Its handlers take
the events that change those (MarketState, Fill, OrderRejected,
OrderCanceled, EndOfData) and call the strategy's hooks.

Two rules shape it. Orders wait in ``outbox`` until the hook that made them
returns, even if it raised: the broker never answers while the strategy is
still deciding. And the account is the broker's: cash and positions are
mirrored from fills, each of which carries cash, position and average price
after it, and ``value()`` asks the broker (AccountQuery), which answers
inside that publish (AccountValue) with its own mark to market, so the
formula is written once, in the broker.

Compiled when a C compiler is there (``context.pxd`` gives the types); the
same source runs as Python with identical results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.messages import (
    BUY,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    AccountQuery,
    AccountValue,
    CancelOrder,
    EndOfData,
    Fill,
    MarketState,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)
from strategies.api import Position

FLAT = Position(size=0.0, avg_price=0.0)


class HostContext:
    """One strategy's context and handlers; :meth:`serve` gives it the strategy once the strategy exists.

    ``submit``/``cancel``/``query`` are the publishers of SubmitOrder,
    CancelOrder and AccountQuery. ``positions`` is the account's, from the
    fills, flat ones included. ``open`` maps this strategy's open order
    ids to their instruments; ``seq`` is the number of the last order id
    issued (``<name>-<seq>``).
    """

    def __init__(self, name: str, cash: float, submit: Callable[[Any], None], cancel: Callable[[Any], None],
                 query: Callable[[Any], None]) -> None:
        self.name = name
        self.now = 0  # int nanoseconds of the event being handled
        self.instrument = ""  # the current bar's
        self.bars = {}  # instrument -> its latest bar
        self.restored_closes = {}  # instrument -> its close before a restart, until its next bar
        self.balance = float(cash)
        self.positions = {}
        self.open = {}
        self.seq = 0
        self.outbox = []  # (publish, message) made by the running hook
        self.answer = None  # the broker's AccountValue, while value() waits for it
        self._submit = submit
        self._cancel = cancel
        self._query = query
        self._strategy = None
        self._on_bar = None
        self._ind = None

    def serve(self, strategy: Any, ind_type: type) -> None:
        """The strategy this context serves, and the type of its ``ind`` (built as ``ind_type(*values)``)."""
        self._strategy = strategy
        self._on_bar = strategy.on_bar
        self._ind = ind_type

    # ------------------------------------------------------------ hub handlers

    def on_state(self, state: MarketState) -> None:
        if state.requester != self.name:
            return
        bar = state.bar
        self.now = state.ts
        self.instrument = instrument = bar.instrument
        self.bars[instrument] = bar
        try:
            self._on_bar(bar, self._ind(*state.values))
        finally:
            if self.outbox:
                self.flush()

    def on_fill(self, fill: Fill) -> None:
        """Every fill updates the mirrored account (it is shared); only this strategy's orders reach its hook."""
        self.balance = fill.cash
        self.positions[fill.instrument] = Position(fill.position, fill.avg_price)
        order_id = fill.order_id
        if order_id not in self.open:
            return
        if fill.remaining <= 0:
            del self.open[order_id]
        self.now = fill.ts
        self.call(self._strategy.on_fill, fill)

    def on_reject(self, rejection: OrderRejected) -> None:
        if self.open.pop(rejection.order_id, None) is None:
            return
        self.now = rejection.ts
        self.call(self._strategy.on_reject, rejection)

    def on_cancel(self, cancel: OrderCanceled) -> None:
        if self.open.pop(cancel.order_id, None) is None:
            return
        self.now = cancel.ts
        self.call(self._strategy.on_cancel, cancel)

    def on_end(self, end: EndOfData) -> None:
        self.now = end.ts
        self.call(self._strategy.on_stop)

    def on_account_value(self, answer: AccountValue) -> None:
        if answer.requester == self.name:
            self.answer = answer

    def call(self, hook: Callable[..., None], *args: Any) -> None:
        """Run a strategy hook, then publish the orders it made, even if it raised."""
        try:
            hook(*args)
        finally:
            if self.outbox:
                self.flush()

    def flush(self) -> None:
        outbox = self.outbox[:]  # orders made while these publish are flushed by the hook that made them
        del self.outbox[:]
        for publish, message in outbox:
            publish(message)

    # ------------------------------------------------------------ the strategy's context

    def submit(self, side: str, size: float, instrument: str | None, limit: float | None, stop: float | None) -> str:
        if side != BUY and side != SELL:
            raise ValueError(f"side must be BUY or SELL, got {side!r}")
        instrument = instrument or self.instrument
        if not instrument:
            raise ValueError("no instrument given and no bar seen yet")
        if limit is not None and stop is not None:
            order_type = STOP_LIMIT
        elif limit is not None:
            order_type = LIMIT
        elif stop is not None:
            order_type = STOP
        else:
            order_type = MARKET
        self.seq += 1
        order_id = f"{self.name}-{self.seq}"
        self.open[order_id] = instrument
        self.outbox.append((self._submit, SubmitOrder(
            self.now, order_id, self.name, instrument, side, float(size),
            order_type, limit, stop, self.last_close(instrument),
        )))
        return order_id

    def cancel(self, order_id: str) -> None:
        if order_id in self.open:
            self.outbox.append((self._cancel, CancelOrder(self.now, order_id)))

    def position(self, instrument: str | None = None) -> Position:
        return self.positions.get(instrument or self.instrument, FLAT)

    def open_orders(self, instrument: str | None = None) -> list[str]:
        instrument = instrument or self.instrument
        return [order_id for order_id, of in self.open.items() if of == instrument]

    def cash(self) -> float:
        return self.balance

    def value(self) -> float:
        """The account's worth now, as the broker marks it: asked on the bus, answered inside the publish."""
        self.answer = None
        self._query(AccountQuery(self.now, self.name))
        answer, self.answer = self.answer, None
        if answer is None:
            raise RuntimeError(f"{self.name}: no broker answered AccountQuery on the bus, so value is unknown "
                               "(a broker must be attached to the same bus, synchronously)")
        return answer.equity

    def last_close(self, instrument: str) -> float:
        """The latest close of ``instrument``: the price its orders are signalled at (submit-time cash check)."""
        bar = self.bars.get(instrument)
        if bar is not None:
            return bar.close
        return self.restored_closes.get(instrument, 0.0)
