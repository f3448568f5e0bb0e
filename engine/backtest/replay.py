"""The replay loop of a backtest: bars published in time order, as fast as the CPU allows.

The driver sets the simulated clock to each bar's time before publishing it,
so every agent reads data time, never the wall. It yields to the event loop
between batches (a few thousand bars) so loop-lag monitors and other tasks
keep running during long replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sized
from itertools import islice
from typing import Any

from engine.data.columns import BarColumns
from engine.data.stream import column_batches
from engine.runtime.clocks import SimClock
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar

YIELD_EVERY = 4096


async def replay(bus: Bus, clock: SimClock, batches: Iterable[list[Bar]], halt: Sized = ()) -> int:
    """Publish every bar on ``md.bar`` in order, yielding to the loop between batches; returns how many.

    ``halt``: once it is non-empty (an agent failed and the run must stop),
    the replay ends after the bar being published.
    """
    publish_bar = bus.publisher(K.BAR)
    count = 0
    for batch in batches:
        for bar in batch:
            clock.ts = bar.ts
            publish_bar(bar)
            if halt:
                return count + next(i for i, b in enumerate(batch, 1) if b is bar)
        count += len(batch)
        await asyncio.sleep(0)
    return count


def batched(bars: Iterable[Bar], size: int = YIELD_EVERY) -> Iterator[list[Bar]]:
    """Lists of bars from any iterable (streams give their own batches; see ``as_batches``)."""
    iterator = iter(bars)
    while batch := list(islice(iterator, size)):
        yield batch


def as_batches(source: Any) -> Iterator[list[Bar]]:
    """Batches of a stream (its own), of columns held in memory (a sweep's cache) or of any iterable of bars."""
    if isinstance(source, BarColumns):
        return column_batches(source)
    batches = getattr(source, "batches", None)
    return batches() if batches is not None else batched(source)
