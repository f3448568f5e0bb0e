"""Replay-as-live: historical events published with their original spacing, in loop time.

On a :class:`~engine.runtime.loops.DilatedLoop` at dilation X the spacing shrinks X
times in real time; on the virtual loop it costs nothing; either way the
events, and the timers of every agent, keep their order. Each event waits
for its own absolute due time (no drift from accumulated sleeps) and the
data clock (:class:`~engine.runtime.clocks.LoopClock`) is anchored at the first
event, so agents reading the clock see data time.

Inputs: CSV bar files (engine.data), and NDJSON captures of the live
feed (``*.ndjson`` / ``*.jsonl``, the live feed's schema), merged in time order.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import logwood

from agents.live_feed.wire import decode_line
from engine.runtime.clocks import LoopClock
from hub import keys as K
from hub.bus import Bus
from hub.market_rules import MarketDataCheck

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
YIELD_EVERY = 256  # events published back to back before letting the loop run (when none is due later)


def ndjson_events(path: str | Path) -> Iterator[tuple[Any, Any]]:
    """(key, message) per line of a captured feed; bad lines, and messages the live feed would refuse
    (:mod:`hub.market_rules`), are logged and skipped, as live."""
    log = logwood.get_logger("replay")
    rules = MarketDataCheck()
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                key, msg = decode_line(line)
            except ValueError as exc:
                log.warning("%s:%d: malformed line skipped (%s)", str(path), number, str(exc))
                continue
            bad = rules.check(msg)
            if bad is not None:
                if rules.first_of_its_kind(bad):
                    log.warning("%s:%d: field %r: %s (skipped; the first of its kind)", str(path), number,
                                bad.field, bad.detail)
                continue
            yield key, msg


def replay_events(paths: Iterable[str], format: str = "auto", skip_bad: bool = False,  # noqa: A002
                  **reading: Any) -> Iterator[tuple[Any, Any]]:
    """Every event of ``paths`` as (key, message), in time order; ``reading``: the other ``[data]`` keys."""
    paths = list(paths)
    captures = [p for p in paths if Path(p).suffix.lower() in NDJSON_SUFFIXES]
    bar_files = [p for p in paths if p not in captures]
    streams: list[Iterator[tuple[Any, Any]]] = [ndjson_events(p) for p in captures]
    if bar_files:
        from engine.data import open_stream

        stream = open_stream(bar_files, format=format, skip_bad=skip_bad, **reading)
        streams.append((K.BAR, bar) for bar in stream)
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda event: event[1].ts)


class ReplaySource:
    name = "replay"

    def __init__(self, bus: Bus, clock: LoopClock, events: Iterable[tuple[Any, Any]]) -> None:
        self.bus = bus
        self.clock = clock
        self._events = iter(events)
        self.published = 0
        self.skipped_before = 0

    async def run(self, after_ts: int | None = None) -> int:
        """Publish every event (those at or before ``after_ts`` are skipped: a resumed run); returns the count."""
        loop = asyncio.get_running_loop()
        publish = self.bus.publish
        clock = self.clock
        anchored = False
        burst = 0
        for key, msg in self._events:
            if after_ts is not None and msg.ts <= after_ts:
                self.skipped_before += 1
                continue
            if not anchored:
                clock.anchor(msg.ts, loop)
                anchored = True
            delay = clock.loop_time_of(msg.ts) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                burst = 0
            else:
                burst += 1
                if burst >= YIELD_EVERY:
                    burst = 0
                    await asyncio.sleep(0)
            publish(key, msg)
            self.published += 1
        return self.published
