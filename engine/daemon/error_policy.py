"""What the daemon does about a strategy that keeps raising: after ``max_errors`` it is halted.

Each exception is already caught, logged, counted and published as an
``AgentError`` by the hub; this agent counts those of one strategy. At the
limit it halts the strategy at the :class:`~engine.daemon.gate.OrderGate`
(no more market data to it, no new order from it reaches the broker) and
cancels its open orders with ``CancelOrder`` messages -- journaled like any
cancel, acted on by the broker at each instrument's next bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.daemon.gate import OrderGate
from hub import keys as K
from hub.bus import Bus
from hub.messages import AgentError, CancelOrder


class StrategyErrorPolicy:
    name = "error_policy"

    def __init__(self, bus: Bus, clock: Callable[[], int], gate: OrderGate, strategy: str, max_errors: int,
                 open_orders: Callable[[], list[Any]]) -> None:
        """``open_orders()``: the broker's open orders (each with ``order_id`` and ``strategy``); 0 = never halt."""
        self.bus = bus
        self.clock = clock
        self.gate = gate
        self.strategy = strategy
        self.max_errors = max_errors
        self.open_orders = open_orders
        self.errors = 0

    def attach(self) -> None:
        self.bus.subscribe(self.name, K.AGENT_ERROR, self.on_error)

    def on_error(self, error: AgentError) -> None:
        if error.agent != self.strategy:
            return
        self.errors += 1
        if self.max_errors and self.errors >= self.max_errors:
            reason = f"{self.errors} errors (limit {self.max_errors}), the last {error.error_type}: {error.error}"
            if self.gate.halt_strategy(self.strategy, reason):
                cancel_all(self.bus, self.clock, self.open_orders(), self.strategy)


def cancel_all(bus: Bus, clock: Callable[[], int], orders: list[Any], strategy: str | None = None) -> list[str]:
    """Publish a ``CancelOrder`` for each open order (of ``strategy``, or all); returns their ids."""
    ids = [o.order_id for o in orders if strategy is None or o.strategy == strategy]
    publish = bus.publisher(K.CANCEL_ORDER)
    for order_id in ids:
        publish(CancelOrder(ts=clock(), order_id=order_id))
    return ids
