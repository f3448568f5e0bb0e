"""A run's statistics from what the recorder kept: the equity figures, the round trips and the price tape.

Definitions follow the two references the tests hold every figure to (to
1e-9, on the same trades and equity):

* backtesting.py (``Backtest.run()``'s statistics): exposure, returns,
  CAGR, drawdowns and their durations, buy and hold, every trade figure
  (trade_stats.py);
* empyrical (``empyrical-reloaded``) on the per-bar returns with the
  run's ``periods_per_year``: annual return, annual volatility, Sharpe,
  Sortino, Calmar, max drawdown.

Where the two differ, these are chosen and the difference is documented
(README, "Statistics"): backtesting.py annualises volatility, Sharpe and
Sortino from daily returns with a geometric formula; here they are
empyrical's (arithmetic mean, sample standard deviation, per bar).

A figure that cannot be computed is None, and ``nulls`` says why (the
summary is strict JSON: no NaN or infinity).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .equity_stats import DAY, EquityStats
from .prices import PriceTape
from .trade_stats import TradeBook, TradeFigures

YEAR_DAYS = 365.25  # CAGR's calendar year, as backtesting.py's


def annualisation(stats: EquityStats) -> tuple[float | None, str]:
    """Periods (marks) per year from the bars' spacing and calendar, and the sentence that says how."""
    if stats.marks < 2 or stats.first_ts is None or stats.last_ts is None:
        return None, "fewer than two bars"
    weekends = stats.weekend_marks / stats.marks > 2 / 7 * 0.6  # backtesting.py's rule
    trading_days = 365 if weekends else 252
    calendar = f"{trading_days} trading days a year ({'bars on weekends' if weekends else 'no weekend bars'})"
    per_day = float(np.median(stats.per_day))  # a partial first or last day does not skew it
    if per_day > 1.0:
        return trading_days * per_day, f"intraday bars: {per_day:g} bars a day (the median) x {calendar}"
    spacing = (stats.last_ts - stats.first_ts) / DAY / (stats.marks - 1)  # mean days between bars
    for limit, periods, name in ((4.0, trading_days, "daily"), (20.0, 52, "weekly"), (180.0, 12, "monthly")):
        if spacing < limit:
            if periods == trading_days:
                return float(periods), f"daily bars: {calendar}"
            return float(periods), f"{name} bars: {periods} a year"
    return 1.0, "yearly bars: 1 a year"


