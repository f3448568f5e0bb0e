"""Bars as columns: the unit the parsers produce and the future binary cache stores.

Parsing (file -> columns) is kept apart from streaming (columns -> ``Bar``
messages) so a sweep can parse once, cache the arrays and replay many times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class BarColumns:
    """One instrument's bars: ``ts`` int64 ns since the epoch (UTC), prices and volume float64."""

    instrument: str
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.size)

    def take(self, rows: np.ndarray | slice) -> BarColumns:
        """A subset of the rows (a slice is a view, an index array a copy)."""
        return BarColumns(
            self.instrument,
            self.ts[rows],
            self.open[rows],
            self.high[rows],
            self.low[rows],
            self.close[rows],
            self.volume[rows],
        )

    @staticmethod
    def concat(instrument: str, parts: list[BarColumns]) -> BarColumns:
        """Join consecutive chunks of one file."""
        if not parts:
            empty_f = np.empty(0, dtype=np.float64)
            return BarColumns(
                instrument, np.empty(0, dtype=np.int64), empty_f, empty_f, empty_f, empty_f, empty_f
            )
        if len(parts) == 1:
            return parts[0]
        return BarColumns(
            instrument,
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("ts", "open", "high", "low", "close", "volume")
            ),
        )
