"""Observes a run's market data and order flow on its bus, for the trading metrics.

Counts are not kept here: each subscription's ``SubscriptionStats.handled``
already counts its messages, and the reporter pulls those. What this adds:

* the arrival time of the latest market event per instrument, stamped by a
  ``first`` subscriber (before any agent reacts), and from it the latency to
  each order: ``perf_counter`` at the order's publish (again a ``first``
  subscriber, before the broker answers) minus the latest arrival for the
  order's instrument. In a backtest that is the whole synchronous decision
  path of the bar that caused the order;
* orders filled completely, and the latest account state (equity, cash,
  positions) for the gauges.
"""

from __future__ import annotations

import time
from typing import Any

from hub import keys as K
from hub.bus import Bus
from hub.messages import AccountState, Fill, SubmitOrder

AGENT = "metrics"


def _ignore(msg: Any) -> None:
    """Counting subscription: the bus counts the delivery, nothing else to do."""


class TradingProbe:
    def __init__(self, bus: Bus) -> None:
        self.latencies_ms: list[float] = []
        self.filled = 0
        self.account: AccountState | None = None
        self.instruments: set[str] = set()
        arrivals: dict[str, float] = {}
        perf = time.perf_counter
        latencies = self.latencies_ms

        def on_market(msg: Any) -> None:
            arrivals[msg.instrument] = perf()

        def on_submit(msg: SubmitOrder) -> None:
            arrived = arrivals.get(msg.instrument)
            if arrived is not None:
                latencies.append((perf() - arrived) * 1000.0)

        sub = bus.subscribe
        self.bars = sub(AGENT, K.BAR, on_market, first=True)
        self.trades = sub(AGENT, K.TRADE, on_market, first=True)
        self.quotes = sub(AGENT, K.QUOTE, on_market, first=True)
        self.submitted = sub(AGENT, K.SUBMIT_ORDER, on_submit, first=True)
        self.fills = sub(AGENT, K.FILL, self._on_fill)
        self.rejected = sub(AGENT, K.ORDER_REJECTED, _ignore)
        self.cancelled = sub(AGENT, K.ORDER_CANCELED, _ignore)
        self.accounts = sub(AGENT, K.ACCOUNT, self._on_account)

    def _on_fill(self, fill: Fill) -> None:
        if fill.remaining <= 0:
            self.filled += 1

    def _on_account(self, msg: AccountState) -> None:
        self.account = msg

    def take_latencies(self) -> list[float]:
        taken = self.latencies_ms[:]
        self.latencies_ms.clear()  # the closure holds this list: empty it, never replace it
        return taken

    def positions(self) -> dict[str, float]:
        """Signed size per instrument ever held; 0 once flat, so the gauge comes back down."""
        held = {p.instrument: p.size for p in self.account.positions} if self.account is not None else {}
        self.instruments.update(held)
        return {instrument: held.get(instrument, 0.0) for instrument in sorted(self.instruments)}
