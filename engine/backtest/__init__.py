"""Backtests: the driver (config to results), its replay loop, staged output and the run id.

The package is also the notebook entry point: ``engine.backtest(...)`` calls
:func:`engine.report.notebook.backtest` (the module is callable, so the
name can be both this package and that function). Nothing heavy is
imported until it is called.
"""

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, strategy: Any, data: Any, params: dict[str, Any] | None = None, **options: Any) -> Any:
        """Run one backtest and return its result (``.stats``, ``.trades``, ``.equity``, ``.fills``, ``.orders``, ``.plot()``).

        ``strategy``: a built-in name (``"sma_trend"``), ``"module:Class"`` or a Strategy class.
        ``data``: file paths, a pandas DataFrame (DatetimeIndex; open, high, low, close, volume) or a
        dict of them per instrument. ``params``: the strategy's parameters. Other keywords: broker
        settings (``cash``, ``commission``, ``slippage_perc``, ...), ``out`` (the run's folder, default
        ``results/<run-id>``), ``report`` (write report.html, default True), ``data_format``.
        Works inside a running event loop (Jupyter's). Needs the ``research`` extra (pandas, plotly).
        """
        from engine.report.notebook import backtest

        return backtest(strategy, data, params, **options)


sys.modules[__name__].__class__ = _CallablePackage
