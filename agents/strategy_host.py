"""The strategy agent: hosts one user strategy and translates between it and the hub.

It announces the strategy's indicators, feeds it one MarketState at a time
(so it can only see data up to the current event), mirrors the account from
the broker's fills (each carries cash, position and average price after it),
and publishes its orders only after the hook that made them returns, so the
broker never answers while the strategy is still deciding.

The books and handlers are compiled (:mod:`agents.host_path`); its
``HostPath`` is the strategy's context. ``value()`` marks the mirror at the
last close the strategy has seen, with the broker's own formula
(:mod:`hub.marking`): in ``on_bar`` it equals the broker's mark of the same
bar to the last bit, and no account message has to reach the host every bar.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from agents.base import Agent
from agents.host_path import HostPath
from hub import keys as K
from hub.bus import Bus
from hub.messages import IndicatorRequest
from strategies.api import Position, Strategy


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
        self._path = path = HostPath(name, initial_cash, bus.publisher(K.SUBMIT_ORDER), bus.publisher(K.CANCEL_ORDER))
        self.strategy = strategy_cls(path, name, params)
        specs = self.strategy.indicators()
        self._specs = tuple(spec.__class__(name=n, kind=spec.kind, period=spec.period, source=spec.source) for n, spec in specs.items())
        # ``ind`` is immutable (a strategy may keep it); HostPath builds one per bar.
        path.bind(self.strategy, namedtuple("Indicators", [s.name for s in self._specs]))

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
        return self._path.seq

    def restore(
        self, cash: float, positions: dict[str, Position], open_orders: dict[str, str], order_seq: int,
        last_prices: Mapping[str, float] | None = None,
    ) -> None:
        """Take over books recovered from a journal before the first event; order ids continue, never repeat.

        ``positions`` in the broker's first-trade order; ``last_prices`` mark
        them until their instruments' next bars.
        """
        path = self._path
        path.balance = cash
        path.positions = {i: p for i, p in positions.items() if p.size}
        path.last_price.update(last_prices or {})
        path.open = dict(open_orders)
        path.seq = max(path.seq, order_seq)

    # ------------------------------------------------------------ wiring

    def attach(self) -> None:
        sub, path = self.bus.subscribe, self._path
        sub(self.name, K.MARKET_STATE, path.on_state)
        sub(self.name, K.FILL, path.on_fill)
        sub(self.name, K.ORDER_REJECTED, path.on_reject)
        sub(self.name, K.ORDER_CANCELED, path.on_cancel)
        sub(self.name, K.END_OF_DATA, path.on_end)

    def start(self) -> None:
        self.bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=self.clock(), requester=self.name, specs=self._specs))
        self._path.call(self.strategy.on_start)

    # ------------------------------------------------------------ StrategyContext (the strategy's is the HostPath)

    def submit(self, side: str, size: float, instrument: str | None, limit: float | None, stop: float | None) -> str:
        return self._path.submit(side, size, instrument, limit, stop)

    def cancel(self, order_id: str) -> None:
        self._path.cancel(order_id)

    def position(self, instrument: str | None = None) -> Position:
        return self._path.position(instrument)

    def open_orders(self, instrument: str | None = None) -> list[str]:
        return self._path.open_orders(instrument)

    def cash(self) -> float:
        return self._path.cash()

    def value(self) -> float:
        return self._path.value()
