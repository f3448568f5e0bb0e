"""A bounded inbox drained by one long-lived consumer task: the live delivery style.

Market data may be conflated when the consumer lags: past ``maxsize`` a new
message whose ``conflate(key, msg)`` returns a token replaces the pending
message with the same token in place (latest per instrument wins), and the
replacement is counted. Messages without a token (orders, fills, commands) are
never dropped; they are queued even past ``maxsize``, and counted as overflow
so the gauge shows the pressure.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any


class Inbox:
    def __init__(self, agent: str, maxsize: int, conflate: Callable[[Any, Any], Any] | None, log: Any) -> None:
        self.agent = agent
        self.maxsize = maxsize
        self._conflate = conflate
        self._log = log
        self._items: deque[list[Any]] = deque()  # each item: [key, msg, token]
        self._pending: dict[Any, list[Any]] = {}  # token -> its queued item
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.deliver: Callable[[Any, Any], None] = lambda key, msg: None
        self.conflated = 0
        self.overflow = 0
        self.max_depth = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: Any, msg: Any) -> None:
        """Called synchronously by the hub's publish."""
        token = self._conflate(key, msg) if self._conflate is not None else None
        if len(self._items) >= self.maxsize:
            if token is not None:
                item = self._pending.get(token)
                if item is not None:
                    item[0] = key
                    item[1] = msg
                    self.conflated += 1
                    if self.conflated == 1 or self.conflated % 1000 == 0:
                        self._log.warning("Inbox of %s is full: conflated %d market data messages", self.agent, self.conflated)
                    return
            self.overflow += 1
        item = [key, msg, token]
        if token is not None:
            self._pending[token] = item
        self._items.append(item)
        if len(self._items) > self.max_depth:
            self.max_depth = len(self._items)
        self._ready.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"inbox:{self.agent}")

    async def _run(self) -> None:
        items = self._items
        pending = self._pending
        while True:
            if not items:
                self._ready.clear()
                await self._ready.wait()
                continue
            item = items.popleft()
            token = item[2]
            if token is not None and pending.get(token) is item:
                del pending[token]
            self.deliver(item[0], item[1])  # guarded: never raises
            # Yield now and then so one busy inbox cannot starve the loop.
            if len(items) % 64 == 0:
                await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
