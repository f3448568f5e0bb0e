"""One run's metrics: what ``--statsd`` turns on, from start to the final flush.

A session owns the StatsD client, the bus :class:`Monitor` (sampled handler
timings), the stall watchdog thread, and for the one event loop it is
attached in: aiodebug's loop-lag monitor, a slow-callback sink, and a ticker
that flushes the counters every ``flush_interval_s`` of real time.
``close()`` stops the threads, sends what is left and closes the socket; call
it after the loop has stopped, or on the loop's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

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

DilationOf = Callable[[asyncio.AbstractEventLoop], "float | None"]


class Ticker(Protocol):
    """Calls ``on_tick(posted_at)`` on the running loop's thread every ``interval`` real seconds, from ``start()``
    (inside the loop) until ``stop()``: the engine's :class:`engine.runtime.ticker.RealTimeTicker`."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


TickerFactory = Callable[..., Ticker]  # (interval_s, on_tick, name=...) -> Ticker


def time_dilation(loop: asyncio.AbstractEventLoop) -> float | None:
    """Loop seconds per real second: a dilated loop's ``time_dilation``, else 1.0.

    ``None`` means virtual time (the clock jumps to the next timer when idle):
    there is no lag to measure, and a periodic timer would fire back to back.
    This default knows no virtual loop; ``engine.runtime.health`` passes one that does.
    """
    return float(getattr(loop, "time_dilation", 1.0))


class _LoopLagTimer:
    """What aiodebug's monitor_loop_lag calls: renames its metric and converts loop ms to real ms."""

    def __init__(self, client: LoopSafeStatsClient, loop: asyncio.AbstractEventLoop, dilation_of: DilationOf) -> None:
        self._client = client
        self._loop = loop
        self._dilation_of = dilation_of

    def timing(self, metric: str, value: float) -> None:
        self._client.timing(names.LOOP_LAG, value / (self._dilation_of(self._loop) or 1.0))


class MetricsSession:
    def __init__(self, settings: MetricsSettings, ticker: TickerFactory, dilation_of: DilationOf = time_dilation) -> None:
        """``ticker`` makes the real-time ticker that flushes (the engine injects its one ticker type)."""
        address = resolve(settings.address)  # before anything opens: a bad address leaves nothing behind
        self.settings = settings
        self._dilation_of = dilation_of
        self._log = logwood.get_logger("metrics")
        self.client = LoopSafeStatsClient(address, settings.prefix)
        self.monitor = SampledHandlerMonitor(settings.sample_every)
        self.reporter = Reporter(self.client, self.monitor)
        self._watchdog = StallWatchdog(
            settings.slow_callback_s, on_slow=self._slow_handler, on_hang=self._hung_handler,
            hang_after_s=settings.hang_after_s,
        )
        self._ticker = ticker(settings.flush_interval_s, self._periodic_flush, name="metrics-flush")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unregister_slow_callbacks: Callable[[], None] | None = None
        self._closed = False
        self._watchdog.start()

    def __enter__(self) -> MetricsSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------ wiring

    def attach(self, bus: Bus, trading: bool = True) -> None:
        """The ``on_bus`` hook: report this bus's agents (and, with ``trading``, its market data and orders).

        Called inside a running loop, it also starts watching that loop (one
        loop per session). A second bus carrying the same market data (a
        daemon's ingress bus) should pass ``trading=False``, or bars count twice.
        """
        probe = TradingProbe(bus) if trading else None
        self.reporter.watch(bus, probe)
        self._watchdog.watch(bus)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._loop is None:
            self._watch_loop(loop)
        elif self._loop is not loop:
            raise RuntimeError("a metrics session watches one event loop; make one session per run")

    def _watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._ticker.start()
        threshold = self.settings.slow_callback_s
        self._unregister_slow_callbacks = slow_callbacks.register(threshold, self._slow_callback)
        installed = slow_callbacks.installed_threshold()
        if installed is not None and installed > threshold:
            self._log.warning("Slow callbacks under %.3f s are not seen: aiodebug was installed with that threshold", installed)
        dilation = self._dilation_of(loop)
        if dilation is None:
            self._log.info("Virtual loop time: loop lag is not measured")
            return
        interval = self.settings.loop_lag_interval_s * dilation  # its sleep is in loop time
        monitor_loop_lag.enable(_LoopLagTimer(self.client, loop, self._dilation_of), interval=interval, loop=loop)

    def _periodic_flush(self, posted_at: float) -> None:
        """On the loop's thread, every flush interval of real time."""
        if not self._closed:
            self.reporter.flush()

    def close(self) -> None:
        """Stop the threads, send the final counters, close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._ticker.stop()
        self._watchdog.stop()
        if self._unregister_slow_callbacks is not None:
            self._unregister_slow_callbacks()
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
