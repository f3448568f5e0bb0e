"""A thread that notices a hub handler blocking the loop: works on any loop, uvloop included.

aiodebug's slow-callback patch cannot see inside uvloop, and timing every
handler call costs too much on the backtest's hot path. Every route marks
the subscription it is calling in its bus's ``running`` cell (a few
stores), so this thread polls the loop's buses and asks which handler call
is innermost (``hub.bus.running_handler``).
A call is identified by its subscription and that subscription's call count,
so a handler seen running at two polls ``threshold`` apart is one slow call,
not many fast ones.

The reported duration is the time between the first and last polls that saw
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
from dataclasses import dataclass

from hub.bus import Bus, SubscriptionStats, running_handler

OnSlow = Callable[[SubscriptionStats, float], None]


@dataclass
class _Call:
    stats: SubscriptionStats
    number: int  # stats.handled when first seen: which call of that subscription
    first_seen: float
    last_seen: float
    hang_reported: bool = False


class StallWatchdog:
    def __init__(
        self,
        threshold_s: float,
        on_slow: OnSlow,
        on_hang: OnSlow,
        hang_after_s: float = 1.0,
        poll_s: float | None = None,
    ) -> None:
        """``on_slow(stats, seconds)`` once a slow call ends; ``on_hang(stats, seconds)`` once while a call
        has been running ``hang_after_s``, so a loop stuck for good is reported while it is stuck."""
        self._threshold = threshold_s
        self._hang_after = max(hang_after_s, threshold_s)
        self._poll = poll_s if poll_s is not None else max(threshold_s / 5.0, 0.001)
        self._on_slow = on_slow
        self._on_hang = on_hang
        self._buses: tuple[Bus, ...] = ()  # replaced, never mutated: read without a lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-stall-watchdog", daemon=True)

    def watch(self, bus: Bus) -> None:
        """Watch the handler calls of ``bus`` (all the buses watched run on one loop's thread)."""
        if bus not in self._buses:
            self._buses = (*self._buses, bus)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; a slow call that ended since the last poll is still reported."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        call: _Call | None = None
        stopping = False
        while not stopping:
            stopping = self._stop.wait(self._poll)
            call = self._follow(call, running_handler(*self._buses), time.perf_counter())

    def _follow(self, call: _Call | None, stats: SubscriptionStats | None, now: float) -> _Call | None:
        """The call running now, given the one running at the previous poll; reports as calls end or hang."""
        if call is not None and stats is call.stats and stats.handled == call.number:
            call.last_seen = now
            if not call.hang_reported and now - call.first_seen >= self._hang_after:
                call.hang_reported = True
                self._on_hang(stats, now - call.first_seen)
            return call
        if call is not None and call.last_seen - call.first_seen >= self._threshold:
            self._on_slow(call.stats, call.last_seen - call.first_seen + self._poll)
        return _Call(stats, stats.handled, now, now) if stats is not None else None
