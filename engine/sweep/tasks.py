"""One sweep cell = one backtest, run exactly as ``python -m engine backtest`` runs it, from cached columns.

Why a cell goes through ``run_pipeline`` with the same per-cell ``Config``
and ``make_run_id`` as ``run_backtest``: its figures and run id must equal a
plain backtest's. Only the data path differs: Bars are built from columns
the :class:`ColumnStore` parsed once, instead of re-parsing the CSV.

Everything here is picklable by reference so both executors (local
processes, Dask workers) run the same code; a failure of one cell becomes
that cell's row, never the worker's death.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.config import Config, SweepConfig
from engine.sweep.cache import ColumnStore, ParseOptions

BARS_PER_SECOND = 100_000  # a cautious replay rate, only to size Dask bundles
TASK_SECONDS = 1.0  # a Dask task should last about this long: overhead per task is ~1 ms
SCRATCH_PREFIX = "engine-sweep-"  # a worker's scratch folder in the temp dir


@dataclass(frozen=True)
class Cell:
    """One backtest of the sweep: a data file and the grid's values for it."""

    index: int
    path: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepJob:
    """What every worker needs besides its cells: the base config and where data and runs go."""

    config: Config
    cache_dir: str | None  # None: no disk cache (the folder was not usable)
    runs_dir: str | None = None  # keep each backtest's files in runs_dir/<run-id>/; None = scratch only


CellFn = Callable[[Cell], dict[str, Any]]
RunnerFactory = Callable[[SweepJob, ColumnStore], Any]  # returns a context manager that is a CellFn


def cell_config(base: Config, cell: Cell, out_dir: str | None = None) -> Config:
    """The config ``python -m engine backtest --data FILE --param k=v ...`` would build for this cell."""
    return replace(
        base,
        data=replace(base.data, paths=(cell.path,)),
        strategy=replace(base.strategy, params={**base.strategy.params, **cell.params}),
        output=replace(base.output, dir=out_dir),
        sweep=SweepConfig(),
    )


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class CellRunner:
    """Runs cells in one worker: shares the worker's ColumnStore, writes runs to a scratch directory."""

    def __init__(self, job: SweepJob, store: ColumnStore) -> None:
        from engine.runtime.logs import configure_logging

        configure_logging(job.config.log_level)
        self.job = job
        self.store = store
        self.options = ParseOptions.from_data_config(job.config.data)
        self.where = f"{socket.gethostname()}:{os.getpid()}"
        self._scratch: Path | None = None

    def __enter__(self) -> CellRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def scratch(self) -> Path:
        """Where a run's CSVs go when they are not kept: one directory, overwritten by each run."""
        if self._scratch is None:
            from engine.backtest.staging import remove_abandoned
            from engine.runtime import owners

            remove_abandoned(Path(tempfile.gettempdir()), SCRATCH_PREFIX)  # left by killed workers
            self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
            owners.mark(self._scratch)
        return self._scratch

    def __call__(self, cell: Cell) -> dict[str, Any]:
        from engine.backtest import left_out
        from engine.backtest.driver import provenance, run_pipeline
        from engine.backtest.outcome import FAILED
        from engine.backtest.outcome import error_text as failure_text
        from engine.backtest.run_id import run_identity
        from engine.backtest.staging import staging_dir
        from engine.results import strict_json

        t0 = time.perf_counter()
        row: dict[str, Any] = {"cell": cell.index, "instrument": Path(cell.path).stem, "data": cell.path,
                               "grid": dict(cell.params), "error": None, "load_seconds": 0.0,
                               "data_source": None, "worker": self.where}
        try:
            loaded = self.store.load(cell.path, self.options)
            row.update(instrument=loaded.columns.instrument_name, load_seconds=loaded.seconds, data_source=loaded.source)
            config = cell_config(self.job.config, cell)
            identity = run_identity(config, [cell.path])
            run_id = identity.run_id

            def backtest(out_dir: Path) -> dict[str, Any]:
                with asyncio.Runner() as runner:
                    summary = runner.run(run_pipeline(config, out_dir, run_id, loaded.columns))
                summary["data_files"] = [cell.path]
                summary.update(left_out.counts(loaded.report))
                summary.update(provenance(config, identity, [cell.path]))
                return summary

            if self.job.runs_dir:  # the run's directory exactly as `backtest --out` leaves it
                with staging_dir(Path(self.job.runs_dir) / run_id) as staging:
                    summary = backtest(staging)
                    left_out.write_skipped(staging, loaded.report, [cell.path])
                    strict_json.write(staging / "summary.json", summary)
            else:
                summary = backtest(self.scratch())
            row.update(summary)
            row["error"] = failure_text(summary) if summary["status"] == FAILED else None
        except Exception as exc:  # a bad file: this cell's row, not the batch's end
            row["error"] = error_text(exc)
        row["seconds"] = time.perf_counter() - t0
        return row


def run_cells(job: SweepJob, cells: Iterable[Cell], store: ColumnStore,
              factory: RunnerFactory = CellRunner) -> list[dict[str, Any]]:
    """Run cells one after the other in this process: a bundle, or a whole sweep without workers."""
    with factory(job, store) as run:
        return [run(cell) for cell in cells]


# ---------------------------------------------------------------- bundles


def estimate_bars(path: str | Path, sample: int = 1 << 16) -> int:
    """Rows in a CSV from its size and the mean length of its first lines (0 if unreadable)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(sample)
    except OSError:
        return 0
    lines = head.count(b"\n")
    if lines <= 1:
        return 1
    return max(1, int(size / (len(head) / lines)) - 1)


def bundle_size(bars_per_cell: float, cells: int, slots: int, task_seconds: float = TASK_SECONDS,
                bars_per_second: float = BARS_PER_SECOND) -> int:
    """How many cells one task should run: about ``task_seconds`` of work, yet >= 4 tasks per slot."""
    seconds_per_cell = max(bars_per_cell, 1) / bars_per_second
    by_time = max(1, math.floor(task_seconds / seconds_per_cell))
    by_balance = max(1, cells // max(1, 4 * slots))
    return max(1, min(by_time, by_balance))


def plan_bundles(cells: Sequence[Cell], size: int) -> list[tuple[Cell, ...]]:
    """Cells grouped by data file (so a task loads one file), in chunks of at most ``size``."""
    by_file: dict[str, list[Cell]] = {}
    for cell in cells:
        by_file.setdefault(cell.path, []).append(cell)
    size = max(1, size)
    return [tuple(group[i:i + size]) for group in by_file.values() for i in range(0, len(group), size)]
