"""The summary figures of a run, computed from what the recorder streamed."""

from __future__ import annotations

import math

import numpy as np

TRADING_DAYS = 252


def sharpe_ratio(daily_equity: list[float]) -> float | None:
    """Annualised Sharpe of daily returns (risk-free 0); None when fewer than two returns or no variance.

    Daily (UTC calendar day) closes make the figure comparable across bar sizes.
    """
    if len(daily_equity) < 3:
        return None
    equity = np.asarray(daily_equity, dtype=np.float64)
    returns = np.diff(equity) / equity[:-1]
    deviation = float(returns.std(ddof=1))
    if not math.isfinite(deviation) or deviation == 0.0:
        return None
    return float(returns.mean()) / deviation * math.sqrt(TRADING_DAYS)


def total_return(initial: float, final: float) -> float:
    return final / initial - 1.0 if initial else 0.0
