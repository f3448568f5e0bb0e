"""summary.json's figures (statistics.py), assembled; the file is written as strict JSON (strict_json.py).

A figure without a value is null and ``null_reasons`` names it with the reason.
"""

from __future__ import annotations

from typing import Any

from .equity_stats import EquityStats
from .prices import PriceTape
from .statistics import instrument_sections, period_returns, run_figures, trade_sections
from .trade_stats import TradeBook


def total_return(initial: float, final: float) -> float:
    return final / initial - 1.0 if initial else 0.0


def statistics(stats: EquityStats, initial: float, book: TradeBook, open_trades: int,
               tape: PriceTape) -> tuple[dict[str, Any], dict[str, str]]:
    """The figures over the run, the closed trades and each instrument, and why any of them is null."""
    run = run_figures(stats, initial, tape)
    figures = dict(run.values)
    nulls = dict(run.nulls)
    sections, trade_nulls = trade_sections(book)
    figures["trades"] = {**sections, "open_at_end": open_trades}
    instruments, instrument_nulls = instrument_sections(book, tape)
    figures["instruments"] = instruments
    figures["returns_by_period"] = period_returns(stats.month_ends, initial)
    nulls.update(trade_nulls)
    nulls.update(instrument_nulls)
    return figures, nulls
