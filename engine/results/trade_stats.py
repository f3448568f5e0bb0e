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

    def add(self, trade: Trade) -> None:
        pnl, ret = trade.pnl, trade.ret
        self.count += 1
        delta = pnl - self.pnl_mean
        self.pnl_mean += delta / self.count
        self._pnl_m2 += delta * (pnl - self.pnl_mean)
        self.pnl += pnl
        if pnl > 0:
            self.wins += 1
            self.win_pnl += pnl
        elif pnl < 0:
            self.losses += 1
            self.loss_pnl -= pnl
        first = self.count == 1
        self.best = ret if first or ret > self.best else self.best
        self.worst = ret if first or ret < self.worst else self.worst
        self.best_pnl = pnl if first or pnl > self.best_pnl else self.best_pnl
        self.worst_pnl = pnl if first or pnl < self.worst_pnl else self.worst_pnl
        self.returns += ret
        if ret > 0:
            self.gains += ret
        elif ret < 0:
            self.drops += ret
        if 1.0 + ret <= 0:
            self.wiped = True
        else:
            self.log_growth += math.log1p(ret)
        assert trade.exit_ts is not None
        duration = trade.exit_ts - trade.entry_ts
        self.longest = max(self.longest, duration)
        self.durations += duration
        self.bars_held += trade.bars_held

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


class TradeBook:
    """Every group's figures: all trades, long, short, and each instrument."""

    def __init__(self) -> None:
        self.all = TradeFigures()
        self.long = TradeFigures()
        self.short = TradeFigures()
        self.instruments: dict[str, TradeFigures] = {}

    def add(self, trade: Trade) -> None:
        self.all.add(trade)
        (self.long if trade.direction > 0 else self.short).add(trade)
        group = self.instruments.get(trade.instrument)
        if group is None:
            group = self.instruments[trade.instrument] = TradeFigures()
        group.add(trade)
