"""Starting the daemon: the loop it runs on (uvloop live, a dilated or virtual loop for replays) and its metrics."""

from __future__ import annotations

import asyncio
import functools
import os
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
    """The command-line daemon: signals heard on a thread, a stop deadline that ends the process if it must."""
    from engine.daemon.signals import SignalWatcher

    daemon_ref: list[Any] = []
    with SignalWatcher(lambda name: daemon_ref[0].request_stop_threadsafe(name) if daemon_ref else None):
        return _run(config, daemon_ref)


def give_up(daemon: Any) -> None:
    """The stop deadline passed with the loop still busy: put the journal on disk and end the process."""
    import logwood

    from engine.daemon.daemon import EXIT_STOP_DEADLINE

    if daemon.journal is not None:
        daemon.journal.fsync_now()
    logwood.get_logger("daemon").error("Exiting with code %d without the final snapshot: the journal holds "
                                       "every record written, a restart recovers from it", EXIT_STOP_DEADLINE)
    os._exit(EXIT_STOP_DEADLINE)


def _run(config: Config, daemon_ref: list[Any]) -> Any:
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
                        on_halt=(lambda reason: metrics.client.gauge(names.HALTED, 1)) if metrics else None,
                        on_deadline=lambda: give_up(daemon), handle_signals=False)
        daemon_ref.append(daemon)
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(daemon.run())
