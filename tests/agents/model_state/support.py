"""Shared by the model state tests: run real backtrader indicators and ours on the same bars."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random

import backtrader as bt

from agents.model_state import InstrumentState
from hub.messages import Bar, IndicatorSpec
from tests.paths import SAMPLE_600559

DATA_600559 = SAMPLE_600559
Row = tuple[float, float, float, float, float]  # open, high, low, close, volume


def load_600559() -> list[Row]:
    """Forward-adjusted OHLC (the data README's preparation), trading days only."""
    with DATA_600559.open(newline="") as f:
        raw = [r for r in csv.DictReader(f) if r["isopen"] == "true"]
    last = float(raw[-1]["accumadjfactor"])
    rows = []
    for r in raw:
        k = float(r["accumadjfactor"])
        adj = [float(r[c]) * k / last for c in ("openprice", "highestprice", "lowestprice", "closeprice")]
        rows.append((*adj, float(r["turnovervol"])))
    return rows


def grid_series(n: int, seed: int, lo: int = 1000, hi: int = 1006) -> list[Row]:
    """Prices on a 0.01 grid in a narrow band, so SMAs tie exactly often."""
    rnd = random.Random(seed)
    cents = (lo + hi) // 2
    rows = []
    for _ in range(n):
        o = cents
        cents = min(hi, max(lo, cents + rnd.choice((-2, -1, 0, 0, 1, 2))))
        h = max(o, cents) + rnd.randint(0, 3)
        low = min(o, cents) - rnd.randint(0, 3)
        rows.append((float(f"{o / 100:.2f}"), float(f"{h / 100:.2f}"), float(f"{low / 100:.2f}"),
                     float(f"{cents / 100:.2f}"), float(rnd.randint(1, 10_000) * 100)))
    return rows


def walk_series(n: int, seed: int) -> list[Row]:
    """A geometric random walk with full-precision floats (no grid)."""
    rnd = random.Random(seed)
    c = 50.0
    rows = []
    for _ in range(n):
        o = c
        c = c * math.exp(rnd.gauss(0.0, 0.02))
        rows.append((o, max(o, c) * (1 + rnd.random() * 0.01), min(o, c) * (1 - rnd.random() * 0.01), c,
                     rnd.random() * 1e6))
    return rows


class _Feed(bt.feed.DataBase):
    params = (("rows", ()),)

    def start(self):
        super().start()
        self._i = 0

    def _load(self):
        if self._i >= len(self.p.rows):
            return False
        o, h, low, c, v = self.p.rows[self._i]
        self.lines.datetime[0] = bt.date2num(dt.datetime(2000, 1, 1) + dt.timedelta(days=self._i))
        self.lines.open[0], self.lines.high[0], self.lines.low[0], self.lines.close[0] = o, h, low, c
        self.lines.volume[0] = v
        self.lines.openinterest[0] = 0.0
        self._i += 1
        return True


def _bt_indicator(data, kind: str, period: int, source: str):
    if kind == "atr":
        return bt.indicators.ATR(data, period=period)
    line = getattr(data, source)
    if kind == "sma":
        return bt.indicators.SMA(line, period=period)
    if kind == "ema":
        return bt.indicators.EMA(line, period=period)
    if kind == "std":
        return bt.indicators.StdDev(line, period=period)
    if kind == "rsi":
        return bt.indicators.RSI_Safe(line, period=period)
    raise AssertionError(kind)


def run_backtrader(rows: list[Row], specs: list[IndicatorSpec], runonce: bool = True) -> dict[str, list[float]]:
    """Every spec's backtrader line over the whole series (NaN before its first value)."""
    got: dict[str, list[float]] = {}

    class Collect(bt.Strategy):
        def __init__(self):
            self.inds = {s.name: _bt_indicator(self.data, s.kind, s.period, s.source) for s in specs}

        def stop(self):
            for name, ind in self.inds.items():
                got[name] = list(ind.lines[0].array)[: len(self.data)]

    cerebro = bt.Cerebro(stdstats=False, runonce=runonce)
    cerebro.adddata(_Feed(rows=rows))
    cerebro.addstrategy(Collect)
    cerebro.run()
    return got


def bars_of(rows: list[Row], instrument: str = "X") -> list[Bar]:
    return [Bar(ts=i, instrument=instrument, open=o, high=h, low=lo, close=c, volume=v)
            for i, (o, h, lo, c, v) in enumerate(rows)]


def run_ours(rows: list[Row], specs: list[IndicatorSpec], capacity: int = 0) -> dict[str, list[float]]:
    state = InstrumentState(capacity or max(s.period for s in specs) + 1)
    for s in specs:
        state.add(s)
    out: list[tuple[float, ...]] = [state.update(b) for b in bars_of(rows)]
    return {s.name: [v[i] for v in out] for i, s in enumerate(specs)}


def spec(kind: str, period: int, source: str = "close", name: str | None = None) -> IndicatorSpec:
    if kind == "atr":
        source = "hlc"
    return IndicatorSpec(name=name or f"{kind}{period}_{source}", kind=kind, period=period, source=source)


def same(a: float, b: float) -> bool:
    """Bit-for-bit equal, NaN equal to NaN."""
    return a == b or (a != a and b != b)


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return (a != a and b != b) or math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
