"""Turns the [metrics] config into a running metrics session, or none when StatsD is off.

Usage, in every run mode::

    with metrics_for(config) as metrics:
        run_backtest(config, monitor=metrics.monitor if metrics else None,
                     on_bus=metrics.attach if metrics else None)

``attach`` must be called inside the running loop (``on_bus`` is): that is
where aiodebug's loop-lag monitor and the periodic flush start. Leaving the
block sends the final counters and closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from engine.config import Config
from engine.runtime.logs import configure_logging
from engine.runtime.ticker import RealTimeTicker

if TYPE_CHECKING:
    from metrics.session import MetricsSession


@contextlib.contextmanager
def metrics_for(config: Config, **tuning: Any) -> Iterator[MetricsSession | None]:
    """Yields a :class:`metrics.session.MetricsSession` (``.monitor``, ``.attach(bus)``) or None.

    ``tuning`` overrides :class:`metrics.settings.MetricsSettings` fields that
    have no TOML key (flush and loop-lag intervals, sampling): tests and benchmarks.
    A bad address or prefix raises ValueError before the run starts.
    """
    if not config.metrics.statsd:
        yield None
        return
    configure_logging(config.log_level)  # logwood first: the session's logger and aiodebug need it
    from metrics.session import MetricsSession  # only when on: metrics off imports no aiodebug or statsd
    from metrics.settings import MetricsSettings

    settings = MetricsSettings(
        address=config.metrics.statsd, prefix=config.metrics.prefix,
        slow_callback_s=config.metrics.slow_callback_ms / 1000.0, **tuning,
    )
    with MetricsSession(settings, ticker=RealTimeTicker, dilation_of=loop_time_dilation) as session:
        yield session


def loop_time_dilation(loop: asyncio.AbstractEventLoop) -> float | None:
    """Loop seconds per real second for the engine's loops; None for the virtual-time loop (no lag to measure)."""
    from engine.runtime.loops import VirtualTimeLoop

    if isinstance(loop, VirtualTimeLoop):
        return None
    return float(getattr(loop, "time_dilation", 1.0))  # DilatedLoop and aiodebug's TimeDilatedLoop have one
