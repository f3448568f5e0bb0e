"""The strategy agent: hosts one user strategy and translates between it and the hub.

It announces the strategy's indicators, feeds it one MarketState at a time
(so it can only see data up to the current event), mirrors the account from
the broker's fills (each carries cash, position and average price after it),
and publishes its orders only after ``on_bar`` returns, so the broker never
answers while the strategy is still deciding.

``value()`` marks that mirror at the last close the strategy has seen, with
the broker's own formula (:mod:`hub.marking`): in ``on_bar`` it equals the
broker's mark of the same bar to the last bit, and no account message has to
reach the host every bar.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from agents.base import Agent
from agents.host_path import HostPath
from hub import keys as K
from hub import marking
from hub.bus import Bus
from hub.messages import (
    BUY,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    CancelOrder,
    EndOfData,
    Fill,
    IndicatorRequest,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)
from strategies.api import Position, Strategy

_FLAT = Position(size=0.0, avg_price=0.0)


class StrategyHost(Agent):
    def __init__(
        self,
        bus: Bus,
        clock: Callable[[], int],
        strategy_cls: type[Strategy],
        name: str = "strategy",
        params: Mapping[str, Any] | None = None,
        initial_cash: float = 0.0,
    ) -> None:
        super().__init__(bus, clock)
        self.name = name
        self._cash = initial_cash
        self._positions: dict[str, Position] = {}  # the account's, in first-trade order; flat ones stay (order)
        self._open: dict[str, str] = {}  # order id -> instrument
        self._seq = 0
        self.strategy = strategy_cls(self, name, params)
        specs = self.strategy.indicators()
        self._specs = tuple(spec.__class__(name=n, kind=spec.kind, period=spec.period, source=spec.source) for n, spec in specs.items())
        # ``ind`` is immutable (a strategy may keep it); HostPath builds one per bar.
        self._ind_type = namedtuple("Indicators", [s.name for s in self._specs])  # type: ignore[misc]
        # The compiled MarketState handler; it owns the event time, the current instrument and last closes.
        self._path = path = HostPath(name, self.strategy.on_bar, self._ind_type, self._flush)
        self._outbox = path.outbox  # the same list, for good: flushing copies and clears it
        self._last_price = path.last_price

    @property
    def now(self) -> int:
        """Timestamp (ns) of the event being handled."""
        return self._path.now

    @now.setter
    def now(self, ts: int) -> None:
        self._path.now = ts

    # ------------------------------------------------------------ restarts

    @property
    def order_seq(self) -> int:
        """The number of the last order id issued (``<name>-<seq>``)."""
        return self._seq

    def restore(
        self, cash: float, positions: dict[str, Position], open_orders: dict[str, str], order_seq: int,
        last_prices: Mapping[str, float] | None = None,
    ) -> None:
        """Take over books recovered from a journal before the first event; order ids continue, never repeat.

        ``positions`` in the broker's first-trade order; ``last_prices`` mark
        them until their instruments' next bars.
        """
        self._cash = cash
        self._positions = {i: p for i, p in positions.items() if p.size}
        self._last_price.update(last_prices or {})
        self._open = dict(open_orders)
        self._seq = max(self._seq, order_seq)

    # ------------------------------------------------------------ wiring

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(self.name, K.MARKET_STATE, self._path.on_state)
        sub(self.name, K.FILL, self._on_fill)
        sub(self.name, K.ORDER_REJECTED, self._on_reject)
        sub(self.name, K.ORDER_CANCELED, self._on_cancel)
        sub(self.name, K.END_OF_DATA, self._on_end)

    def start(self) -> None:
        self.bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=self.clock(), requester=self.name, specs=self._specs))
        self._call(self.strategy.on_start)

    # ------------------------------------------------------------ handlers

    def _on_fill(self, fill: Fill) -> None:
        """Every fill updates the mirrored books (the account is shared); only our own orders' reach the strategy."""
        self._cash = fill.cash
        self._positions[fill.instrument] = Position(fill.position, fill.avg_price)
        if fill.order_id not in self._open:
            return
        if fill.remaining <= 0:
            del self._open[fill.order_id]
        self.now = fill.ts
        self._call(self.strategy.on_fill, fill)

    def _on_reject(self, msg: OrderRejected) -> None:
        if self._open.pop(msg.order_id, None) is None:
            return
        self.now = msg.ts
        self._call(self.strategy.on_reject, msg)

    def _on_cancel(self, msg: OrderCanceled) -> None:
        if self._open.pop(msg.order_id, None) is None:
            return
        self.now = msg.ts
        self._call(self.strategy.on_cancel, msg)

    def _on_end(self, msg: EndOfData) -> None:
        self.now = msg.ts
        self._call(self.strategy.on_stop)

    def _call(self, hook: Callable[..., None], *args: Any) -> None:
        """Run a strategy hook, then publish the orders it made, even if it raised."""
        try:
            hook(*args)
        finally:
            if self._outbox:
                self._flush()

    def _flush(self) -> None:
        outbox = self._outbox[:]  # orders made while these publish are flushed by the hook that made them
        self._outbox.clear()
        publish = self.bus.publish
        for key, msg in outbox:
            publish(key, msg)

    # ------------------------------------------------------------ StrategyContext

    def submit(self, side: str, size: float, instrument: str | None, limit: float | None, stop: float | None) -> str:
        if side not in (BUY, SELL):
            raise ValueError(f"side must be BUY or SELL, got {side!r}")
        instrument = instrument or self._path.instrument
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
        self._seq += 1
        order_id = f"{self.name}-{self._seq}"
        self._open[order_id] = instrument
        self._outbox.append((K.SUBMIT_ORDER, SubmitOrder(  # positional: ts, order_id, strategy, instrument, side,
            self._path.now, order_id, self.name, instrument, side, float(size),  # size, order_type, limit_price,
            order_type, limit, stop, self._last_price.get(instrument, 0.0),  # stop_price, signal_price
        )))
        return order_id

    def cancel(self, order_id: str) -> None:
        if order_id in self._open:
            self._outbox.append((K.CANCEL_ORDER, CancelOrder(ts=self.now, order_id=order_id)))

    def position(self, instrument: str | None = None) -> Position:
        return self._positions.get(instrument or self._path.instrument, _FLAT)

    def open_orders(self, instrument: str | None = None) -> list[str]:
        instrument = instrument or self._path.instrument
        if not self._open:
            return []
        return [oid for oid, inst in self._open.items() if inst == instrument]

    def cash(self) -> float:
        return self._cash

    def value(self) -> float:
        last = self._last_price
        return marking.equity(self._cash, [
            (p.size, p.avg_price, last.get(i, p.avg_price)) for i, p in self._positions.items() if p.size
        ])
