"""A periodic tick in real time, whatever the loop's time does.

Housekeeping (loop-lag samples, WebSocket snapshots) must follow the wall, not
loop time: on a loop dilated x1000 a 250 ms loop-time timer would push 4,000
snapshots a second, and on the virtual loop it would spin for ever. A daemon
thread sleeps the real interval and hands the tick to the loop with
``call_soon_threadsafe``, which works on uvloop, dilated and virtual loops
alike -- and the wait between posting and running is exactly the loop's lag.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any


class RealTimeTicker:
    def __init__(self, interval: float, on_tick: Callable[[float], None], name: str = "ticker") -> None:
        """``on_tick(posted_at)`` runs in the loop; ``posted_at`` is the ``perf_counter()`` of posting."""
        if not interval > 0:
            raise ValueError("ticker interval must be > 0")
        self.interval = interval
        self.on_tick = on_tick
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        perf = time.perf_counter
        while not self._stop.wait(self.interval):
            try:
                loop.call_soon_threadsafe(self._tick, perf())
            except RuntimeError:  # the loop is closed
                return

    def _tick(self, posted_at: float) -> None:
        if not self._stop.is_set():
            self.on_tick(posted_at)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1.0)
            self._thread = None


async def within_real_seconds(coro: Any, seconds: float) -> Any:
    """``asyncio.wait_for`` with a deadline in real seconds: TimeoutError when it passes.

    A loop-time timeout means nothing on the virtual loop (it jumps straight
    to the deadline while a thread works) and shrinks on a dilated one; a
    graceful stop promised "within 2 s" is a wall-clock promise.
    """
    loop = asyncio.get_running_loop()
    task = loop.create_task(coro)
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        loop.call_soon_threadsafe(task.cancel)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        return await task
    except asyncio.CancelledError:
        if fired.is_set() and task.cancelled():
            raise TimeoutError(f"not done within {seconds} s") from None
        raise
    finally:
        timer.cancel()
