"""The closed round trips' figures, accumulated one trade at a time (no trade is held for the whole run).

Definitions are backtesting.py's (its ``compute_stats``), the reference the
tests hold them to: win rate counts P&L > 0; best, worst and average trade
are on returns (the average geometric); profit factor is the sum of winning
returns over the sum of losing ones; expectancy the mean return; SQN
``sqrt(n) * mean(P&L) / std(P&L)`` (sample std); Kelly from the win rate and
the mean win and loss in money.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .trades import Trade

DAY = 86_400_000_000_000


class TradeFigures:
    """One group of trades (all, long, short, an instrument): ``add`` each, then ``figures()``."""

    def __init__(self) -> None:
        self.count = 0
        self.wins = 0
        self.pnl = 0.0
        self.pnl_mean = 0.0
        self._pnl_m2 = 0.0  # Welford: sum of squared deviations of the P&L
        self.win_pnl = 0.0
        self.losses = 0
        self.loss_pnl = 0.0
        self.best = self.worst = self.best_pnl = self.worst_pnl = math.nan
        self.returns = 0.0
        self.gains = 0.0  # sum of positive returns
        self.drops = 0.0  # sum of negative returns
        self.log_growth = 0.0  # sum of log(1 + return)
        self.wiped = False  # a trade returned -100% or worse: the geometric mean is 0 (backtesting.py)
        self.longest = 0  # ns
        self.durations = 0  # ns, sum
        self.bars_held = 0

    def add(self, trades: Columns, rows: np.ndarray | slice = slice(None)) -> None:
        """Add a batch of trades (``rows`` of the columns): a few numpy calls, whatever the batch's size."""
        pnl, ret = trades.pnl[rows], trades.ret[rows]
        k = len(pnl)
        if not k:
            return
        mean = float(pnl.mean())
        m2 = float(((pnl - mean) ** 2).sum())
        n = self.count
        total = n + k
        delta = mean - self.pnl_mean  # Chan et al.: merge the batch's mean and squared deviations
        self.pnl_mean += delta * k / total
        self._pnl_m2 += m2 + delta * delta * n * k / total
        self.count = total
        self.pnl += float(pnl.sum())
        won, lost = pnl > 0, pnl < 0
        self.wins += int(won.sum())
        self.win_pnl += float(pnl[won].sum())
        self.losses += int(lost.sum())
        self.loss_pnl -= float(pnl[lost].sum())
        first = n == 0
        self.best = float(ret.max()) if first else max(self.best, float(ret.max()))
        self.worst = float(ret.min()) if first else min(self.worst, float(ret.min()))
        self.best_pnl = float(pnl.max()) if first else max(self.best_pnl, float(pnl.max()))
        self.worst_pnl = float(pnl.min()) if first else min(self.worst_pnl, float(pnl.min()))
        self.returns += float(ret.sum())
        self.gains += float(ret[ret > 0].sum())
        self.drops += float(ret[ret < 0].sum())
        alive = 1.0 + ret > 0
        self.wiped = self.wiped or not alive.all()
        self.log_growth += float(np.log1p(ret[alive]).sum())
        duration = trades.duration[rows]
        self.longest = max(self.longest, int(duration.max()))
        self.durations += int(duration.sum())
        self.bars_held += int(trades.bars_held[rows].sum())

    def figures(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(figures, why each None one is None)."""
        n = self.count
        none = "no closed trades"
        values: dict[str, Any] = {"count": n}
        nulls: dict[str, str] = {}

        def put(key: str, value: Any, why: str = none) -> None:
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                value = None
                nulls[key] = why
            values[key] = value

        put("win_rate", self.wins / n if n else None)
        put("best_trade", self.best if n else None)
        put("worst_trade", self.worst if n else None)
        put("avg_trade", (0.0 if self.wiped else math.expm1(self.log_growth / n)) if n else None)
        put("best_trade_pnl", self.best_pnl if n else None)
        put("worst_trade_pnl", self.worst_pnl if n else None)
        put("avg_trade_pnl", self.pnl / n if n else None)
        put("pnl", self.pnl)
        put("profit_factor", self.gains / -self.drops if self.drops else None, "no losing trade" if n else none)
        put("expectancy", self.returns / n if n else None)
        std = math.sqrt(self._pnl_m2 / (n - 1)) if n > 1 else None
        put("sqn", math.sqrt(n) * self.pnl_mean / std if std else None,
            "fewer than two closed trades" if n < 2 else "every trade made the same P&L")
        if self.wins and self.losses:
            rate = self.wins / n
            put("kelly", rate - (1 - rate) / ((self.win_pnl / self.wins) / (self.loss_pnl / self.losses)))
        else:
            put("kelly", None, "needs winning and losing trades")
        put("max_trade_duration_days", self.longest / DAY if n else None)
        put("avg_trade_duration_days", self.durations / n / DAY if n else None)
        put("bars_held_avg", self.bars_held / n if n else None)
        return values, nulls


class Columns:
    """A batch of closed round trips as arrays: the same float operations as ``Trade``'s properties, a column at a time."""

    def __init__(self, trades: list[Trade]) -> None:
        def column(name: str, dtype: Any = np.float64) -> np.ndarray:
            return np.array([getattr(t, name) for t in trades], dtype=dtype)

        self.instrument = [t.instrument for t in trades]
        self.direction = column("direction", np.int64)
        self.entry_ts, self.exit_ts = column("entry_ts", np.int64), column("exit_ts", np.int64)
        self.entry_size, self.exit_size = column("entry_size"), column("exit_size")
        self.entry_value, self.exit_value = column("entry_value"), column("exit_value")
        self.commission = column("commission")
        self.bars_held = column("bars_held", np.int64)
        sign = self.direction.astype(np.float64)
        self.entry_price = self.entry_value / self.entry_size
        self.exit_price = self.exit_value / self.exit_size
        self.pnl = sign * (self.exit_value - self.entry_value) - self.commission
        self.ret = self.pnl / self.entry_value
        high, low = column("high"), column("low")
        long = self.direction > 0
        worst, best = np.where(long, low, high), np.where(long, high, low)
        self.mae = np.minimum(0.0, sign * (worst / self.entry_price - 1.0))
        self.mfe = np.maximum(0.0, sign * (best / self.entry_price - 1.0))
        self.duration = self.exit_ts - self.entry_ts


class TradeBook:
    """Every group's figures: all trades, long, short, and each instrument."""

    def __init__(self) -> None:
        self.all = TradeFigures()
        self.long = TradeFigures()
        self.short = TradeFigures()
        self.instruments: dict[str, TradeFigures] = {}

    def add(self, trades: Columns) -> None:
        self.all.add(trades)
        long = trades.direction > 0
        self.long.add(trades, long)
        self.short.add(trades, ~long)
        names = np.array(trades.instrument, dtype=object)
        for name in dict.fromkeys(trades.instrument):
            group = self.instruments.get(name)
            if group is None:
                group = self.instruments[name] = TradeFigures()
            group.add(trades, names == name)
