"""The local executor: one worker process per core, replaced when it dies, its unfinished cells resubmitted.

Why not ``concurrent.futures.ProcessPoolExecutor``: one worker killed by
``kill -9`` (or the OOM killer) breaks that pool for good and fails every
pending future. Here each worker has its own pipe and the parent knows
exactly which cells it holds: rows stream back one per cell, and when the
process dies the parent drains what it sent, starts a replacement and
queues the cells it had not finished. Only the cell that was running when
the worker died is held responsible; after ``max_deaths`` deaths it becomes
an error row, so a cell that always crashes its worker cannot stall the batch.
A worker process keeps its :class:`ColumnStore` for its whole life, so it
parses each file at most once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from engine.sweep.cache import ColumnStore
from engine.sweep.tasks import Cell, CellRunner, RunnerFactory, SweepJob, plan_bundles

STOP = None
READY = "ready"
START_DEATHS = 3  # workers dying before they are ready, in a row: the set-up is broken, not a cell


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_main(conn: Connection, job: SweepJob, factory: RunnerFactory) -> None:
    """A worker's life: receive a bundle, send one row per cell as it finishes; ``STOP`` ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    store = ColumnStore(job.cache_dir)
    with factory(job, store) as run:
        conn.send(READY)
        while True:
            try:
                bundle = conn.recv()
            except EOFError:
                return
            if bundle is STOP:
                return
            for cell in bundle:
                conn.send(run(cell))


def died_row(cell: Cell, exitcode: int | None, deaths: int) -> dict[str, Any]:
    how = f"killed by {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
    return {"cell": cell.index, "instrument": os.path.splitext(os.path.basename(cell.path))[0], "data": cell.path,
            "grid": dict(cell.params), "error": f"worker process died ({how}) {deaths} times running this backtest"}


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    held: dict[int, Cell] = field(default_factory=dict)  # sent and not yet answered, in running order
    ready: bool = False  # it has set up and said so: from now on a death is blamed on its cell


class LocalExecutor:
    """Runs cells on ``workers`` processes of this machine; :meth:`rows` yields rows as they finish."""

    def __init__(self, job: SweepJob, workers: int, factory: RunnerFactory = CellRunner,
                 max_deaths: int = 2, bundle: int = 4, start_method: str = "spawn") -> None:
        self.job = job
        self.workers = max(1, workers)
        self.factory = factory
        self.max_deaths = max_deaths
        self.bundle = max(1, bundle)
        self._context = multiprocessing.get_context(start_method)
        self.replaced = 0  # workers started to replace dead ones
        self.startup_seconds: float | None = None  # until the first workers were all ready (spawn + imports)
        self._started = 0.0
        self._unready = 0

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=worker_main, args=(child, self.job, self.factory),
                                        name="engine-sweep-worker", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def rows(self, cells: Sequence[Cell]) -> Iterator[dict[str, Any]]:
        """Yield one row per cell, in completion order. Closing the iterator stops the workers."""
        size = min(self.bundle, max(1, len(cells) // (4 * self.workers)))
        pending: deque[tuple[Cell, ...]] = deque(plan_bundles(cells, size))
        deaths: dict[int, int] = {}
        start_deaths = 0
        self._started = time.perf_counter()
        pool = [self._start() for _ in range(min(self.workers, len(pending)))]
        self._unready = len(pool)
        try:
            while pending or any(w.held for w in pool):
                for worker in pool:
                    if not worker.held and pending:
                        bundle = pending.popleft()
                        worker.held = {c.index: c for c in bundle}
                        try:
                            worker.conn.send(bundle)
                        except OSError:  # it just died: its sentinel says so below, and the cells go back
                            pass
                wait([w.conn for w in pool if w.held] + [w.process.sentinel for w in pool])
                for worker in list(pool):
                    yield from self._drain(worker)
                    if worker.process.is_alive():
                        continue
                    pool.remove(worker)
                    worker.process.join()
                    worker.conn.close()
                    leftover = list(worker.held.values())
                    if not worker.ready:
                        start_deaths += 1
                        if start_deaths >= START_DEATHS:
                            raise RuntimeError("sweep workers keep dying before they are ready "
                                               f"(exit code {worker.process.exitcode}); nothing was run")
                    elif leftover:
                        start_deaths = 0
                        culprit = leftover[0]  # cells run in order: the first unanswered one was running
                        deaths[culprit.index] = deaths.get(culprit.index, 0) + 1
                        if deaths[culprit.index] > self.max_deaths:
                            yield died_row(culprit, worker.process.exitcode, deaths[culprit.index])
                            leftover = leftover[1:]
                    if leftover:
                        pending.appendleft(tuple(leftover))
                    if pending:
                        pool.append(self._start())
                        self.replaced += 1
        finally:
            self._stop(pool)

    def _drain(self, worker: _Worker) -> Iterator[dict[str, Any]]:
        """Everything the worker has sent, including what it sent just before dying."""
        while True:
            try:
                if not worker.conn.poll():
                    return
                message = worker.conn.recv()
            except (EOFError, OSError):
                return
            if message == READY:
                worker.ready = True
                self._unready -= 1
                if self._unready == 0 and self.startup_seconds is None:
                    self.startup_seconds = time.perf_counter() - self._started
                continue
            worker.held.pop(message["cell"], None)
            yield message

    def _stop(self, pool: list[_Worker]) -> None:
        """Idle workers are told to stop; busy ones (an abandoned batch) are killed."""
        for worker in pool:
            if worker.held or not worker.process.is_alive():
                worker.process.kill()
                continue
            try:
                worker.conn.send(STOP)
            except OSError:
                worker.process.kill()
        for worker in pool:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
