"""A sweep from config to files: plan the cells, pick an executor, collect rows, write the outputs.

Why one function for both executors: the cells, the rows and the files are
the same wherever the backtests ran; only :meth:`rows` differs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import logwood

from engine.config import Config, SweepConfig, check_config
from engine.sweep.cache import ColumnStore
from engine.sweep.grid import check_grid, expand_data, expand_grid
from engine.sweep.preflight import cache_folder, claim_output
from engine.sweep.results import check_grid_keys, check_metric, write_heatmaps, write_tables
from engine.sweep.tasks import Cell, CellRunner, RunnerFactory, SweepJob
from engine.sweep.where import Where


class Executor(Protocol):
    def rows(self, cells: Sequence[Cell]) -> Iterator[dict[str, Any]]: ...


class InlineExecutor:
    """``--workers 0``: every cell in this process, one after the other (debugging, profiling)."""

    def __init__(self, job: SweepJob, factory: RunnerFactory = CellRunner) -> None:
        self.job = job
        self.factory = factory

    def rows(self, cells: Sequence[Cell]) -> Iterator[dict[str, Any]]:
        with self.factory(self.job, ColumnStore(self.job.cache_dir)) as run:
            for cell in cells:
                yield run(cell)


@dataclass
class SweepPlan:
    config: Config  # the base config every cell derives from
    grid: dict[str, list[Any]]
    files: list[Path]
    cells: list[Cell]
    out_dir: Path
    cache_dir: str | None = None  # None: no usable cache folder, the sweep runs uncached
    note: str | None = None  # why it runs uncached
    skipped: list[dict[str, Any]] = field(default_factory=list)  # parameter sets --where left out

    @property
    def sets(self) -> int:
        return len(self.cells) // max(1, len(self.files))

    def manifest(self) -> dict[str, Any]:
        """sweep.json: what the sweep was, for its report (python -m engine report DIR)."""
        settings = self.config.sweep
        return {"strategy": self.config.strategy.name, "grid": self.grid, "where": settings.where,
                "skipped_sets": self.skipped, "metric": settings.metric, "top": settings.top,
                "files": [str(f) for f in self.files]}


@dataclass
class SweepResult:
    plan: SweepPlan
    rows: list[dict[str, Any]]
    seconds: float
    executor: str  # "local (N workers)", "inline", "dask tcp://..."
    stopped: bool = False  # --fail-fast ended the batch early
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user should know (e.g. ran uncached)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("error")]


def sweep_id(config: Config, grid: dict[str, list[Any]], files: Sequence[Path]) -> str:
    """``sweep-<strategy>-<12 hex>`` over what decides the cells: a rerun lands in the same directory."""
    decisive = config.as_dict()
    for irrelevant in ("output", "metrics", "log_level", "sweep"):
        decisive.pop(irrelevant)
    decisive["data"].pop("paths")
    payload = json.dumps({"config": decisive, "grid": grid, "files": [str(f) for f in files]}, sort_keys=True, default=str)
    name = config.strategy.name.rsplit(":", 1)[-1].lower()
    return f"sweep-{name}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def plan_sweep(config: Config) -> SweepPlan:
    """Check the settings and list the cells: every data file x every parameter set of the grid."""
    from engine.backtest.driver import with_sample_data
    from strategies import load_strategy

    config = with_sample_data(config)
    settings = config.sweep
    check_metric(settings.metric)
    for name, low in (("workers", 0), ("bundle", 0), ("retries", 0), ("top", 1)):
        value = getattr(settings, name)
        if value is not None and (not isinstance(value, int) or value < low):
            raise ValueError(f"sweep {name} must be an integer >= {low}, got {value!r}")
    grid = check_grid(settings.grid)
    check_grid_keys(grid)
    declared = getattr(load_strategy(config.strategy.name), "params", {}) or {}
    unknown = sorted(set(grid) - set(declared))
    if unknown:
        raise ValueError(f"strategy {config.strategy.name!r} has no parameter(s) {', '.join(unknown)} "
                         f"(it has: {', '.join(sorted(declared)) or 'none'})")
    files = expand_data(config.data.paths)
    if not files:
        raise ValueError("sweep needs data: --data PATH|GLOB ... or [data] paths")
    sets = expand_grid(grid)
    skipped: list[dict[str, Any]] = []
    if settings.where:
        where = Where(settings.where, set(declared) | set(grid))
        fixed = {**declared, **config.strategy.params}
        kept = [s for s in sets if where({**fixed, **s})]
        skipped = [s for s in sets if s not in kept]
        sets = kept
        if not sets:
            raise ValueError(f"--where {settings.where!r} leaves no parameter set of the grid")
    cells = [Cell(i, str(path), params) for i, (path, params) in enumerate(itertools.product(files, sets))]
    out_dir = Path(config.output.dir) if config.output.dir else Path("results") / sweep_id(config, grid, files)
    cache_dir, note = cache_folder(settings.cache_dir)
    return SweepPlan(config=config, grid=grid, files=files, cells=cells, out_dir=out_dir, cache_dir=cache_dir, note=note,
                     skipped=skipped)


ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"


def scheduler_address(given: str | None) -> str | None:
    """``--dask ADDRESS`` or ``[sweep] dask``, else ``$DASK_SCHEDULER_ADDRESS``, else None (run locally)."""
    return given or os.environ.get(ADDRESS_ENV) or None


def make_executor(plan: SweepPlan, factory: RunnerFactory = CellRunner) -> tuple[Executor, str]:
    """Dask when an address is given (flag, config or $DASK_SCHEDULER_ADDRESS); else local processes.

    Dask is imported only then, so local sweeps work without it installed.
    """
    from engine.sweep.local import LocalExecutor, default_workers

    settings: SweepConfig = plan.config.sweep
    runs_dir = str(plan.out_dir / "runs") if settings.keep_runs else None
    job = SweepJob(config=plan.config, cache_dir=plan.cache_dir, runs_dir=runs_dir)
    address = scheduler_address(settings.dask)
    if address:
        from engine.sweep.dask_exec import DaskExecutor

        return DaskExecutor(job, address, bundle=settings.bundle, retries=settings.retries, factory=factory), f"dask {address}"
    if settings.workers == 0:
        return InlineExecutor(job, factory), "inline"
    workers = min(settings.workers or default_workers(), max(1, len(plan.cells)))
    return LocalExecutor(job, workers, factory=factory, max_deaths=settings.retries), f"local ({workers} workers)"


def write_sweep_report(out_dir: Path) -> Path:
    """report.html of the sweep; without the research extra (plotly) a note instead."""
    try:
        from engine.report.sweep_report import build_sweep_report
    except ImportError as exc:
        print(f"note: report.html not written ({exc}); pip install -e '.[research]' or pass --no-report", file=sys.stderr)
        return out_dir / "sweep.csv"
    return build_sweep_report(out_dir)


def run_sweep(config: Config, factory: RunnerFactory = CellRunner, executor: Executor | None = None,
              progress_stream: Any = None) -> SweepResult:
    """Run every cell, then write ``sweep.csv``, ``sweep.parquet`` and, for two-key grids, ``heatmap.png``."""
    from engine.runtime.logs import configure_logging

    configure_logging(check_config(config).log_level)
    plan = plan_sweep(config)
    settings = plan.config.sweep
    lock = claim_output(plan.out_dir, settings.force)
    try:
        return _run(plan, factory, executor, progress_stream)
    finally:
        lock.release()


def _run(plan: SweepPlan, factory: RunnerFactory, executor: Executor | None, progress_stream: Any) -> SweepResult:
    from engine.sweep.progress import Progress

    settings = plan.config.sweep
    if plan.note:
        logwood.get_logger("sweep").warning(plan.note)
    if executor is None:
        executor, label = make_executor(plan, factory)
    else:
        label = type(executor).__name__
    rows: dict[int, dict[str, Any]] = {}
    stopped = False
    t0 = time.perf_counter()
    with Progress(len(plan.cells), quiet=settings.quiet, stream=progress_stream) as progress, \
            closing(executor.rows(plan.cells)) as stream:
        for row in stream:
            if row["cell"] in rows:  # a bundle rerun after its worker died: the first answer stands
                continue
            rows[row["cell"]] = row
            progress.update(row)
            if settings.fail_fast and row.get("error"):
                stopped = True
                break
    seconds = time.perf_counter() - t0
    ordered = [rows[i] for i in sorted(rows)]
    result = SweepResult(plan=plan, rows=ordered, seconds=seconds, executor=label, stopped=stopped,
                         notes=[plan.note] if plan.note else [])
    result.outputs = write_tables(ordered, list(plan.grid), plan.out_dir)
    manifest = plan.out_dir / "sweep.json"
    manifest.write_text(json.dumps(plan.manifest(), indent=2, allow_nan=False, default=str) + "\n")
    result.outputs.append(manifest)
    if len(plan.grid) == 2 and ordered:
        result.outputs += write_heatmaps(ordered, plan.grid, settings.metric, plan.out_dir)
    if plan.config.output.report:
        result.outputs.append(write_sweep_report(plan.out_dir))
    return result
