"""Pulls what the buses counted since the last flush and sends it as one StatsD pipeline.

Pulling instead of pushing keeps the hot path free of metrics code: a bar
costs the bus's own counters, and the reporter turns their deltas into a few
datagrams per flush, however many bars went by. Timer samples are capped per
name and flush (evenly spaced when there are more), so a flush stays small on
the fastest replay; the counters stay exact.
"""

from __future__ import annotations

from collections import defaultdict

from statsd.client.base import PipelineBase

from hub.bus import Bus, SubscriptionStats
from metrics import names
from metrics.client import LoopSafeStatsClient
from metrics.handler_monitor import SampledHandlerMonitor
from metrics.trading import TradingProbe

MAX_SAMPLES_PER_FLUSH = 32


def evenly_spaced(values: list[float], limit: int) -> list[float]:
    """At most ``limit`` of ``values``, spread over the whole list."""
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


class Reporter:
    def __init__(self, client: LoopSafeStatsClient, monitor: SampledHandlerMonitor) -> None:
        self._client = client
        self._monitor = monitor
        self._watched: list[tuple[Bus, TradingProbe | None]] = []
        self._sent: dict[SubscriptionStats, tuple[int, int]] = {}  # handled, errors already sent
        self._sent_trading: dict[TradingProbe, tuple[int, int, int]] = {}  # bars, ticks, filled already sent
        self._sent_inbox: dict[int, tuple[int, int]] = {}  # id(inbox) -> conflated, overflow already sent
        self._timer_names: dict[SubscriptionStats, str] = {}

    def watch(self, bus: Bus, probe: TradingProbe | None) -> None:
        """Report ``bus``'s agents and inboxes, and the trading metrics ``probe`` observes on it (if any)."""
        self._watched.append((bus, probe))

    def flush(self) -> None:
        if self._client.closed:
            return
        with self._client.pipeline() as pipe:
            for bus, probe in self._watched:
                handled = self._deltas(bus)
                self._agents(pipe, handled)
                self._inboxes(pipe, bus)
                if probe is not None:
                    self._trading(pipe, probe, handled)
            self._handler_times(pipe)

    def _deltas(self, bus: Bus) -> dict[SubscriptionStats, tuple[int, int]]:
        deltas = {}
        for stats in bus.subscriptions:
            handled, errors = self._sent.get(stats, (0, 0))
            deltas[stats] = (stats.handled - handled, stats.errors - errors)
            self._sent[stats] = (stats.handled, stats.errors)
        return deltas

    def _agents(self, pipe: PipelineBase, deltas: dict[SubscriptionStats, tuple[int, int]]) -> None:
        per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for stats, (handled, errors) in deltas.items():
            totals = per_agent[stats.agent]
            totals[0] += handled
            totals[1] += errors
        for agent, (handled, errors) in per_agent.items():
            if handled:
                pipe.incr(names.agent_handled(agent), handled)
            if errors:
                pipe.incr(names.agent_errors(agent), errors)

    def _inboxes(self, pipe: PipelineBase, bus: Bus) -> None:
        for inbox in bus.inboxes:
            pipe.gauge(names.inbox_depth(inbox.agent), len(inbox))
            conflated, overflow = self._sent_inbox.get(id(inbox), (0, 0))
            if inbox.conflated > conflated:
                pipe.incr(names.inbox_conflated(inbox.agent), inbox.conflated - conflated)
            if inbox.overflow > overflow:
                pipe.incr(names.inbox_overflow(inbox.agent), inbox.overflow - overflow)
            self._sent_inbox[id(inbox)] = (inbox.conflated, inbox.overflow)

    def _trading(self, pipe: PipelineBase, probe: TradingProbe, deltas: dict[SubscriptionStats, tuple[int, int]]) -> None:
        bars, ticks, filled = self._sent_trading.get(probe, (0, 0, 0))
        counters = (
            (names.BARS, probe.bars - bars),
            (names.TICKS, probe.ticks - ticks),
            (names.ORDERS_SUBMITTED, deltas[probe.submitted][0]),
            (names.ORDERS_FILLED, probe.filled - filled),
            (names.ORDERS_REJECTED, deltas[probe.rejected][0]),
            (names.ORDERS_CANCELLED, deltas[probe.cancelled][0]),
            (names.FILLS, deltas[probe.fills][0]),
        )
        self._sent_trading[probe] = (probe.bars, probe.ticks, probe.filled)
        for name, count in counters:
            if count:
                pipe.incr(name, count)
        for ms in evenly_spaced(probe.take_latencies(), MAX_SAMPLES_PER_FLUSH):
            pipe.timing(names.ORDER_LATENCY, ms)
        if probe.equity is not None:
            pipe.gauge(names.EQUITY, probe.equity)
            pipe.gauge(names.CASH, probe.cash)
        for instrument, size in probe.positions().items():
            pipe.gauge(names.position(instrument), size)

    def _handler_times(self, pipe: PipelineBase) -> None:
        per_handler: dict[str, list[float]] = defaultdict(list)
        timer_names = self._timer_names
        for stats, seconds in self._monitor.take_samples():
            name = timer_names.get(stats)
            if name is None:
                name = timer_names[stats] = names.handler_time(stats.agent, stats.handler)
            per_handler[name].append(seconds * 1000.0)
        for name, values in per_handler.items():
            for ms in evenly_spaced(values, MAX_SAMPLES_PER_FLUSH):
                pipe.timing(name, ms)
