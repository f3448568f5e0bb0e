"""Starting the daemon: the loop it runs on (uvloop live, a dilated or virtual loop for replays) and its metrics."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from engine.config import Config
from engine.runtime.loops import LoopFactory, loop_factory_for, stdlib_loop, uvloop_loop


def loop_for(config: Config) -> LoopFactory:
    """uvloop live; the dilated or virtual loop for replays (uvloop cannot dilate); or as configured."""
    daemon = config.daemon
    if daemon.loop == "uvloop":
        return uvloop_loop
    if daemon.loop == "asyncio":
        return stdlib_loop
    if daemon.loop != "auto":
        raise ValueError(f"[daemon] loop must be auto, uvloop or asyncio, got {daemon.loop!r}")
    return loop_factory_for("live" if daemon.feed else "replay", daemon.time_dilation)


def run_daemon(config: Config) -> Any:
    from engine.daemon.daemon import Daemon
    from engine.runtime.health import metrics_for
    from engine.runtime.logs import configure_logging
    from metrics import names

    configure_logging(config.log_level)
    factory = loop_for(config)
    with metrics_for(config) as metrics:
        daemon = Daemon(config, out_dir=config.output.dir, monitor=metrics.monitor if metrics else None,
                        on_bus=metrics.attach if metrics else None,
                        # the ingress bus carries the same bars: its agents and inbox, not the trading figures again
                        on_ingress_bus=functools.partial(metrics.attach, trading=False) if metrics else None,
                        on_halt=(lambda reason: metrics.client.gauge(names.HALTED, 1)) if metrics else None)
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(daemon.run())
