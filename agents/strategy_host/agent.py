"""The strategy agent: hosts one user strategy and wires it to the hub.

It announces the strategy's indicators, subscribes the context's handlers
(:mod:`agents.strategy_host.context`: the strategy sees one event at a time,
so only data up to the current event) and starts the strategy. After a
restart the daemon hands it the books recovered from the journal
(:meth:`StrategyHost.restore`), so order ids continue and never repeat.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from agents.base import Agent
from agents.strategy_host.context import HostContext
from hub import keys as K
from hub.bus import Bus
from hub.messages import IndicatorRequest
from strategies.api import Indicators, Position, Strategy


def indicator_type(owner: str, names: list[str]) -> type[Indicators]:
    """The record a strategy's ``ind`` comes in: one field per declared indicator, in declaration order."""
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"{owner}: indicator name {name!r} cannot be read as ind.{name}")
    return msgspec.defstruct("Indicators", names, bases=(Indicators,), frozen=True, gc=False)


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
        self.context = HostContext(name, initial_cash, bus.publisher(K.SUBMIT_ORDER), bus.publisher(K.CANCEL_ORDER),
                                   bus.publisher(K.ACCOUNT_QUERY))
        self.strategy = strategy_cls(self.context, name, params)
        self._specs = tuple(msgspec.structs.replace(spec, name=n) for n, spec in self.strategy.indicators().items())
        self.context.serve(self.strategy, indicator_type(strategy_cls.__name__, [spec.name for spec in self._specs]))

    @property
    def order_seq(self) -> int:
        """The number of the last order id issued (``<name>-<seq>``)."""
        return self.context.seq

    def restore(
        self, cash: float, positions: Mapping[str, Position], open_orders: Mapping[str, str], order_seq: int,
        last_prices: Mapping[str, float] | None = None,
    ) -> None:
        """Take over books recovered from a journal, before the first event; order ids continue, never repeat.

        ``positions`` in the broker's first-trade order; ``open_orders``: this
        strategy's, id -> instrument; ``last_prices``: the closes orders are
        signalled at until their instruments' next bars.
        """
        context = self.context
        context.balance = cash
        context.positions = {i: p for i, p in positions.items() if p.size}
        context.restored_closes = dict(last_prices or {})
        context.open = dict(open_orders)
        context.seq = max(context.seq, order_seq)

    def attach(self) -> None:
        sub, context = self.bus.subscribe, self.context
        sub(self.name, K.MARKET_STATE, context.on_state)
        sub(self.name, K.FILL, context.on_fill)
        sub(self.name, K.ORDER_REJECTED, context.on_reject)
        sub(self.name, K.ORDER_CANCELED, context.on_cancel)
        sub(self.name, K.END_OF_DATA, context.on_end)
        sub(self.name, K.ACCOUNT_VALUE, context.on_account_value)

    def start(self) -> None:
        self.bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=self.clock(), requester=self.name, specs=self._specs))
        self.context.call(self.strategy.on_start)
