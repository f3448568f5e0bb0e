"""The replay loop of a backtest: bars published in time order, as fast as the CPU allows.

The driver sets the simulated clock to each bar's time before publishing it,
so every agent reads data time, never the wall. It yields to the event loop
between batches (a few thousand bars) so loop-lag monitors and other tasks
keep running during long replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sized
from itertools import islice
from typing import Any

import numpy as np

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


def tapped_batches(source: Any, observe: Callable[[Any], Any]) -> Iterator[list[Bar]]:
    """``as_batches``, each chunk of columns shown to ``observe`` before its bars are replayed (the price tape).

    A stream gives its column chunks; a sweep's cached columns are shown
    whole; plain ``Bar`` iterables (tests, benchmarks) are turned into
    columns a batch at a time.
    """
    chunks = getattr(source, "chunks", None)
    if chunks is not None:
        from engine.data.stream import bars_of

        return (bars_of(observe(chunk)) for chunk in chunks())
    if hasattr(source, "ts") and hasattr(source, "high"):
        observe(source)
        return as_batches(source)
    return (observe(BatchColumns(batch)).bars for batch in batched(source))


class BatchColumns:
    """A list of ``Bar`` seen as columns (``instrument`` an array of names), keeping the bars."""

    def __init__(self, bars: list[Bar]) -> None:
        self.bars = bars
        self.instrument = np.array([b.instrument for b in bars], dtype=object)
        self.ts = np.fromiter((b.ts for b in bars), dtype=np.int64, count=len(bars))
        for name in ("open", "high", "low", "close"):
            setattr(self, name, np.fromiter((getattr(b, name) for b in bars), dtype=np.float64, count=len(bars)))
