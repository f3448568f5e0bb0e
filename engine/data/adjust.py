"""``--adjust close``: prices scaled to an adjusted close, as yfinance's ``auto_adjust`` does.

A Yahoo-style export has the raw ``Open/High/Low/Close`` and an ``Adj Close``
that accounts for splits and dividends. Per row, ``ratio = adj_close /
close``; open, high and low are multiplied by it and close becomes
``adj_close`` (yfinance: ``utils.auto_adjust``). Volume is not changed. The
raw prices were checked against the market rules first; because
``adj_close`` and ``high * ratio`` are rounded separately, high and low are
then widened to take in open and close if rounding put them a step outside,
so the adjusted bar keeps ``low <= open, close <= high``.
"""

from __future__ import annotations

import numpy as np

from engine.data.columns import BarColumns


def to_adjusted_close(chunk: BarColumns, adj_close: np.ndarray) -> BarColumns:
    ratio = adj_close / chunk.close
    open_ = chunk.open * ratio
    close = adj_close.astype(np.float64, copy=True)
    high = np.maximum(chunk.high * ratio, np.maximum(open_, close))
    low = np.minimum(chunk.low * ratio, np.minimum(open_, close))
    return BarColumns(chunk.instrument, chunk.ts, open_, high, low, close, chunk.volume)
