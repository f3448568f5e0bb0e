"""Test support for the strategy host tests: a real Bus, a host running a scripted strategy, message makers.

Not a test module. A :class:`Scripted` strategy runs the functions a test
gives it for each hook (``on_bar=lambda s, bar, ind: s.buy(1)``) and logs
what it saw; the :class:`Rig` records every order command the host
publishes, in order, on the same log, so a test can tell whether an order
left before or after the hook that made it returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.strategy_host import StrategyHost
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AgentError,
    Bar,
    CancelOrder,
    EndOfData,
    Fill,
    MarketState,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)
from strategies.api import Strategy, sma

NAME = "strategy"


class Scripted(Strategy):
    """Runs ``self.script[hook](self, *args)`` for each hook that has one; ``log`` is shared with the rig."""

    def indicators(self):
        return {"fast": sma(2), "slow": sma(3)}

    def _run(self, hook: str, *args: Any) -> None:
        self.seen.append((hook, self.now))
        action = self.script.get(hook)
        if action is not None:
            action(self, *args)
        self.log.append(f"{hook} returned")

    def on_start(self):
        self._run("on_start")

    def on_bar(self, bar, ind):
        self._run("on_bar", bar, ind)

    def on_fill(self, fill):
        self._run("on_fill", fill)

    def on_reject(self, rejection):
        self._run("on_reject", rejection)

    def on_cancel(self, cancel):
        self._run("on_cancel", cancel)

    def on_stop(self):
        self._run("on_stop")


class Rig:
    """A bus, the host attached and started, and the order commands and agent errors it led to."""

    def __init__(self, start: bool = True, cash: float = 1000.0, strategy: type[Strategy] = Scripted,
                 **script: Callable[..., None]) -> None:
        self.bus = Bus()
        self.log: list[str] = []
        self.orders: list[SubmitOrder | CancelOrder] = []
        self.errors: list[AgentError] = []
        self.bus.subscribe("rig", K.SUBMIT_ORDER, self._order)
        self.bus.subscribe("rig", K.CANCEL_ORDER, self._order)
        self.bus.subscribe("rig", K.AGENT_ERROR, self.errors.append)
        self.host = StrategyHost(self.bus, lambda: 0, strategy, name=NAME, initial_cash=cash)
        self.strategy = self.host.strategy
        self.strategy.script, self.strategy.log, self.strategy.seen = script, self.log, []
        self.host.attach()
        if start:
            self.host.start()

    def _order(self, msg: SubmitOrder | CancelOrder) -> None:
        self.orders.append(msg)
        self.log.append(f"published {type(msg).__name__} {msg.order_id}")

    def state(self, ts: int, close: float = 10.0, instrument: str = "X", values: tuple[float, ...] = (1.0, 2.0),
              requester: str = NAME) -> None:
        bar = Bar(ts, instrument, close, close, close, close, 100.0)
        self.bus.publish(K.MARKET_STATE, MarketState(ts, bar, requester, ("fast", "slow"), values))

    def fill(self, ts: int, order_id: str, size: float = 1.0, price: float = 10.0, remaining: float = 0.0,
             position: float = 1.0, cash: float = 990.0, instrument: str = "X", avg_price: float = 10.0) -> None:
        self.bus.publish(K.FILL, Fill(ts, order_id, instrument, "BUY", size, price, 0.0, remaining, position, cash,
                                      avg_price))

    def reject(self, ts: int, order_id: str, instrument: str = "X") -> None:
        self.bus.publish(K.ORDER_REJECTED, OrderRejected(ts, order_id, instrument, "BUY", 1.0, "Margin"))

    def cancel(self, ts: int, order_id: str, instrument: str = "X") -> None:
        self.bus.publish(K.ORDER_CANCELED, OrderCanceled(ts, order_id, instrument))

    def end(self, ts: int) -> None:
        self.bus.publish(K.END_OF_DATA, EndOfData(ts))
