"""One input series of one instrument: a bar field, or an indicator's output that another indicator reads.

It holds the last ``capacity`` values, so memory stays flat however long the
history. They sit in one float array with at least ``capacity`` slots to
spare: a push writes one slot, and when the array's end is reached the
values still needed move to its front (at most one value copied per push,
amortized). So the values held are always one contiguous run, oldest first,
and ``last(n)`` is a view, not a copy.

``store`` is the array as a Python object (for views); ``data`` is the same
array, which compiled code reads and writes as C doubles.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

NAN = math.nan
MIN_SPARE = 64  # pushes between two moves at least, however small the capacity


class Series:
    """``push(x)`` each bar; ``latest``, ``ago(k)`` and ``last(n)`` read what was pushed."""

    def __init__(self, capacity) -> None:
        if capacity < 1:
            raise ValueError(f"a series needs capacity >= 1, got {capacity}")
        self.capacity = capacity  # values held at most (int)
        self.count = 0  # values pushed since the series began
        self.held = 0  # values held: the newest ones, at most capacity
        self.latest = NAN  # the newest value
        self.store = array("d", bytes(8 * (capacity + max(capacity, MIN_SPARE))))
        self.data = self.store  # the same array (typed for compiled code)
        self.end = 0  # data[end - 1] is the newest value, data[end - held : end] all held

    def __len__(self) -> int:
        """How many values are held: every value pushed, up to the capacity."""
        return self.held

    def push(self, x: float) -> None:
        end = self.end
        if end == len(self.data):
            end = self._move_to_front(min(self.held, self.capacity - 1))
        self.data[end] = x
        self.end = end + 1
        self.count += 1
        if self.held < self.capacity:
            self.held += 1
        self.latest = x

    def ago(self, k) -> float:
        """The value pushed ``k`` pushes before the newest (0: the newest)."""
        if not 0 <= k < self.held:
            raise IndexError(f"a series holding {self.held} values has none {k} pushes ago")
        return self.data[self.end - 1 - k]

    def last(self, n) -> np.ndarray:
        """Read-only view of the last ``n`` values, oldest first (valid until the next push)."""
        if not 0 <= n <= self.held:
            raise ValueError(f"a series holding {self.held} values was asked for the last {n}")
        view = np.frombuffer(self.store, dtype=np.float64)[self.end - n : self.end]
        view.flags.writeable = False
        return view

    def values(self) -> np.ndarray:
        """Every value held, oldest first (a read-only view)."""
        return self.last(self.held)

    def grow(self, capacity) -> None:
        """Raise the capacity (a longer period was asked for), keeping the values held."""
        if capacity <= self.capacity:
            return
        kept = self.values().copy()
        self.capacity = capacity
        self.store = array("d", bytes(8 * (capacity + max(capacity, MIN_SPARE))))
        self.data = self.store
        self.end = 0
        for x in kept:
            self.data[self.end] = x
            self.end += 1

    def _move_to_front(self, keep) -> int:
        """Move the newest ``keep`` values to the front of the array; where the next value goes."""
        data = self.data
        start = self.end - keep
        for i in range(keep):  # front to back: the source is always ahead of the destination
            data[i] = data[start + i]
        self.end = keep
        return keep
