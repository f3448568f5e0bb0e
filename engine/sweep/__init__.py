"""Batch backtests: every data file x every parameter set, on local processes or a Dask cluster.

One cell is one backtest exactly as ``python -m engine backtest`` runs it,
replayed from columns parsed once and cached (``cache``). Modules, one job
each: ``grid`` (flags and TOML into cells), ``tasks`` (a cell and bundles),
``local`` and ``dask_exec`` (executors), ``results`` (tables, ranking,
heatmap), ``progress``, ``runner`` (the whole sweep), ``cli``.
Heavy dependencies (dask, pyarrow, matplotlib) are imported only when used.
"""

from engine.sweep.cache import ColumnStore, ParseOptions
from engine.sweep.grid import expand_data, expand_grid, parse_grid_args
from engine.sweep.runner import SweepPlan, SweepResult, plan_sweep, run_sweep
from engine.sweep.tasks import Cell, CellRunner, SweepJob

__all__ = [
    "Cell", "CellRunner", "ColumnStore", "ParseOptions", "SweepJob", "SweepPlan", "SweepResult",
    "expand_data", "expand_grid", "parse_grid_args", "plan_sweep", "run_sweep",
]
