"""A bounded inbox drained by one long-lived consumer task: the live delivery style.

Conflation, when the consumer lags. A message whose ``conflate(key, msg)``
returns a token (market data: one per type and instrument) may be replaced
by a newer one with the same token. Below ``maxsize`` nothing is replaced:
a consumer that keeps up sees every message in order. When the inbox fills,
it *compacts*: every queued market-data item but the newest of its token is
dropped, and until the consumer has emptied the inbox a new message replaces
its token's queued item in place instead of queuing behind it. So a lagging
strategy always gets the newest bar of each instrument next, never the
oldest of a backlog, and its lag behind the feed stays bounded by one pass
over the instruments. Dropped and replaced messages are counted
(``conflated``). Messages without a token (orders, fills, commands) are
never dropped; past ``maxsize`` they are still queued, and counted as
``overflow`` so the gauge shows the pressure.

The consumer yields to the loop whenever it has run for ``yield_after``
seconds since it last did (and at least every 64 messages), so one slow
handler call (a strategy taking 200 ms a bar) costs the loop one call, not a
batch of them: signals, timers and the control plane get their turn.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

YIELD_AFTER = 0.005  # seconds of handler time before the consumer lets the loop run


class Inbox:
    def __init__(self, agent: str, maxsize: int, conflate: Callable[[Any, Any], Any] | None, log: Any,
                 yield_after: float = YIELD_AFTER) -> None:
        self.agent = agent
        self.maxsize = maxsize
        self.yield_after = yield_after
        self._conflate = conflate
        self._log = log
        self._items: deque[list[Any]] = deque()  # each item: [key, msg, token]
        self._pending: dict[Any, list[Any]] = {}  # token -> its newest queued item
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.deliver: Callable[[Any, Any], None] = lambda key, msg: None
        self.conflating = False  # compacted since the consumer last caught up: replace in place
        self.conflated = 0
        self.compactions = 0
        self.overflow = 0
        self.max_depth = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: Any, msg: Any) -> None:
        """Called synchronously by the hub's publish."""
        token = self._conflate(key, msg) if self._conflate is not None else None
        if token is not None:
            if not self.conflating and len(self._items) >= self.maxsize:
                self._compact()
            if self.conflating:
                item = self._pending.get(token)
                if item is not None:
                    item[0] = key
                    item[1] = msg
                    self._counted(1)
                    return
        if len(self._items) >= self.maxsize:
            self.overflow += 1
        item = [key, msg, token]
        if token is not None:
            self._pending[token] = item
        self._items.append(item)
        if len(self._items) > self.max_depth:
            self.max_depth = len(self._items)
        self._ready.set()

    def _compact(self) -> None:
        """Keep the newest queued item of each token (and every untokened one), in queue order."""
        pending = self._pending
        kept = deque(item for item in self._items if item[2] is None or pending.get(item[2]) is item)
        dropped = len(self._items) - len(kept)
        self._items = kept
        self.conflating = True
        self.compactions += 1
        self._counted(dropped)

    def _counted(self, n: int) -> None:
        before = self.conflated
        self.conflated += n
        if before == 0 or before // 10_000 != self.conflated // 10_000:
            self._log.warning("Inbox of %s is full: conflated %d market data messages (newest per instrument kept)",
                              self.agent, self.conflated)

    def drop_market_data(self) -> int:
        """Forget every queued conflatable message (a stop: the backlog is not worth delivering); returns the count."""
        kept = deque(item for item in self._items if item[2] is None)
        dropped = len(self._items) - len(kept)
        self._items = kept
        self._pending.clear()
        return dropped

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"inbox:{self.agent}")

    async def _run(self) -> None:
        pending = self._pending
        clock = time.perf_counter
        since_yield = clock()
        burst = 0
        while True:
            items = self._items  # compaction replaces the deque
            if not items:
                self.conflating = False  # caught up: deliver every message again
                self._ready.clear()
                await self._ready.wait()
                since_yield = clock()
                burst = 0
                continue
            item = items.popleft()
            token = item[2]
            if token is not None and pending.get(token) is item:
                del pending[token]
            self.deliver(item[0], item[1])  # guarded: never raises
            burst += 1
            if burst >= 64 or clock() - since_yield >= self.yield_after:
                await asyncio.sleep(0)
                since_yield = clock()
                burst = 0

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
