"""What the statistics and the report need from the bars, taken a column chunk at a time beside the replay.

The replay publishes ``Bar`` messages built from column chunks; the tape
sees each chunk's arrays once, before its bars are replayed, and works on
them a chunk later, when every fill of those bars is known:

* each round trip's price range while it was open (MAE/MFE) and the bars it
  was held (round trips come from :class:`~engine.results.trades.RoundTrips`);
* the exposure: timestamps at which some position was open, entry bar to
  exit bar inclusive, as backtesting.py counts it;
* per instrument the first and last close (buy and hold) and a down-sampled
  OHLC series for the report's price chart (:mod:`engine.results.decimate`).

No per-bar Python work and bounded memory: the chunk arrays are numpy, one
chunk is held at a time, and the price series are capped.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .decimate import Decimator
from .trades import RoundTrips, Trade

PRICE_POINTS = 2000  # buckets per instrument in prices.csv


@dataclass
class Instrument:
    first_close: float
    last_close: float = 0.0
    bars: int = 0
    chart: Decimator = field(default_factory=lambda: Decimator(PRICE_POINTS))


class PriceTape:
    """``observe`` each chunk as the replay takes it; ``finish`` after the last bar. ``sync`` hands over the fills."""

    def __init__(self, trades: RoundTrips, sync: Callable[[], None] = lambda: None,
                 settled: Callable[[list[Trade]], None] = lambda trades: None) -> None:
        self.trades = trades
        self.sync = sync  # delivers every fill recorded so far to ``trades``
        self.settled = settled  # gets closed round trips once every bar they were open through is seen, in closing order
        self.instruments: dict[str, Instrument] = {}
        self.timestamps = 0  # distinct timestamps seen
        self.exposed = 0  # of which some position was open
        self._last_ts: int | None = None
        self._held: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._unsettled: list[Trade] = []

    def observe(self, chunk):
        """Take a chunk of columns (``BarColumns`` or a merged chunk); returns it unchanged."""
        self._settle()
        names = chunk.instrument
        if isinstance(names, str):
            parts = [(names, slice(None))]
        else:
            names = np.asarray(names)
            parts = [(str(name), names == name) for name in dict.fromkeys(names.tolist())]
        for name, rows in parts:
            ts, o, h, low, c = chunk.ts[rows], chunk.open[rows], chunk.high[rows], chunk.low[rows], chunk.close[rows]
            if not len(ts):
                continue
            entry = self.instruments.get(name)
            if entry is None:
                entry = self.instruments[name] = Instrument(first_close=float(c[0]))
            entry.last_close = float(c[-1])
            entry.bars += len(ts)
            entry.chart.add(ts, o, h, low, c)
            self._held.append((name, ts, h, low, c, np.asarray(chunk.ts)))
        return chunk

    def finish(self) -> None:
        """After the last bar: settle the last chunk; the closed round trips left go out, open ones stay open."""
        self._settle()
        self.sync()
        self._unsettled.extend(self.trades.new)
        self.trades.new.clear()
        self.settled(sorted((t for t in self._unsettled if t.exit_ts is not None), key=lambda t: t.seq))
        self._unsettled = []

    # ------------------------------------------------------------ a chunk later

    def _settle(self) -> None:
        """Work on the chunks held: their bars have been replayed, so every fill up to their end is known."""
        if not self._held:
            return
        self.sync()
        self._unsettled.extend(self.trades.new)
        self.trades.new.clear()
        held, self._held = self._held, []
        for name, ts, high, low, _close, _ in held:
            mine = [t for t in self._unsettled if t.instrument == name]
            if mine:
                self._ranges(mine, ts, high, low)
        stamps = held[0][5] if len(held) == 1 else np.concatenate([item[5] for item in held])
        if len(held) > 1 or not (np.diff(stamps) > 0).all():  # several instruments: their stamps interleave
            stamps = np.unique(stamps)
        self._expose(stamps)
        end = int(stamps[-1])
        done = [t for t in self._unsettled if t.exit_ts is not None and t.exit_ts <= end]
        self._unsettled = [t for t in self._unsettled if t.exit_ts is None or t.exit_ts > end]
        self.settled(sorted(done, key=lambda t: t.seq))

    @staticmethod
    def _ranges(trades: list[Trade], ts: np.ndarray, high: np.ndarray, low: np.ndarray) -> None:
        """Each trade's bars here, from its entry bar up to (not including) its exit bar (fills at the exit bar's
        open end it): their count, highest high and lowest low, for all the trades in a few numpy calls."""
        n = len(ts)
        entries = np.array([t.entry_ts for t in trades], dtype=np.int64)
        exits = np.array([t.exit_ts if t.exit_ts is not None else np.iinfo(np.int64).max for t in trades], dtype=np.int64)
        first = np.searchsorted(ts, entries, "left")
        last = np.searchsorted(ts, exits, "left")
        some = last > first
        if not some.any():
            return
        bounds = np.empty(2 * int(some.sum()), dtype=np.int64)
        bounds[0::2], bounds[1::2] = first[some], last[some]
        cut = bounds < n  # reduceat takes segment starts; a segment ending at n needs no end marker
        highs = np.maximum.reduceat(high, bounds[cut])
        lows = np.minimum.reduceat(low, bounds[cut])
        starts = np.flatnonzero(cut)  # where each segment's start is among the kept bounds
        at = np.searchsorted(starts, np.arange(0, len(bounds), 2))
        held = (last - first)[some].tolist()
        for trade, k, bars in zip([t for t, s in zip(trades, some.tolist(), strict=True) if s], at.tolist(), held, strict=True):
            trade.bars_held += bars
            trade.high = max(trade.high, float(highs[k]))
            trade.low = min(trade.low, float(lows[k]))

    def _expose(self, stamps: np.ndarray) -> None:
        if self._last_ts is not None and len(stamps) and stamps[0] == self._last_ts:
            stamps = stamps[1:]  # a timestamp split between two chunks counts once
        if not len(stamps):
            return
        self._last_ts = int(stamps[-1])
        self.timestamps += len(stamps)
        if not self._unsettled:
            return
        entries = np.array([t.entry_ts for t in self._unsettled], dtype=np.int64)
        exits = np.array([t.exit_ts if t.exit_ts is not None else np.iinfo(np.int64).max for t in self._unsettled],
                         dtype=np.int64)
        covered = np.zeros(len(stamps) + 1, dtype=np.int64)
        np.add.at(covered, np.searchsorted(stamps, entries, "left"), 1)
        np.add.at(covered, np.searchsorted(stamps, exits, "right"), -1)
        self.exposed += int((np.cumsum(covered[:-1]) > 0).sum())


PRICE_COLUMNS = ["instrument", "ts", "open", "high", "low", "close"]
CURVE_COLUMNS = ["ts", "equity", "drawdown"]


def write_curve(path: Path, rows: tuple[np.ndarray, np.ndarray, np.ndarray], stamp: Callable[[int], str]) -> None:
    """equity_chart.csv: the equity curve down-sampled for the report (each bucket's last equity, deepest drawdown)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CURVE_COLUMNS)
        for ts, equity, drawdown in zip(*(column.tolist() for column in rows), strict=True):
            writer.writerow([stamp(ts), repr(equity), repr(drawdown)])


def write_prices(path: Path, tape: PriceTape, stamp: Callable[[int], str]) -> None:
    """prices.csv: each instrument's bars down-sampled to at most ~2 x PRICE_POINTS OHLC buckets (for the report)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PRICE_COLUMNS)
        for name in sorted(tape.instruments):
            ts, o, h, low, c = tape.instruments[name].chart.buckets()
            for row in zip(ts.tolist(), o.tolist(), h.tolist(), low.tolist(), c.tolist(), strict=True):
                writer.writerow([name, stamp(row[0]), *(repr(v) for v in row[1:])])
