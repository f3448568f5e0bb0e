"""One run's metrics: what ``--statsd`` turns on, from start to the final flush.

A session owns the StatsD client, the bus :class:`Monitor` (sampled handler
timings), the stall watchdog thread and, per event loop it is attached in,
aiodebug's loop-lag monitor, the periodic counter flush, a slow-callback
sink and the watchdog's eye on that loop's thread. ``close()``
stops the watchdog, sends what is left and closes the socket.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import logwood
from aiodebug import monitor_loop_lag

from hub.bus import Bus, SubscriptionStats
from metrics import names, slow_callbacks
from metrics.address import resolve
from metrics.client import LoopSafeStatsClient
from metrics.handler_monitor import SampledHandlerMonitor
from metrics.reporter import Reporter
from metrics.settings import MetricsSettings
from metrics.trading import TradingProbe
from metrics.watchdog import StallWatchdog


class _LoopLagTimer:
    """What aiodebug's monitor_loop_lag calls: renames its metric into ours."""

    def __init__(self, client: LoopSafeStatsClient) -> None:
        self._client = client

    def timing(self, metric: str, value: float) -> None:
        self._client.timing(names.LOOP_LAG, value)


class MetricsSession:
    def __init__(self, settings: MetricsSettings) -> None:
        address = resolve(settings.address)  # before anything opens: a bad address leaves nothing behind
        self.settings = settings
        self._log = logwood.get_logger("metrics")
        self.client = LoopSafeStatsClient(address, settings.prefix)
        self.monitor = SampledHandlerMonitor(settings.sample_every)
        self.reporter = Reporter(self.client, self.monitor)
        self._watchdog = StallWatchdog(
            settings.slow_callback_s, on_slow=self._slow_handler, on_hang=self._hung_handler,
            hang_after_s=settings.hang_after_s,
        )
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._unregister: list[Callable[[], None]] = []
        self._closed = False
        self._watchdog.start()

    def __enter__(self) -> MetricsSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------ wiring

    def attach(self, bus: Bus) -> None:
        """The ``on_bus`` hook: observe this bus. Called inside a running loop, it also watches that loop."""
        probe = TradingProbe(bus)
        self.reporter.watch(bus, probe)
        probe.arm_account()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if not any(seen is loop for seen in self._loops):
            self._watch_loop(loop)

    def _watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loops.append(loop)
        self._watchdog.watch_thread(threading.get_ident())
        monitor_loop_lag.enable(_LoopLagTimer(self.client), interval=self.settings.loop_lag_interval_s, loop=loop)
        task = loop.create_task(self._flush_periodically(), name="metrics-flush")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        threshold = self.settings.slow_callback_s
        self._unregister.append(slow_callbacks.register(threshold, self._slow_callback))
        installed = slow_callbacks.installed_threshold()
        if installed is not None and installed > threshold:
            self._log.warning("Slow callbacks under %.3f s are not seen: aiodebug was installed with that threshold", installed)

    async def _flush_periodically(self) -> None:
        """Ends by itself after close(), at its next wake-up: no cross-thread cancel needed."""
        while not self._closed:
            await asyncio.sleep(self.settings.flush_interval_s)
            self.reporter.flush()
            self.reporter.rearm()

    def close(self) -> None:
        """Stop the watchdog, send the final counters, close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._watchdog.stop()
        for unregister in self._unregister:
            unregister()
        self.reporter.flush()
        self.client.close()

    # ------------------------------------------------------------ reports

    def _slow_callback(self, name: str, seconds: float) -> None:
        """aiodebug, stdlib loop only: any asyncio callback (a task step, a timer...) past the threshold."""
        self.client.timing(names.SLOW_CALLBACK, seconds * 1000.0)
        self._log.warning("Slow callback %s took %.3f s (threshold %.3f s)", name, seconds, self.settings.slow_callback_s)

    def _slow_handler(self, stats: SubscriptionStats, seconds: float) -> None:
        """The watchdog, any loop: a hub handler call blocked the loop past the threshold."""
        self.client.timing(names.slow_handler(stats.agent, stats.handler), seconds * 1000.0)
        self._log.warning(
            "Slow handler %s of agent %s blocked the loop for %.3f s (threshold %.3f s)",
            stats.handler, stats.agent, seconds, self.settings.slow_callback_s,
        )

    def _hung_handler(self, stats: SubscriptionStats, seconds: float) -> None:
        self._log.warning("Loop stalled: handler %s of agent %s has been running for %.1f s", stats.handler, stats.agent, seconds)
