"""Bars as columns: the one holder of parsed data, from the parsers through the merge to the sweep's cache.

Parsing (file -> columns) is kept apart from streaming (columns -> ``Bar``
messages) so a sweep can parse once, cache the arrays and replay many times.
A file's chunk names one instrument; a merged chunk of several files names
one per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
ARRAY_FIELDS = ("ts", *PRICE_FIELDS)


@dataclass(frozen=True, eq=False)
class BarColumns:
    """Bars as arrays: ``ts`` int64 ns since the epoch (UTC), prices and volume float64.

    ``instrument``: one name for every row (a file's chunk), or an object
    array with each row's name (rows of several files, merged).
    """

    instrument: str | np.ndarray
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.size)

    @property
    def nbytes(self) -> int:
        arrays = [getattr(self, name) for name in ARRAY_FIELDS]
        if isinstance(self.instrument, np.ndarray):
            arrays.append(self.instrument)
        return sum(a.nbytes for a in arrays)

    @property
    def instrument_name(self) -> str:
        """The instrument, or the distinct ones joined by '+' when the rows name several."""
        if isinstance(self.instrument, str):
            return self.instrument
        return "+".join(dict.fromkeys(self.instrument.tolist())) or "?"

    def take(self, rows: np.ndarray | slice) -> BarColumns:
        """A subset of the rows (a slice is a view, an index array a copy)."""
        names = self.instrument if isinstance(self.instrument, str) else self.instrument[rows]
        return BarColumns(names, *(getattr(self, name)[rows] for name in ARRAY_FIELDS))

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
            instrument, *(np.concatenate([getattr(p, name) for p in parts]) for name in ARRAY_FIELDS)
        )
