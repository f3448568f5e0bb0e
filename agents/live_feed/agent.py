"""The live input agent: one TCP connection at a time, lines decoded and published as they arrive.

Lines are handled inside the protocol's ``data_received`` (no task hop, no
per-line await) so a line reaches the strategy within the same loop callback
that read it. A supervisor task owns the connection: connect, wait for it to
drop, sleep the backoff delay, reconnect -- until :meth:`close`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import logwood
import msgspec

from agents.base import Agent
from agents.live_feed.backoff import Backoff
from agents.live_feed.wire import decode_line, parse_tcp_url
from hub.bus import Bus
from hub.market_rules import MarketDataCheck

SHOWN = 200  # characters of a bad line kept in the log
LOG_FIRST = 20  # malformed lines logged one by one, then one in LOG_EVERY
LOG_EVERY = 1000


class FeedStats:
    """What the feed has seen; read by the status collector and tests."""

    __slots__ = ("lines", "published", "malformed", "truncated", "too_long", "refused", "connects", "disconnects",
                 "connect_failures", "connected", "last_error", "last_bad_line")

    def __init__(self) -> None:
        self.lines = 0
        self.published = 0
        self.malformed = 0
        self.truncated = 0
        self.too_long = 0
        self.refused = 0  # well-formed lines that break the market-data rules (hub.market_rules)
        self.connects = 0
        self.disconnects = 0
        self.connect_failures = 0
        self.connected = False
        self.last_error = ""
        self.last_bad_line = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class _LineProtocol(asyncio.Protocol):
    """Splits the byte stream on newlines; a line longer than ``max_line`` is dropped up to its newline."""

    def __init__(self, on_line: Callable[[bytes, bool], None], on_too_long: Callable[[bytes], None],
                 max_line: int) -> None:
        self._on_line = on_line
        self._on_too_long = on_too_long
        self._max_line = max_line
        self._tail = b""
        self._discarding = False
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            cut = data.find(b"\n")
            if cut < 0:
                return
            self._discarding = False
            data = data[cut + 1:]
        lines = (self._tail + data).split(b"\n") if self._tail else data.split(b"\n")
        self._tail = lines.pop()
        on_line = self._on_line
        for line in lines:
            on_line(line, True)
        if len(self._tail) > self._max_line:
            self._on_too_long(self._tail)
            self._tail = b""
            self._discarding = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._tail and not self._discarding:
            tail, self._tail = self._tail, b""
            self._on_line(tail, False)
        if not self.closed.done():
            self.closed.set_result(exc)


class LiveFeedAgent(Agent):
    """Reads ``tcp://HOST:PORT`` and publishes each line's Trade / Quote / Bar on its key."""

    name = "live_feed"

    def __init__(self, bus: Bus, clock: Callable[[], int], url: str, backoff: Backoff | None = None,
                 max_line: int = 65_536, connect_timeout: float = 5.0) -> None:
        super().__init__(bus, clock)
        self.url = url
        self.host, self.port = parse_tcp_url(url)
        self.backoff = backoff or Backoff()
        self.max_line = max_line
        self.connect_timeout = connect_timeout
        self.stats = FeedStats()
        self.rules = MarketDataCheck()  # per instrument time order: one per connection's stream, kept across reconnects
        self.line_read_at = 0.0  # perf_counter() when the line being published was read: latency probes
        self.connected = asyncio.Event()
        self._log = logwood.get_logger(self.name)
        self._task: asyncio.Task[None] | None = None
        self._transport: asyncio.Transport | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._supervise(), name="live_feed")

    def stop(self) -> None:
        """Stop reading now (sync): close the connection and the supervisor."""
        if self._transport is not None:
            self._transport.close()
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """Stop reading and wait until the supervisor has finished."""
        self.stop()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    # ------------------------------------------------------------ connection

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            protocol = _LineProtocol(self._on_line, self._on_too_long, self.max_line)
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_connection(lambda p=protocol: p, self.host, self.port), self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                self.stats.connect_failures += 1
                self.stats.last_error = repr(exc)
                delay = self.backoff.next()
                self._log.warning("Feed %s unreachable (%s); retrying in %.3f s", self.url, repr(exc), delay)
                await asyncio.sleep(delay)
                continue
            self._transport = transport  # type: ignore[assignment]
            self.stats.connects += 1
            self.stats.connected = True
            self.connected.set()
            lines_before = self.stats.published
            self._log.info("Feed %s connected", self.url)
            try:
                exc = await protocol.closed
            finally:
                transport.close()
                self._transport = None
                self.stats.connected = False
                self.connected.clear()
            self.stats.disconnects += 1
            if exc is not None:
                self.stats.last_error = repr(exc)
            if self.stats.published > lines_before:
                self.backoff.reset()  # it was healthy: start the schedule again
            delay = self.backoff.next()
            self._log.warning("Feed %s disconnected (%s); reconnecting in %.3f s", self.url, repr(exc), delay)
            await asyncio.sleep(delay)

    # ------------------------------------------------------------ lines

    def _on_line(self, line: bytes, complete: bool) -> None:
        self.line_read_at = time.perf_counter()
        if len(line) > self.max_line:
            self._on_too_long(line)
            return
        if not line.strip():
            return
        stats = self.stats
        stats.lines += 1
        try:
            key, msg = decode_line(line)
        except (msgspec.DecodeError, ValueError, OverflowError) as exc:
            if complete:
                self._bad(line, str(exc))
            else:
                stats.truncated += 1
                self._bad(line, "truncated by disconnect: " + str(exc))
            return
        bad = self.rules.check(msg)
        if bad is not None:
            stats.refused += 1
            if self.rules.first_of_its_kind(bad):
                shown = _shown(line)
                self.rules.samples[bad.rule] = shown
                self._log.warning("Feed message refused (%s: %s), first of its kind; counted from now on: %r",
                                  bad.rule, bad.detail, shown)
            return
        stats.published += 1
        try:
            self.bus.publish(key, msg)
        except Exception as exc:  # handlers are guarded; this is a last resort so the connection survives
            self._log.error("Publishing a feed message failed: %s", repr(exc))

    def _on_too_long(self, head: bytes) -> None:
        self.stats.lines += 1
        self.stats.too_long += 1
        self._bad(head, f"line longer than {self.max_line} bytes")

    def _bad(self, line: bytes, reason: str) -> None:
        stats = self.stats
        stats.malformed += 1
        shown = _shown(line)
        stats.last_bad_line = shown
        if stats.malformed <= LOG_FIRST or stats.malformed % LOG_EVERY == 0:
            self._log.warning("Malformed feed line #%d skipped (%s): %r", stats.malformed, reason, shown)


def _shown(line: bytes) -> str:
    return line[:SHOWN].decode("utf-8", "replace") + ("..." if len(line) > SHOWN else "")
