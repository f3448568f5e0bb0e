"""Runs a callback on a loop's own thread every N seconds of real time.

Real time, not loop time: on a dilated replay a one-second loop timer fires
``dilation`` times a real second, and on a virtual-time loop (whose clock
jumps to the next timer when idle) it would fire back to back between any
two events. A thread keeps the cadence and ``call_soon_threadsafe`` hands
the work to the loop, so the callback may touch the bus safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class LoopTicker:
    def __init__(self, interval_s: float, callback: Callable[[], None]) -> None:
        self._interval = interval_s
        self._callback = callback
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-ticker", daemon=True)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(self._callback)
            except RuntimeError:  # closed between the check and the call
                return
