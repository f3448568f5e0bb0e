"""Injected time: a simulated clock the backtest driver advances, the wall clock live, and data time that
follows a dilated or virtual loop in replays. No other module reads the time of day."""

from __future__ import annotations

import asyncio
import time


class SimClock:
    """The time of the event being replayed, in integer nanoseconds. Never the wall clock."""

    __slots__ = ("ts",)

    def __init__(self, ts: int = 0) -> None:
        self.ts = ts

    def __call__(self) -> int:
        return self.ts


class LiveClock:
    """Wall-clock nanoseconds for the daemon: the only place live time is read."""

    __slots__ = ()

    def __call__(self) -> int:
        return time.time_ns()

class LoopClock:
    """Data time that follows the event loop's time: the clock of replays on a dilated or virtual loop.

    ``now = origin + (loop.time() - loop_origin)`` in nanoseconds. On a loop
    dilated x10, data time runs ten times faster than the wall; on the virtual
    loop it jumps with the timers. The wall clock is never read.
    """

    __slots__ = ("origin_ns", "_loop", "_loop_origin")

    def __init__(self, origin_ns: int = 0) -> None:
        self.origin_ns = origin_ns
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_origin = 0.0

    def anchor(self, origin_ns: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """From now on, ``origin_ns`` is this instant of ``loop`` (default: the running loop)."""
        self._loop = loop or asyncio.get_running_loop()
        self._loop_origin = self._loop.time()
        self.origin_ns = origin_ns

    def at_loop_time(self, loop_time: float) -> int:
        """The data time a given loop time maps to."""
        return self.origin_ns + round((loop_time - self._loop_origin) * 1e9)

    def loop_time_of(self, ts_ns: int) -> float:
        """The loop time at which data time ``ts_ns`` is reached."""
        return self._loop_origin + (ts_ns - self.origin_ns) / 1e9

    def __call__(self) -> int:
        if self._loop is None:
            return self.origin_ns
        return self.at_loop_time(self._loop.time())
