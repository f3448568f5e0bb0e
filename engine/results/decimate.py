"""A long series kept as at most a few thousand OHLC buckets, whatever its length: what a chart can show.

Buckets hold a power-of-two number of rows: when there are twice the
target, neighbours are merged and the width doubles. Each bucket keeps its
first timestamp, first, highest, lowest and last value, so the extremes of
the series (the price range, the deepest drawdown) survive any amount of
down-sampling. Memory is bounded; every row is looked at once, a chunk at a time.
"""

from __future__ import annotations

import numpy as np


class Decimator:
    """Append chunks of (ts, open, high, low, close); read ``buckets()`` at any time."""

    def __init__(self, points: int = 2000) -> None:
        self.points = points
        self.width = 1  # rows a bucket holds
        self._filled = 0  # rows in the last bucket
        self._ts = np.empty(0, dtype=np.int64)
        self._o = np.empty(0)
        self._h = np.empty(0)
        self._l = np.empty(0)
        self._c = np.empty(0)

    def add(self, ts: np.ndarray, o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray) -> None:
        n = len(ts)
        if not n:
            return
        start = 0
        if self._filled and self._filled < self.width:  # top up the last bucket
            take = min(n, self.width - self._filled)
            self._h[-1] = max(self._h[-1], h[:take].max())
            self._l[-1] = min(self._l[-1], low[:take].min())
            self._c[-1] = c[take - 1]
            self._filled += take
            start = take
        if start < n:
            at = np.arange(start, n, self.width)
            self._ts = np.concatenate((self._ts, ts[at]))
            self._o = np.concatenate((self._o, o[at]))
            self._h = np.concatenate((self._h, np.maximum.reduceat(h[start:], at - start)))
            self._l = np.concatenate((self._l, np.minimum.reduceat(low[start:], at - start)))
            ends = np.append(at[1:], n) - 1
            self._c = np.concatenate((self._c, c[ends]))
            self._filled = n - at[-1]
        while len(self._ts) > 2 * self.points:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        full = len(self._ts) // 2 * 2
        keep_last = len(self._ts) % 2  # an odd last bucket stays as it is, now part-filled at twice the width
        ts, o, c = self._ts[:full:2], self._o[:full:2], self._c[1:full:2]
        h = np.maximum(self._h[:full:2], self._h[1:full:2])
        low = np.minimum(self._l[:full:2], self._l[1:full:2])
        if keep_last:
            ts, o, c = np.append(ts, self._ts[-1]), np.append(o, self._o[-1]), np.append(c, self._c[-1])
            h, low = np.append(h, self._h[-1]), np.append(low, self._l[-1])
        else:
            self._filled += self.width  # the last pair: its first bucket was full
        self._ts, self._o, self._h, self._l, self._c = ts, o, h, low, c
        self.width *= 2

    def buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ts, open, high, low, close) of every bucket, oldest first."""
        return self._ts, self._o, self._h, self._l, self._c
