"""The local executor: rows stream back per cell; a worker killed with SIGKILL is replaced and its
unfinished cells resubmitted; a cell that keeps killing workers becomes an error row."""

import multiprocessing
import os
import signal

import pytest

from engine.config import Config
from engine.sweep.local import LocalExecutor
from engine.sweep.tasks import Cell, SweepJob
from tests.engine.sweep.support import FakeRunner


def job(tmp_path):
    return SweepJob(config=Config(), cache_dir=str(tmp_path / "cache"))


def cells(n, **params):
    return [Cell(i, f"/data/I{i % 3}.csv", {"x": i, **params}) for i in range(n)]


def test_every_cell_once_on_two_workers(tmp_path):
    executor = LocalExecutor(job(tmp_path), workers=2, factory=FakeRunner, bundle=3)
    rows = list(executor.rows(cells(20, sleep=0.01)))
    assert sorted(r["cell"] for r in rows) == list(range(20))
    assert all(r["error"] is None for r in rows)
    assert len({r["worker"] for r in rows}) == 2
    assert executor.replaced == 0


def test_a_worker_killed_mid_batch_is_replaced_and_its_cells_rerun(tmp_path):
    marker = tmp_path / "killed-once"
    work = cells(16, sleep=0.02)
    work[5] = Cell(5, work[5].path, {"x": 5, "kill_marker": str(marker)})  # SIGKILLs its worker, once
    executor = LocalExecutor(job(tmp_path), workers=2, factory=FakeRunner, bundle=4)
    rows = list(executor.rows(work))
    assert marker.exists()
    killed_pid = int(marker.read_text())
    assert sorted(r["cell"] for r in rows) == list(range(16))  # each exactly once
    assert all(r["error"] is None for r in rows)
    assert executor.replaced == 1
    assert f"pid:{killed_pid}" not in {r["worker"] for r in rows if r["cell"] == 5}
    with pytest.raises(ProcessLookupError):
        os.kill(killed_pid, 0)


def test_a_cell_that_always_kills_its_worker_becomes_an_error_row(tmp_path):
    work = cells(6)
    work[2] = Cell(2, work[2].path, {"x": 2, "kill_always": True})
    executor = LocalExecutor(job(tmp_path), workers=2, factory=KillEveryTime, bundle=2, max_deaths=2)
    rows = {r["cell"]: r for r in executor.rows(work)}
    assert sorted(rows) == list(range(6))
    assert "killed by SIGKILL" in rows[2]["error"] and "3 times" in rows[2]["error"]
    assert all(rows[i]["error"] is None for i in rows if i != 2)
    assert executor.replaced in (2, 3)  # no replacement for the third death if nothing is left to run


class KillEveryTime(FakeRunner):
    def __call__(self, cell):
        if cell.params.get("kill_always"):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(cell)


def test_closing_the_iterator_early_stops_every_worker(tmp_path):
    executor = LocalExecutor(job(tmp_path), workers=2, factory=FakeRunner, bundle=1)
    stream = executor.rows(cells(30, sleep=0.05))
    first = next(stream)
    assert first["error"] is None
    stream.close()  # what --fail-fast does
    assert not multiprocessing.active_children()


def test_workers_that_cannot_start_fail_the_batch_instead_of_looping(tmp_path):
    executor = LocalExecutor(job(tmp_path), workers=1, factory=DieAtStart)
    with pytest.raises(RuntimeError, match="keep dying"):
        list(executor.rows(cells(3)))


class DieAtStart(FakeRunner):
    def __enter__(self):
        os._exit(3)
