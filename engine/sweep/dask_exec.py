"""The Dask executor: the same cells on an existing Dask distributed cluster, bundled, with retries.

Why Dask and not a home-made cluster: scheduling, worker restarts after a
crash (the nanny), rescheduling a dead worker's tasks and retries are
Dask's job. We add what is ours: bundling short backtests into one task
(a task costs ~1 ms of scheduler time and a round trip, a 20,000-bar
backtest ~100 ms), and a worker plugin that keeps one :class:`ColumnStore`
per worker process so each worker parses each file at most once.

Workers must import this project (same code and Python as the client).
Start them with ``--preload-nanny engine.sweep.dask_nanny`` to apply the
worker settings of ``apply_worker_settings``; a sweep warns when they
were not.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from engine.sweep.cache import ColumnStore
from engine.sweep.tasks import (
    Cell,
    CellRunner,
    RunnerFactory,
    SweepJob,
    bundle_size,
    error_text,
    estimate_bars,
    plan_bundles,
    run_cells,
)

PLUGIN = "engine-sweep"
TRIM_ENV = "MALLOC_TRIM_THRESHOLD_"


def apply_worker_settings() -> None:
    """Nannies started in this process spawn workers without Dask's ``MALLOC_TRIM_THRESHOLD_=65536``.

    That default (distributed.nanny.pre-spawn-environ) also freezes glibc's
    mmap threshold, so every large numpy array is mmap'd and unmapped on each
    allocation; numpy-heavy tasks ran 1.6-2x slower with it. Must run after
    ``import distributed``, whose import installs the default.
    """
    import dask
    import distributed  # noqa: F401 - installs the defaults we override

    dask.config.set({f"distributed.nanny.pre-spawn-environ.{TRIM_ENV}": None})


class StorePlugin(WorkerPlugin):
    """A Dask worker plugin: the worker process's ColumnStores, one per cache directory."""

    idempotent = True  # a second sweep keeps the first one's memo

    def __init__(self) -> None:
        self.stores: dict[str, ColumnStore] = {}

    def setup(self, worker: Any) -> None:
        self.stores = {}

    def teardown(self, worker: Any) -> None:
        self.stores = {}

    def store(self, cache_dir: str) -> ColumnStore:
        if cache_dir not in self.stores:
            self.stores[cache_dir] = ColumnStore(cache_dir)
        return self.stores[cache_dir]


def worker_store(cache_dir: str) -> ColumnStore:
    """This worker's store (from the plugin), or a fresh one outside a worker."""
    try:
        from distributed import get_worker

        plugin = get_worker().plugins.get(PLUGIN)
    except ValueError:
        plugin = None
    return plugin.store(cache_dir) if plugin is not None else ColumnStore(cache_dir)


def run_bundle(job: SweepJob, cells: tuple[Cell, ...], factory: RunnerFactory = CellRunner) -> list[dict[str, Any]]:
    """One Dask task: a bundle of cells of one data file, run in order on this worker."""
    return run_cells(job, cells, worker_store(job.cache_dir), factory)


def worker_trim_setting() -> str | None:
    return os.environ.get(TRIM_ENV)


def failed_rows(cells: Sequence[Cell], exc: BaseException) -> list[dict[str, Any]]:
    """The task failed for good (retries spent, or its worker died too often): a row per cell says why."""
    text = f"dask task failed: {error_text(exc)}"
    return [{"cell": c.index, "instrument": os.path.splitext(os.path.basename(c.path))[0], "data": c.path,
             "grid": dict(c.params), "error": text} for c in cells]


class DaskExecutor:
    """Runs cells as bundled tasks on the scheduler at ``address``; :meth:`rows` yields rows as tasks finish."""

    def __init__(self, job: SweepJob, address: str, bundle: int = 0, retries: int = 2,
                 factory: RunnerFactory = CellRunner, connect_timeout: float = 10.0) -> None:
        self.job = job
        self.address = address
        self.bundle = bundle
        self.retries = retries
        self.factory = factory
        self.connect_timeout = connect_timeout
        self.slots = 0  # worker threads seen at the start
        self.tasks = 0

    def plan(self, cells: Sequence[Cell], slots: int) -> list[tuple[Cell, ...]]:
        """Bundles of ~1 s of work each (unless ``bundle`` is set), still >= 4 tasks per worker thread."""
        size = self.bundle
        if size <= 0:
            files = {c.path for c in cells}
            bars = sum(estimate_bars(p) for p in files) / max(1, len(files))
            size = bundle_size(bars, len(cells), slots)
        return plan_bundles(cells, size)

    def rows(self, cells: Sequence[Cell]) -> Iterator[dict[str, Any]]:
        """Yield one row per cell, a task's rows together. Closing the iterator cancels what is left."""
        from distributed import Client, as_completed

        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except OSError as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        with client:
            client.register_plugin(StorePlugin(), name=PLUGIN)
            self.slots = sum(client.nthreads().values())
            self._warn_on_trim(client)
            bundles = self.plan(cells, max(1, self.slots))
            self.tasks = len(bundles)
            futures = {
                client.submit(run_bundle, self.job, bundle, self.factory, retries=self.retries, pure=False,
                              key=f"engine-sweep-{bundle[0].index}-{os.urandom(4).hex()}"): bundle
                for bundle in bundles
            }
            try:
                for future in as_completed(futures, loop=client.loop):
                    try:
                        rows = future.result()
                    except Exception as exc:
                        rows = failed_rows(futures[future], exc)
                    yield from rows
            finally:
                client.cancel(list(futures))

    def _warn_on_trim(self, client: Any) -> None:
        settings = set(client.run(worker_trim_setting).values())
        if settings - {None}:
            print(f"warning: Dask workers run with {TRIM_ENV}={'/'.join(sorted(s for s in settings if s))}, "
                  "which slows numpy; start them with --preload-nanny engine.sweep.dask_nanny",
                  file=sys.stderr)
