"""Observes a run's market data and order flow on its bus, for the trading metrics.

Per-message work is kept to the minimum because it runs on every bar:

* market events (bars, trades, quotes) go to a raw observer (``Bus.observe``,
  no guard) that runs ``first``, before any agent reacts: it counts them and
  stamps the arrival time of the latest event per instrument;
* the account state (equity, cash, positions) is sampled, not observed on
  every bar: :meth:`TradingProbe.arm_account` (at attach, and after each
  periodic flush) adds an observer that keeps the next ``AccountState`` and
  removes itself. Observing every bar, even through a bare C callback, cost
  ~1,000 CPU instructions a bar (~1.7% of a backtest);
* orders and their outcomes are rare: ordinary subscriptions, counted by
  the bus. The order latency is ``perf_counter`` at the order's publish
  (again ``first``, before the broker answers) minus the latest arrival for
  the order's instrument; in a backtest that is the whole synchronous
  decision path of the bar that caused the order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
        self.instruments: set[str] = set()
        self._bars = [0]
        self._ticks = [0]
        self._bus = bus
        self.account: AccountState | None = None
        self._armed = False
        arrivals: dict[str, float] = {}
        perf = time.perf_counter
        latencies = self.latencies_ms

        def stamper(counter: list[int]) -> Callable[[Any, Any], None]:
            def stamp(key: Any, msg: Any) -> None:
                counter[0] += 1
                arrivals[msg.instrument] = perf()

            return stamp

        def on_submit(msg: SubmitOrder) -> None:
            arrived = arrivals.get(msg.instrument)
            if arrived is not None:
                latencies.append((perf() - arrived) * 1000.0)

        bus.observe(K.BAR, stamper(self._bars), first=True)
        tick = stamper(self._ticks)
        bus.observe(K.TRADE, tick, first=True)
        bus.observe(K.QUOTE, tick, first=True)
        sub = bus.subscribe
        self.submitted = sub(AGENT, K.SUBMIT_ORDER, on_submit, first=True)
        self.fills = sub(AGENT, K.FILL, self._on_fill)
        self.rejected = sub(AGENT, K.ORDER_REJECTED, _ignore)
        self.cancelled = sub(AGENT, K.ORDER_CANCELED, _ignore)

    @property
    def bars(self) -> int:
        return self._bars[0]

    @property
    def ticks(self) -> int:
        return self._ticks[0]

    def arm_account(self) -> None:
        """Keep the next account state (call on the loop's thread: it subscribes)."""
        if not self._armed:
            self._armed = True
            self._bus.observe(K.ACCOUNT, self._capture_account)

    def _capture_account(self, key: Any, msg: AccountState) -> None:
        self.account = msg
        self._armed = False
        self._bus.unobserve(K.ACCOUNT, self._capture_account)

    def _on_fill(self, fill: Fill) -> None:
        if fill.remaining <= 0:
            self.filled += 1

    def take_latencies(self) -> list[float]:
        taken = self.latencies_ms[:]
        self.latencies_ms.clear()  # the closure holds this list: empty it, never replace it
        return taken

    def positions(self) -> dict[str, float]:
        """Signed size per instrument ever held; 0 once flat, so the gauge comes back down."""
        account = self.account
        held = {p.instrument: p.size for p in account.positions} if account is not None else {}
        self.instruments.update(held)
        return {instrument: held.get(instrument, 0.0) for instrument in sorted(self.instruments)}
