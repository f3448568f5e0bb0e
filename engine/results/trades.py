"""Round trips: THE definition of a closed trade, built from the fills in the order they happened.

A round trip opens when an instrument's position leaves zero and closes when
it returns to zero; a fill that flips the position (long 100 -> short 50)
closes one round trip and opens the next, its size and commission split
between the two in proportion. Adding to a position or reducing it without
reaching zero stays within the round trip: entry and exit prices are the
size-weighted averages of the opening and closing fills. The recorder's
``round_trips`` count is the number of these trades and nothing else.

P&L and return follow backtesting.py's ``Trade.pl`` / ``Trade.pl_pct``
(the reference the statistics are tested against): net of the commission
paid on both sides, the return relative to the entry value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.messages import BUY

from .texts import float_texts, line_writer
from .trade_stats import Columns, TradeBook

TRADE_COLUMNS = [
    "instrument", "direction", "entry_time", "exit_time", "entry_price", "exit_price", "size",
    "pnl", "return", "commission", "bars_held", "mae", "mfe",
]


@dataclass(slots=True)
class Trade:
    """One round trip; open while ``exit_ts`` is None. ``high``/``low``: the price range seen while it was open."""

    instrument: str
    direction: int  # +1 long, -1 short
    entry_ts: int
    entry_size: float = 0.0  # opening fills' total size
    entry_value: float = 0.0  # sum of size * price of the opening fills
    exit_size: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0
    exit_ts: int | None = None
    high: float = -math.inf  # set by the price tape (prices.py) from the bars while open, and the fill prices
    low: float = math.inf
    bars_held: int = 0  # bars of the instrument from the entry bar up to (not including) the exit bar
    seq: int = -1  # the order it closed in (0 = first)

    @property
    def entry_price(self) -> float:
        return self.entry_value / self.entry_size

    @property
    def exit_price(self) -> float:
        return self.exit_value / self.exit_size

    @property
    def pnl(self) -> float:
        """Net of both sides' commission: ``size * (exit - entry) - commission`` for one entry and one exit fill."""
        return self.direction * (self.exit_value - self.entry_value) - self.commission

    @property
    def ret(self) -> float:
        """P&L relative to the entry value: ``direction * (exit / entry - 1) - commission / entry value``."""
        return self.pnl / self.entry_value

    @property
    def mae(self) -> float:
        """Maximum adverse excursion: the worst price seen while open, relative to the entry price (<= 0)."""
        worst = self.low if self.direction > 0 else self.high
        return min(0.0, self.direction * (worst / self.entry_price - 1.0))  # an average entry price can round past its fills

    @property
    def mfe(self) -> float:
        """Maximum favourable excursion: the best price seen while open, relative to the entry price (>= 0)."""
        best = self.high if self.direction > 0 else self.low
        return max(0.0, self.direction * (best / self.entry_price - 1.0))

    def saw(self, price: float) -> None:
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price


class RoundTrips:
    """Fills in, round trips out: ``count`` closed so far, ``open`` per instrument, ``new`` for the price tape.

    The closed ones are handed on by the price tape once their bars are
    seen (prices.py), so none is held for the whole run; ``keep`` also
    lists them in ``closed`` (for tests).
    """

    def __init__(self, keep: bool = False) -> None:
        self.count = 0
        self.closed: list[Trade] = []
        self.keep = keep
        self.open: dict[str, Trade] = {}
        self.new: list[Trade] = []  # opened since the price tape last looked (prices.py)

    def fill(self, ts: int, instrument: str, side: str, size: float, price: float, commission: float,
             position: float) -> None:
        """One execution; ``position`` is the instrument's signed position after it (the broker's own figure)."""
        signed = size if side == BUY else -size
        before = position - signed
        trade = self.open.get(instrument)
        if trade is None or before == 0:
            self._open(ts, instrument, position, price, commission)
            return
        if (position > 0) == (before > 0) and abs(position) > abs(before):  # adding to the position
            trade.entry_size += size
            trade.entry_value += size * price
            trade.commission += commission
            trade.saw(price)
            return
        closing = min(size, abs(before))
        share = closing / size
        trade.exit_size += closing
        trade.exit_value += closing * price
        trade.commission += commission * share
        trade.saw(price)
        if position == 0 or (position > 0) != (before > 0):
            trade.exit_ts = ts
            trade.seq = self.count
            self.count += 1
            if self.keep:
                self.closed.append(trade)
            del self.open[instrument]
            if position:  # flipped: the rest of the fill opens the next round trip
                self._open(ts, instrument, position, price, commission * (1.0 - share))

    def _open(self, ts: int, instrument: str, position: float, price: float, commission: float) -> None:
        if not position:
            return
        size = abs(position)
        trade = Trade(instrument, 1 if position > 0 else -1, ts, size, size * price, 0.0, 0.0, commission)
        trade.saw(price)
        self.open[instrument] = trade
        self.new.append(trade)


class TradeLog:
    """trades.csv written as round trips are settled (in the order they closed), and their figures accumulated."""

    def __init__(self, path: Path, stamps: Callable[[list[int]], list[str]]) -> None:
        self.path = path
        self.stamps = stamps  # timestamps -> their text at the run's resolution
        self.book = TradeBook()
        self._handle = open(path, "w", newline="")  # noqa: SIM115 - closed by close()
        self._write = line_writer(self._handle)
        self._write(TRADE_COLUMNS)

    def add(self, trades: list[Trade]) -> None:
        """A batch of settled round trips: their rows (a column at a time) and their figures."""
        if not trades:
            return
        c = Columns(trades)
        self.book.add(c)
        texts = self.stamps([ts for t in trades for ts in (t.entry_ts, t.exit_ts)])
        numbers = [float_texts(column.tolist()) for column in (c.entry_price, c.exit_price, c.entry_size, c.pnl, c.ret,
                                                               c.commission)]
        excursions = [float_texts(column.tolist()) for column in (c.mae, c.mfe)]
        sides = ["long" if d > 0 else "short" for d in c.direction.tolist()]
        held = [str(n) for n in c.bars_held.tolist()]
        for row in zip(c.instrument, sides, texts[0::2], texts[1::2], *numbers, held, *excursions, strict=True):
            self._write(list(row))

    def close(self) -> None:
        self._handle.close()
