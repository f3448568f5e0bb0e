"""Observes a run's market data and order flow on its bus, for the trading metrics.

Per-message work is kept to the minimum because it runs on every bar:

* market events (bars, trades, quotes) go to a ``first`` subscriber, before
  any agent reacts: the bus counts them, and it stamps the arrival time of
  the latest event per instrument (one dict store);
* equity and cash come from the broker's ``EquityMarks`` (one message per
  block of bars in a backtest, per bar in the daemon), positions from its
  ``AccountState`` (published only when a fill changed the books): the
  latest of each is kept for the next flush;
* orders and their outcomes are rare: ordinary subscriptions, counted by
  the bus. The order latency is the monotonic clock at the order's publish
  (again ``first``, before the broker answers) minus the latest arrival for
  the order's instrument; in a backtest that is the whole synchronous
  decision path of the bar that caused the order. Both are compiled
  (:mod:`metrics.arrivals`): the stamp runs on every bar.
"""

from __future__ import annotations

from typing import Any

from hub import keys as K
from hub.bus import Bus
from hub.messages import AccountState, EquityMarks, Fill
from metrics.arrivals import Arrivals

AGENT = "metrics"


def _ignore(msg: Any) -> None:
    """Counting subscription: the bus counts the delivery, nothing else to do."""


class TradingProbe:
    def __init__(self, bus: Bus) -> None:
        self.latencies_ms: list[float] = []
        self.filled = 0
        self.instruments: set[str] = set()
        self.equity: float | None = None
        self.cash: float | None = None
        self._sizes: dict[str, float] = {}
        arrivals = Arrivals(self.latencies_ms)  # compiled: the stamp runs on every bar
        on_market, on_submit = arrivals.on_market, arrivals.on_submit
        sub = bus.subscribe
        self._bars = sub(AGENT, K.BAR, on_market, first=True)
        self._trades = sub(AGENT, K.TRADE, on_market, first=True)
        self._quotes = sub(AGENT, K.QUOTE, on_market, first=True)
        self.submitted = sub(AGENT, K.SUBMIT_ORDER, on_submit, first=True)
        self.fills = sub(AGENT, K.FILL, self._on_fill)
        self.rejected = sub(AGENT, K.ORDER_REJECTED, _ignore)
        self.cancelled = sub(AGENT, K.ORDER_CANCELED, _ignore)
        sub(AGENT, K.EQUITY_MARKS, self._on_marks)
        sub(AGENT, K.ACCOUNT, self._on_account)

    @property
    def bars(self) -> int:
        return self._bars.handled

    @property
    def ticks(self) -> int:
        return self._trades.handled + self._quotes.handled

    def _on_marks(self, msg: EquityMarks) -> None:
        self.equity = msg.equity[-1]
        self.cash = msg.cash[-1]

    def _on_account(self, msg: AccountState) -> None:
        self.equity = msg.equity
        self.cash = msg.cash
        self._sizes = {p.instrument: p.size for p in msg.positions}

    def _on_fill(self, fill: Fill) -> None:
        if fill.remaining <= 0:
            self.filled += 1

    def take_latencies(self) -> list[float]:
        taken = self.latencies_ms[:]
        self.latencies_ms.clear()  # the closure holds this list: empty it, never replace it
        return taken

    def positions(self) -> dict[str, float]:
        """Signed size per instrument ever held; 0 once flat, so the gauge comes back down."""
        held = self._sizes
        self.instruments.update(held)
        return {instrument: held.get(instrument, 0.0) for instrument in sorted(self.instruments)}
