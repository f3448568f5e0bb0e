"""One input series of one instrument: a bar field (or its squares, for std).

It keeps the history on a :class:`RingBuffer` and, once an exact-sum indicator
asks for it, exact prefix sums of the scaled values: the scaled int of each
value is computed once per bar and shared by every SMA/std on the series; a
window sum is then one subtraction, ``total - prefix[pos - period]``.
"""

from __future__ import annotations

import math

from agents.model_state.exact_sum import SCALE, TINY
from agents.model_state.ring import DEFAULT_BLOCK, RingBuffer

NAN = math.nan
_trunc = math.trunc


class Source:
    __slots__ = (
        "history", "last", "count", "summed", "run", "total", "prefix", "pos", "squares", "_pending",
        "_block",
    )

    def __init__(self, capacity: int, block: int = DEFAULT_BLOCK) -> None:
        self.history = RingBuffer(capacity, block)
        self._pending = self.history.pending  # hot path appends here directly
        self._block = block
        self.last = NAN  # the newest value
        self.count = 0  # values pushed
        self.summed = False
        self.run = 0  # values since the last one without an exact scaled int (or since sums began)
        self.total = 0  # exact sum of every scaled value since sums began
        self.prefix = [0] * (capacity + 1)  # prefix[pos] == total; prefix[pos - p]: total p values ago
        self.pos = 0
        self.squares: Source | None = None

    @property
    def capacity(self) -> int:
        return self.history.capacity

    def enable_sums(self) -> None:
        """Start exact prefix sums, or restart the exact path when a new indicator joins.

        ``run`` drops to 0, so for the next ``period`` bars every window uses the
        fsum fallback (same values, slower). In exchange an SMA's fast path
        needs one test, ``run >= period``, which also proves that the SMA has
        seen ``period`` values since it was created.
        """
        self.summed = True
        self.run = 0

    def enable_squares(self) -> Source:
        """A companion series fed with ``x ** 2`` (backtrader's ``pow(data, 2)``), for std."""
        if self.squares is None:
            self.squares = Source(self.capacity, self._block)
        return self.squares

    def push(self, x: float) -> None:
        self.last = x
        self.count += 1
        pending = self._pending
        pending.append(x)
        if len(pending) >= self._block:
            self.history.flush()
        if self.summed:
            if x >= TINY or x <= -TINY or x == 0.0:  # see exact_sum.scaled, inlined
                try:
                    self.total += _trunc(x * SCALE)
                    self.run += 1
                except OverflowError:
                    self.run = 0
            else:
                self.run = 0
            prefix = self.prefix
            pos = self.pos + 1
            if pos == len(prefix):
                pos = 0
            prefix[pos] = self.total
            self.pos = pos
        if self.squares is not None:
            self.squares.push(x**2)

    def mean(self, period: int) -> float:
        """``math.fsum(last period values) / period`` exactly; NaN while fewer values are held."""
        if self.run >= period:
            try:
                return (self.total - self.prefix[self.pos - period]) / (period * SCALE)
            except OverflowError:  # window sum beyond float range once scaled: let fsum decide
                pass
        if len(self.history) < period:
            return NAN
        return math.fsum(self.history.last(period).tolist()) / period

    def grow(self, capacity: int) -> None:
        """Raise the capacity keeping history and prefix sums in time order."""
        if capacity <= self.capacity:
            return
        self.history.grow(capacity)
        self.run = 0  # the zero padding below must never be read as a prefix
        old, pos = self.prefix, self.pos
        ordered = old[pos + 1 :] + old[: pos + 1]  # oldest .. newest (== total)
        self.prefix = [0] * (capacity + 1 - len(ordered)) + ordered
        self.pos = capacity
        if self.squares is not None:
            self.squares.grow(capacity)
