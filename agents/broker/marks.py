"""The broker's marks to market, (ts, cash, equity) per timestamp, published in :class:`EquityMarks` blocks.

A per-bar account message (a struct, a publish, a delivery to every
consumer) was a third of a backtest's cost, for figures nobody needs bar by
bar; blocks of ``every`` marks carry them instead (1 in the daemon, so its
status and gauges follow every bar). The broker flushes the pending marks
before any order or account event and at the end, so a consumer always holds
every mark older than the event it handles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.messages import EquityMarks


class Marks:
    def __init__(self, publish: Callable[[Any, Any], None], key: Any, every: int) -> None:
        self.publish = publish
        self.key = key
        self.every = every
        self.stamps: list[int] = []
        self.cash: list[float] = []
        self.equity: list[float] = []

    def add(self, ts, cash: float, equity: float) -> None:
        """One timestamp's mark; with several instruments at one timestamp, the mark after its last bar wins."""
        stamps = self.stamps
        if stamps and stamps[-1] == ts:
            self.cash[-1] = cash
            self.equity[-1] = equity
            return
        stamps.append(ts)
        self.cash.append(cash)
        self.equity.append(equity)
        if len(stamps) >= self.every:
            self.flush()

    def flush(self) -> None:
        """Publish the pending marks as one block (nothing if none are pending)."""
        stamps = self.stamps
        if not stamps:
            return
        block = EquityMarks(stamps[-1], tuple(stamps), tuple(self.cash), tuple(self.equity))
        stamps.clear()
        self.cash.clear()
        self.equity.clear()
        self.publish(self.key, block)
