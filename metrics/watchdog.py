"""A thread that notices a hub handler blocking the loop: works on any loop, uvloop included.

aiodebug's slow-callback patch cannot see inside uvloop, and timing every
handler call costs too much on the backtest's hot path. Instead the bus marks
the running handler (``monitor.current``) on every call, and this thread polls
the mark. A call is identified by its subscription and that subscription's
call count, so a handler seen running at two polls ``threshold`` apart is one
slow call, not many fast ones.

The measured duration is the time between the first and last polls that saw
the call, plus one poll interval (the call started up to one interval before
it was first seen, and ended up to one interval after it was last seen), so it
is within +-1 poll interval. Only calls seen running for at least
``threshold`` are reported: never a false report, and every call longer than
``threshold`` plus two poll intervals is caught.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hub.bus import Monitor, SubscriptionStats

OnSlow = Callable[[SubscriptionStats, float], None]


class StallWatchdog:
    def __init__(
        self,
        monitor: Monitor,
        threshold_s: float,
        on_slow: OnSlow,
        on_hang: OnSlow,
        hang_after_s: float = 1.0,
        poll_s: float | None = None,
    ) -> None:
        """``on_slow(stats, seconds)`` once a slow call ends; ``on_hang(stats, seconds)`` once while a call
        has been running ``hang_after_s``, so a loop stuck for good is reported while it is stuck."""
        self._monitor = monitor
        self._threshold = threshold_s
        self._hang_after = max(hang_after_s, threshold_s)
        self._poll = poll_s if poll_s is not None else max(threshold_s / 5.0, 0.001)
        self._on_slow = on_slow
        self._on_hang = on_hang
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-stall-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; a slow call that ended since the last poll is still reported."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        watched: tuple[SubscriptionStats, int] | None = None
        first_seen = last_seen = 0.0
        hang_reported = False
        stopping = False
        while not stopping:
            stopping = self._stop.wait(self._poll)
            now = time.perf_counter()
            stats = self._monitor.current
            call = (stats, stats.handled) if stats is not None else None
            if call is not None and watched is not None and call[0] is watched[0] and call[1] == watched[1]:
                last_seen = now
                if not hang_reported and now - first_seen >= self._hang_after:
                    hang_reported = True
                    self._on_hang(stats, now - first_seen)
                continue
            if watched is not None and last_seen - first_seen >= self._threshold:
                self._on_slow(watched[0], last_seen - first_seen + self._poll)
            watched, first_seen, last_seen, hang_reported = call, now, now, False
