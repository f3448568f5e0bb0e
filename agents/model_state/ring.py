"""Fixed-capacity float history on a preallocated numpy array.

Why appends are buffered in blocks: writing one numpy element from Python
costs ~0.06-0.1 us, more than a whole incremental SMA update, while a Python
``list.append`` costs ~0.02 us. So :meth:`append` collects values in a small
list and copies them into the array with one slice assignment every ``block``
values, or when a view is asked for. The array has ``capacity + block``
slots; when its tail is full the last ``capacity`` values move to the front
(one memmove per block), so the last ``n`` values are always one contiguous
view in time order and an append is O(1) amortized whatever the history.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_BLOCK = 256


class RingBuffer:
    """The last ``capacity`` floats appended, oldest first."""

    __slots__ = ("capacity", "block", "pending", "_arr", "_end", "_held")

    def __init__(self, capacity: int, block: int = DEFAULT_BLOCK) -> None:
        if capacity < 1 or block < 1:
            raise ValueError(f"RingBuffer needs capacity >= 1 and block >= 1, got {capacity}, {block}")
        self.capacity = capacity
        self.block = block
        # Appended, not yet in the array. Callers on a hot path may append to
        # it directly, but must call flush() once it holds ``block`` values.
        self.pending: list[float] = []
        self._arr = np.empty(capacity + block, dtype=np.float64)
        self._end = 0  # _arr[:_end] holds flushed values, the newest at _end - 1
        self._held = 0  # flushed values still held (<= capacity), the last _held before _end

    def append(self, x: float) -> None:
        pending = self.pending
        pending.append(x)
        if len(pending) >= self.block:
            self.flush()

    def flush(self) -> None:
        """Copy the pending values into the array (keeps the pending list object)."""
        pending = self.pending
        if pending:
            self.extend(pending)
            pending.clear()

    def extend(self, values: Sequence[float] | np.ndarray) -> None:
        """Copy ``values`` in after the pending ones (flush first); a compiled caller's own block, as an array."""
        if self.pending and values is not self.pending:
            self.flush()
        k = len(values)
        if not k:
            return
        cap = self.capacity
        if k > cap:
            values = values[k - cap:]
            k = cap
        arr = self._arr
        end = self._end
        held = self._held
        if end + k > len(arr):
            keep = min(held, cap - k)
            arr[:keep] = arr[end - keep : end]  # numpy copies overlapping slices correctly
            end = keep
        arr[end : end + k] = values
        self._end = end + k
        self._held = min(held + k, cap)

    def __len__(self) -> int:
        return min(self._held + len(self.pending), self.capacity)

    def last(self, n: int) -> np.ndarray:
        """Read-only view of the last ``n`` values, oldest first (valid until the next append)."""
        if not 0 <= n <= len(self):
            raise ValueError(f"RingBuffer holds {len(self)} values, asked for the last {n}")
        self.flush()
        view = self._arr[self._end - n : self._end]
        view.flags.writeable = False
        return view

    def values(self) -> np.ndarray:
        return self.last(len(self))

    def grow(self, capacity: int) -> None:
        """Raise the capacity, keeping the values held (used when a longer period is requested)."""
        if capacity <= self.capacity:
            return
        self.flush()
        kept = self.last(len(self)).copy()
        self.capacity = capacity
        self._arr = np.empty(capacity + self.block, dtype=np.float64)
        self._arr[: len(kept)] = kept
        self._end = self._held = len(kept)
