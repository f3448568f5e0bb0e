"""The daemon's say over order flow: a halted daemon or a halted strategy gets no order to the broker.

The broker and the strategy host are the backtest's own agents; the daemon
does not change them. It hands each one a :class:`GatedBus` -- the main bus,
through which their subscriptions pass -- so it can put a gate in front of
one handler without knowing the agent's insides:

* the broker's ``cmd.order.submit`` handler: an order from a halted strategy,
  or any order once the daemon halted (the journal failed), never reaches it;
  the strategy hears an ``OrderRejected`` with the reason instead.
* the strategy host's ``model.state`` handler: a halted strategy is no longer
  fed market data, so it stops deciding.

Halting is one-way for the life of the process; the reason is kept for the
status and the exit code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import logwood

from hub import keys as K
from hub.bus import Bus
from hub.messages import OrderRejected, SubmitOrder


class OrderGate:
    name = "order_gate"

    def __init__(self, bus: Bus, clock: Callable[[], int]) -> None:
        self.bus = bus
        self.clock = clock
        self.halted: str | None = None  # the whole daemon: no market data in, no order out
        self.halted_at = 0
        self.strategies: dict[str, str] = {}  # halted strategy -> why
        self.rejected = 0
        self.on_halt: list[Callable[[str], None]] = []
        self._log = logwood.get_logger(self.name)

    # ------------------------------------------------------------ decisions

    def halt(self, reason: str) -> None:
        """Stop all order flow for good (first reason wins)."""
        if self.halted is not None:
            return
        self.halted = reason
        self.halted_at = self.clock()
        self._log.error("Order flow halted: %s", reason)
        for hook in self.on_halt:
            hook(reason)

    def halt_strategy(self, strategy: str, reason: str) -> bool:
        """Stop one strategy's orders and data; False when it was already halted."""
        if strategy in self.strategies:
            return False
        self.strategies[strategy] = reason
        self._log.error("Strategy %s halted: %s", strategy, reason)
        return True

    def refusal(self, order: SubmitOrder) -> str | None:
        if self.halted is not None:
            return f"order flow halted: {self.halted}"
        why = self.strategies.get(order.strategy)
        return None if why is None else f"strategy halted: {why}"

    # ------------------------------------------------------------ gates

    def orders_to(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """``handler`` (the broker's) behind the gate: refused orders are answered with a rejection."""
        def gated(order: SubmitOrder) -> None:
            why = self.refusal(order)
            if why is None:
                handler(order)
            else:
                self._reject(order, why)
        return gated

    def data_to(self, strategy: str, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """``handler`` (a strategy host's market state) fed only while the strategy and the daemon run."""
        def gated(msg: Any) -> None:
            if self.halted is None and strategy not in self.strategies:
                handler(msg)
        return gated

    def _reject(self, order: SubmitOrder, why: str) -> None:
        """Answer after the publishing strategy's hook returns, as the broker would: never inside it."""
        self.rejected += 1
        rejection = OrderRejected(ts=self.clock(), order_id=order.order_id, instrument=order.instrument,
                                  side=order.side, size=order.size, reason=why)
        try:
            asyncio.get_running_loop().call_soon(self.bus.publish, K.ORDER_REJECTED, rejection)
        except RuntimeError:  # no loop (a synchronous test): now
            self.bus.publish(K.ORDER_REJECTED, rejection)

    def status(self) -> dict[str, Any]:
        return {"halted": self.halted, "halted_at": self.halted_at or None, "strategies": dict(self.strategies),
                "rejected": self.rejected}


class GatedBus:
    """The main bus as one agent sees it: the same in every respect, but chosen handlers pass a gate.

    ``gates`` maps a key to a function wrapping the handler the agent
    subscribes for it. Publishing, publishers and everything else go to the
    bus itself.
    """

    def __init__(self, bus: Bus, gates: dict[Any, Callable[[Callable[[Any], None]], Callable[[Any], None]]]) -> None:
        self._bus = bus
        self._gates = gates

    def subscribe(self, agent: str, key: Any, handler: Callable[[Any], None], first: bool = False) -> Any:
        gate = self._gates.get(key)
        if gate is not None:
            wrapped = gate(handler)
            wrapped.__qualname__ = getattr(handler, "__qualname__", repr(handler))  # stats keep the real name
            handler = wrapped
        return self._bus.subscribe(agent, key, handler, first=first)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)
