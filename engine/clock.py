"""Injected time. Backtests read a simulated clock the driver advances; live runs read the loop."""

from __future__ import annotations

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
