"""What the daemon reports about itself, gathered from hub events and bus stats, never from agents' insides.

The status collector is an ordinary agent: it listens (synchronously, a few
attribute writes per message) to account states, orders, fills, errors and
market data, and reads the bus's subscription and inbox counters when a
snapshot is asked for. Sources that are not agents (the feed's counters,
the journal's sync point) register a callable in ``sources``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agents.base import Agent
from engine.runtime.ticker import RealTimeTicker
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AccountState,
    AgentError,
    EquityMarks,
    Fill,
    OrderCanceled,
    OrderRejected,
    SubmitOrder,
)

RECENT_ERRORS = 20
RECENT_ORDERS = 20  # fills and rejections kept for the dashboard
CURVE_POINTS = 300  # the latest marks (ts, equity) the status carries: a dashboard opened late still has a curve


def iso(ts_ns: int) -> str | None:
    if not ts_ns:
        return None
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class LoopLagProbe:
    """How long a callback posted from another thread waits for the loop, in real milliseconds.

    Sampled every ``interval`` *real* seconds by a :class:`RealTimeTicker`, so
    it means the same on uvloop, a dilated loop and the virtual loop, and
    costs nothing in loop time.
    """

    def __init__(self, interval: float = 0.05, keep: int = 1200) -> None:
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=keep)
        self.last_ran = time.perf_counter()  # when the loop last ran a sample: a blocked loop stops updating it
        self._ticker = RealTimeTicker(interval, self._sample, name="loop-lag")

    def _sample(self, posted_at: float) -> None:
        self.last_ran = now = time.perf_counter()
        self.samples.append((now - posted_at) * 1000.0)

    def idle_s(self) -> float:
        """Seconds since the loop last ran a sample (readable from any thread); ~``interval`` when healthy."""
        return max(0.0, time.perf_counter() - self.last_ran - self.interval)

    def start(self) -> None:
        self.last_ran = time.perf_counter()
        self._ticker.start()

    async def stop(self) -> None:
        self._ticker.stop()

    def summary(self) -> dict[str, float]:
        values = sorted(self.samples)
        return {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
                "max_ms": values[-1] if values else 0.0, "samples": len(values)}


class StatusCollector(Agent):
    name = "status"

    def __init__(self, bus: Bus, clock: Callable[[], int], mode: str, lag: LoopLagProbe | None = None) -> None:
        super().__init__(bus, clock)
        self.mode = mode
        self.lag = lag or LoopLagProbe()
        self.sources: dict[str, Callable[[], Any]] = {}
        self.watched: list[Bus] = [bus]  # buses whose inboxes and subscriptions are reported
        self.started = time.monotonic()
        self.cash: float | None = None
        self.equity: float | None = None
        self.positions: dict[str, dict[str, float]] = {}
        self.open_orders: dict[str, str] = {}  # order id -> instrument
        self.last_event_ts = 0
        self.events = 0
        self.fills = 0
        self.errors = 0
        self.recent_errors: deque[dict[str, Any]] = deque(maxlen=RECENT_ERRORS)
        self.recent_fills: deque[dict[str, Any]] = deque(maxlen=RECENT_ORDERS)
        self.curve: deque[tuple[int, float]] = deque(maxlen=CURVE_POINTS)
        self.recent_rejections: deque[dict[str, Any]] = deque(maxlen=RECENT_ORDERS)
        self.state = "starting"

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(self.name, K.TRADE, self.on_market)
        sub(self.name, K.QUOTE, self.on_market)
        sub(self.name, K.BAR, self.on_market)
        sub(self.name, K.ACCOUNT, self._on_account)
        sub(self.name, K.EQUITY_MARKS, self._on_marks)
        sub(self.name, K.SUBMIT_ORDER, self._on_submit)
        sub(self.name, K.FILL, self._on_fill)
        sub(self.name, K.ORDER_REJECTED, self._on_reject)
        sub(self.name, K.ORDER_CANCELED, self._on_done)
        sub(self.name, K.AGENT_ERROR, self._on_error)

    def start(self) -> None:
        self.state = "running"
        self.lag.start()

    def restore(self, cash: float | None, positions: dict[str, dict[str, float]], open_orders: dict[str, str]) -> None:
        """Start from recovered books (a restart) instead of nothing."""
        self.cash = cash
        self.positions = dict(positions)
        self.open_orders = dict(open_orders)

    # ------------------------------------------------------------ handlers

    def on_market(self, msg: Any) -> None:
        self.events += 1
        if msg.ts > self.last_event_ts:
            self.last_event_ts = msg.ts

    def _on_account(self, msg: AccountState) -> None:
        """The broker's truth: each instrument it reports replaces ours; one it leaves out (flat) stays listed."""
        self.cash = msg.cash
        self.equity = msg.equity
        self.take_positions(msg.positions)

    def take_positions(self, positions: Any) -> None:
        for p in positions:
            self.positions[p.instrument] = {"size": p.size, "avg_price": p.avg_price, "last_price": p.last_price,
                                            "realized_pnl": p.realized_pnl}

    def _on_marks(self, msg: EquityMarks) -> None:
        """The latest mark to market (the daemon's broker publishes one per bar)."""
        self.cash = msg.cash[-1]
        self.equity = msg.equity[-1]
        self.curve.extend(zip(msg.stamps, msg.equity, strict=True))

    def _on_submit(self, msg: SubmitOrder) -> None:
        self.open_orders[msg.order_id] = msg.instrument

    def _on_fill(self, msg: Fill) -> None:
        self.fills += 1
        self.recent_fills.append({"ts": msg.ts, "order_id": msg.order_id, "instrument": msg.instrument,
                                  "side": msg.side, "size": msg.size, "price": msg.price})
        self.cash = msg.cash
        held = self.positions.get(msg.instrument)
        if held is None:
            self.positions[msg.instrument] = {"size": msg.position, "avg_price": msg.avg_price,
                                              "last_price": msg.price, "realized_pnl": 0.0}
        else:  # realized P&L comes with the broker's account state that follows the fill
            held["size"] = msg.position
            held["avg_price"] = msg.avg_price
            held["last_price"] = msg.price
        if msg.remaining <= 0:
            self.open_orders.pop(msg.order_id, None)

    def _on_reject(self, msg: OrderRejected) -> None:
        self.recent_rejections.append({"ts": msg.ts, "order_id": msg.order_id, "instrument": msg.instrument,
                                       "reason": msg.reason})
        self._on_done(msg)

    def _on_done(self, msg: OrderRejected | OrderCanceled) -> None:
        self.open_orders.pop(msg.order_id, None)

    def _on_error(self, msg: AgentError) -> None:
        self.errors += 1
        self.recent_errors.append({"ts": msg.ts, "agent": msg.agent, "handler": msg.handler, "key": msg.key,
                                   "error": f"{msg.error_type}: {msg.error}"})

    # ------------------------------------------------------------ the snapshot

    def queues(self) -> dict[str, dict[str, int]]:
        return {inbox.agent: {"depth": len(inbox), "max_depth": inbox.max_depth, "maxsize": inbox.maxsize,
                              "conflated": inbox.conflated, "overflow": inbox.overflow}
                for bus in self.watched for inbox in bus.inboxes}

    def agents(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for stats in (s for bus in self.watched for s in bus.subscriptions):
            row = table.setdefault(stats.agent, {"handled": 0, "errors": 0})
            row["handled"] += stats.handled
            row["errors"] += stats.errors
        return table

    def snapshot(self) -> dict[str, Any]:
        open_ids = list(self.open_orders)
        snap: dict[str, Any] = {
            "state": self.state,
            "mode": self.mode,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "cash": self.cash,
            "equity": self.equity,
            "positions": self.positions,
            "open_orders": {"count": len(open_ids), "ids": open_ids[:100]},
            "last_event_ts": self.last_event_ts or None,
            "last_event_time": iso(self.last_event_ts),
            "events": self.events,
            "fills": self.fills,
            "loop_lag": self.lag.summary(),
            "queues": self.queues(),
            "agents": self.agents(),
            "errors": {"count": self.errors, "recent": list(self.recent_errors)},
            "recent_fills": list(self.recent_fills),
            "equity_curve": list(self.curve),
            "recent_rejections": list(self.recent_rejections),
        }
        for name, source in self.sources.items():
            snap[name] = source()
        return snap
