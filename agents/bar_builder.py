"""Trades -> time bars, so the bar strategies of a backtest run unchanged on a live trade feed.

Its own agent rather than part of the model state agent: the model state
agent consumes bars, whatever made them (a file, a feed's bar lines, this
builder), and keeps doing one job; the builder is wired in front of it only
when the input is trades.

Bars are buckets of ``interval`` aligned to the Unix epoch (UTC; daily bars
close at UTC midnight). A bar is labelled with its bucket's start (the
convention of bar files), holds the first, highest, lowest and last price
and the summed size of the instrument's trades in the bucket, and is
published on ``md.bar``:

* when a trade of the same instrument in a later bucket arrives, or
* by a timer at the bucket's end (+ ``grace``), read on the injected clock,
  so a quiet market still closes its bar. In replays the clock follows the
  loop's (dilated or virtual) time; the wall clock is never read here.
* on ``EndOfData`` (and :meth:`flush`), for whatever is still open.

An interval without trades makes no bar. A trade older than its
instrument's open bucket (out of order, or after the timer closed it) cannot
amend a published bar: it is counted in ``late`` and dropped.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from agents.base import Agent
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, EndOfData, Trade

_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
          "h": 3_600_000_000_000, "d": 86_400_000_000_000}
_INTERVAL = re.compile(r"^\s*(\d+)\s*(ns|us|ms|s|m|h|d)\s*$")


def parse_interval(text: str | int, allow_zero: bool = False) -> int:
    """``"1s"``, ``"5m"``, ``"250ms"``, ``"1h"``, ``"1d"`` (or integer ns) -> nanoseconds (> 0 unless ``allow_zero``)."""
    if isinstance(text, int) and not isinstance(text, bool):
        ns = text
    else:
        match = _INTERVAL.match(str(text))
        if match is None:
            raise ValueError(f"bar interval must look like 1s, 5m, 250ms, 1h or 1d, got {text!r}")
        ns = int(match.group(1)) * _UNITS[match.group(2)]
    if ns < 0 or (ns == 0 and not allow_zero):
        raise ValueError(f"bar interval must be positive, got {text!r}")
    return ns


class _OpenBar:
    __slots__ = ("bucket", "open", "high", "low", "close", "volume")

    def __init__(self, bucket: int, price: float, size: float) -> None:
        self.bucket = bucket
        self.open = self.high = self.low = self.close = price
        self.volume = size


class BarBuilderAgent(Agent):
    name = "bar_builder"

    def __init__(self, bus: Bus, clock: Callable[[], int], interval: str | int = "1m", grace: str | int = 0,
                 use_timer: bool = True) -> None:
        super().__init__(bus, clock)
        self.interval = parse_interval(interval)
        self.grace = parse_interval(grace, allow_zero=True)
        self.use_timer = use_timer
        self._open: dict[str, _OpenBar] = {}
        self._last_closed: dict[str, int] = {}  # instrument -> last published bucket
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0  # clock ns the pending timer is for
        self.bars = 0
        self.late = 0
        self.closed_by_timer = 0

    def attach(self) -> None:
        self.bus.subscribe(self.name, K.TRADE, self.on_trade)
        self.bus.subscribe(self.name, K.END_OF_DATA, self._on_end)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ------------------------------------------------------------ trades

    def on_trade(self, trade: Trade) -> None:
        bucket = trade.ts // self.interval
        bar = self._open.get(trade.instrument)
        if bar is not None and bucket == bar.bucket:
            price = trade.price
            if price > bar.high:
                bar.high = price
            elif price < bar.low:
                bar.low = price
            bar.close = price
            bar.volume += trade.size
            return
        if bar is not None:
            if bucket < bar.bucket:
                self.late += 1
                return
            self._emit(trade.instrument, bar)
        elif bucket < self._closed_through(trade.instrument):
            self.late += 1
            return
        self._open[trade.instrument] = _OpenBar(bucket, trade.price, trade.size)
        self._arm((bucket + 1) * self.interval + self.grace)

    def flush(self) -> None:
        """Publish every open bar now (end of data, shutdown)."""
        for instrument, bar in list(self._open.items()):
            self._emit(instrument, bar)
        self.stop()

    def _on_end(self, msg: EndOfData) -> None:
        self.flush()

    # ------------------------------------------------------------ emitting

    def _emit(self, instrument: str, bar: _OpenBar) -> None:
        del self._open[instrument]
        self._last_closed[instrument] = bar.bucket
        self.bars += 1
        self.bus.publish(K.BAR, Bar(ts=bar.bucket * self.interval, instrument=instrument, open=bar.open,
                                    high=bar.high, low=bar.low, close=bar.close, volume=bar.volume))

    def _closed_through(self, instrument: str) -> int:
        """Buckets up to this one are published for ``instrument``: a trade in them is late."""
        return self._last_closed.get(instrument, -1) + 1

    # ------------------------------------------------------------ the quiet-market timer

    def _arm(self, due_ns: int) -> None:
        if not self.use_timer:
            return
        if self._timer is not None:
            if self._timer_at <= due_ns:
                return
            self._timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # driven synchronously (a test, a backtest): trades and EndOfData close bars
            return
        self._timer_at = due_ns
        self._timer = loop.call_later(max(0.0, (due_ns - self.clock()) / 1e9), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        now = self.clock()
        due = [(i, b) for i, b in self._open.items() if (b.bucket + 1) * self.interval + self.grace <= now]
        for instrument, bar in due:
            self.closed_by_timer += 1
            self._emit(instrument, bar)
        if self._open:
            self._arm(min((b.bucket + 1) * self.interval + self.grace for b in self._open.values()))
