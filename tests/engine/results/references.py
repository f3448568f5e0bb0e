"""The independent references the statistics are held to: backtesting.py replaying our fills, empyrical on our equity.

backtesting.py fills a market order at the next bar's open, as our default
broker does, and charges ``commission x size x price`` on entry and exit:
a strategy that places exactly the orders our run filled, one bar before
each fill, makes the same trades and the same equity in its own engine,
and its ``Backtest.run()`` statistics are computed by its own code.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def frame(columns) -> pd.DataFrame:
    """Bar columns (``BarColumns``) as backtesting.py's OHLCV frame."""
    index = pd.DatetimeIndex(pd.to_datetime(columns.ts, unit="ns"))
    return pd.DataFrame({"Open": columns.open, "High": columns.high, "Low": columns.low,
                         "Close": columns.close, "Volume": columns.volume}, index=index)


def fills(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "fills.csv") as f:
        return list(csv.DictReader(f))


def backtesting_stats(data: pd.DataFrame, run_dir: Path, cash: float, commission: float) -> pd.Series:
    """backtesting.py's statistics of a run that places our run's orders, each on the bar before its fill."""
    from backtesting import Backtest, Strategy

    orders: dict[pd.Timestamp, list[tuple[str, int]]] = {}
    positions = data.index
    for row in fills(run_dir):
        at = positions.get_loc(pd.Timestamp(row["ts"]))
        orders.setdefault(positions[at - 1], []).append((row["side"].lower(), round(float(row["size"]))))

    class Replay(Strategy):
        def init(self):
            pass

        def next(self):
            for side, size in orders.get(self.data.index[-1], ()):
                if side == "buy":
                    self.buy(size=size)
                else:
                    self.sell(size=size)

    test = Backtest(data, Replay, cash=cash, commission=commission, trade_on_close=False,
                    exclusive_orders=False, finalize_trades=False)
    with warnings.catch_warnings():  # its progress notes and pandas deprecations, not ours
        warnings.simplefilter("ignore")
        return test.run()


def equity_returns(run_dir: Path) -> tuple[np.ndarray, pd.Series]:
    equity = pd.read_csv(run_dir / "equity.csv", index_col="ts", parse_dates=True)["equity"]
    return equity.to_numpy(), equity.pct_change().dropna()
