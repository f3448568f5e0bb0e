"""The control server on a thread of its own, so the operator reaches a daemon whose strategy is slow.

A strategy that takes 200 ms a bar holds the event loop for 200 ms at a
time; a control server on that loop would answer ``/health`` only between
bars. Here the server runs its own small asyncio loop on a thread, and
touches the daemon only through thread-safe calls:

* ``/health`` is answered at once, with how long ago the daemon's loop last
  ran a tick (``loop_idle_s``) -- the honest answer about a blocked loop;
* ``/status`` and ``/ws`` ask the daemon's loop for a snapshot
  (``call_soon_threadsafe``) and wait up to ``fresh_within`` seconds (0.5);
  a loop that does not answer in time gets the previous snapshot, marked
  ``stale``;
* ``/stop`` sets the daemon's stop flag at once (from this thread the
  backlog stops flowing to the strategy immediately) and posts the stop to
  its loop.

This is the one place a second event loop runs in the process; it carries
no agent and publishes nothing on any bus.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.daemon.control import ControlServer


class LoopSnapshots:
    """Snapshots taken on the daemon's loop, fetched from another thread with a deadline."""

    def __init__(self, loop: asyncio.AbstractEventLoop, take: Callable[[], dict[str, Any]],
                 fresh_within: float = 0.5) -> None:
        self.loop = loop
        self.take = take
        self.fresh_within = fresh_within
        self.last: dict[str, Any] = {}
        self.last_at = 0.0

    async def __call__(self) -> dict[str, Any]:
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()

        def take() -> None:
            if not future.done():
                try:
                    future.set_result(self.take())
                except Exception as exc:  # pragma: no cover - a status source failing
                    future.set_exception(exc)

        try:
            self.loop.call_soon_threadsafe(take)
            snap = await asyncio.wait_for(asyncio.wrap_future(future), self.fresh_within)
        except (TimeoutError, RuntimeError):  # the daemon's loop is busy (or closed): the last one, said to be old
            return {**self.last, "stale": True, "stale_s": round(time.monotonic() - self.last_at, 3)}
        self.last, self.last_at = snap, time.monotonic()
        return snap


class ControlThread:
    """Runs a :class:`ControlServer` on its own thread and loop; ``start``/``close`` from the daemon's loop."""

    def __init__(self, make_server: Callable[[], ControlServer]) -> None:
        self._make_server = make_server
        self.server: ControlServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._closed: asyncio.Event | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="control", daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, self._ready.wait)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._closed = asyncio.Event()
        try:
            self.server = self._make_server()
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._closed.wait()
        await self.server.close()

    async def close(self) -> None:
        if self._thread is None:
            return
        loop, closed = self._loop, self._closed
        if loop is not None and closed is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(closed.set)
            except RuntimeError:
                pass
        thread, self._thread = self._thread, None
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 5.0)