class Figures:
    """Collects figures; ``none(key, why)`` records a figure that has no value."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.nulls: dict[str, str] = {}

    def put(self, key: str, value: Any, why: str = "") -> None:
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if value is None:
            self.nulls[key] = why or "not computable"
        self.values[key] = value

    def ratio(self, key: str, numerator: float | None, denominator: float | None, why: str) -> None:
        if numerator is None or denominator is None or denominator == 0 or not math.isfinite(denominator):
            self.put(key, None, why)
        else:
            self.put(key, numerator / denominator, why)


def run_figures(stats: EquityStats, initial: float, tape: PriceTape) -> Figures:
    """Over the run: time, exposure, equity, returns, risk, drawdowns, buy and hold."""
    f = Figures()
    stats.finish()
    final = stats.last if stats.last is not None else initial
    f.put("exposure", tape.exposed / tape.timestamps if tape.timestamps else None, "no bars")
    f.put("peak_equity", stats.peak if stats.marks else initial)
    duration_days = (stats.last_ts - stats.first_ts) / DAY if stats.marks else None
    f.put("duration_days", duration_days, "no bars")
    years = duration_days / YEAR_DAYS if duration_days else None
    if years and initial and final / initial >= 0:
        f.put("cagr", (final / initial) ** (1.0 / years) - 1.0)
    else:
        f.put("cagr", None, "the run spans no time" if not years else "equity not positive")
    periods, basis = annualisation(stats)
    f.values["annualisation"] = {"periods_per_year": periods, "basis": basis}
    if periods is None:
        f.nulls["annualisation.periods_per_year"] = basis
    growth = stats.last / stats.first if stats.first else None
    if periods and stats.returns and growth is not None and growth > 0:
        f.put("annual_return", growth ** (periods / stats.returns) - 1.0)
    else:
        f.put("annual_return", None, "fewer than two bars or equity not positive")
    std = math.sqrt(stats.variance) if stats.returns > 1 else None
    f.put("annual_volatility", std * math.sqrt(periods) if std is not None and periods else None,
          "fewer than three bars")
    f.ratio("sharpe", stats.mean * math.sqrt(periods) if periods else None, std,
            "no variance in the returns" if std == 0 else "fewer than three bars")
    downside = math.sqrt(stats.downside_sq / stats.returns) if stats.returns else None
    f.ratio("sortino", stats.mean * math.sqrt(periods) if periods else None, downside,
            "no losing bar (no downside deviation)" if downside == 0 else "fewer than two bars")
    f.put("max_drawdown", stats.max_drawdown)
    f.ratio("calmar", f.values["annual_return"], stats.max_drawdown or None,
            "no drawdown" if not stats.max_drawdown else "no annual return")
    f.put("max_drawdown_duration_days", stats.max_drawdown_duration / DAY if stats.episodes else None, "no drawdown")
    f.put("avg_drawdown", stats.episode_depths / stats.episodes if stats.episodes else None, "no drawdown")
    f.put("avg_drawdown_duration_days", stats.episode_durations / stats.episodes / DAY if stats.episodes else None,
          "no drawdown")
    holds = [i.last_close / i.first_close - 1.0 for i in tape.instruments.values() if i.first_close]
    f.put("buy_and_hold_return", sum(holds) / len(holds) if holds else None, "no prices")
    return f


def trade_sections(book: TradeBook) -> tuple[dict[str, Any], dict[str, str]]:
    """All trades, long and short apart: ``{"all": {...}, "long": {...}, "short": {...}}`` and the nulls."""
    sections: dict[str, Any] = {}
    nulls: dict[str, str] = {}
    for name, group in (("all", book.all), ("long", book.long), ("short", book.short)):
        sections[name], why = group.figures()
        nulls.update({f"trades.{name}.{k}": v for k, v in why.items()})
    return sections, nulls


def instrument_sections(book: TradeBook, tape: PriceTape) -> tuple[dict[str, Any], dict[str, str]]:
    """Per instrument: its trade figures, its share of the trades' P&L and its buy-and-hold return."""
    total = book.all.pnl
    sections: dict[str, Any] = {}
    nulls: dict[str, str] = {}
    for name in sorted(set(tape.instruments) | set(book.instruments)):
        values, why = book.instruments.get(name, TradeFigures()).figures()
        figures = Figures()
        figures.values, figures.nulls = values, why
        figures.ratio("pnl_share", values["pnl"], total, "the trades' total P&L is zero")
        prices = tape.instruments.get(name)
        figures.put("buy_and_hold_return", prices.last_close / prices.first_close - 1.0
                    if prices and prices.first_close else None, "no prices")
        figures.put("bars", prices.bars if prices else 0)
        sections[name] = figures.values
        nulls.update({f"instruments.{name}.{k}": v for k, v in figures.nulls.items()})
    return sections, nulls


def period_returns(month_ends: dict[str, float], initial: float) -> dict[str, dict[str, float | None]]:
    """Monthly and yearly returns from each month's last equity (the first against the initial cash)."""
    monthly: dict[str, float | None] = {}
    yearly: dict[str, float | None] = {}
    before = initial
    year_before = initial
    months = sorted(month_ends)
    for i, month in enumerate(months):
        value = month_ends[month]
        monthly[month] = value / before - 1.0 if before else None
        before = value
        last_of_year = i + 1 == len(months) or months[i + 1][:4] != month[:4]
        if last_of_year:
            yearly[month[:4]] = value / year_before - 1.0 if year_before else None
            year_before = value
    return {"monthly": monthly, "yearly": yearly}
