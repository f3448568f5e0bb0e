"""The Dask executor on a real cluster: separate `dask scheduler` and `dask worker` processes on
127.0.0.1 (conftest), bundled tasks, a worker killed mid-batch, failed tasks as rows."""

import os
import signal

import pytest

from engine.config import Config
from engine.sweep.dask_exec import TRIM_ENV, DaskExecutor, worker_trim_setting
from engine.sweep.tasks import Cell, SweepJob
from tests.engine.sweep.support import FakeRunner, free_port


def job(tmp_path):
    return SweepJob(config=Config(), cache_dir=str(tmp_path / "cache"))


def cells(n, **params):
    return [Cell(i, f"/data/I{i % 2}.csv", {"x": i, **params}) for i in range(n)]


def test_workers_run_without_dasks_malloc_trim_setting(dask_cluster):
    settings = dask_cluster.client.run(worker_trim_setting)
    assert len(settings) == 2 and set(settings.values()) == {None}, f"{TRIM_ENV} on workers: {settings}"


def test_every_cluster_process_listens_on_loopback_only(dask_cluster):
    import psutil

    processes = [psutil.Process(p.pid) for p in dask_cluster.processes]
    processes += [child for p in processes for child in p.children(recursive=True)]
    listening = [c.laddr for p in processes for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert len(listening) >= 6  # scheduler + its HTTP endpoint, 2 nannies, 2 workers (+ their HTTP endpoints)
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_cells_are_bundled_and_every_cell_comes_back_once(dask_cluster, tmp_path):
    executor = DaskExecutor(job(tmp_path), dask_cluster.address, bundle=3, factory=FakeRunner)
    rows = list(executor.rows(cells(20)))
    assert sorted(r["cell"] for r in rows) == list(range(20))
    assert executor.tasks == 8  # 10 cells per file, in bundles of 3: 4 + 4
    assert executor.slots == 2
    assert len({r["worker"] for r in rows}) == 2


def test_auto_bundles_keep_every_worker_busy(dask_cluster, tmp_path):
    executor = DaskExecutor(job(tmp_path), dask_cluster.address, factory=FakeRunner)
    rows = list(executor.rows(cells(40)))
    assert len(rows) == 40
    assert executor.tasks >= 4 * executor.slots


def test_a_worker_killed_mid_batch_is_restarted_and_the_batch_completes(dask_cluster, tmp_path):
    executor = DaskExecutor(job(tmp_path), dask_cluster.address, bundle=1, retries=1, factory=FakeRunner)
    before = set(dask_cluster.worker_pids().values())
    stream = executor.rows(cells(16, sleep=0.15))
    rows = [next(stream)]
    victim = next(pid for pid in before if f"pid:{pid}" != rows[0]["worker"])
    os.kill(victim, signal.SIGKILL)  # busy with another bundle right now
    rows.extend(stream)
    assert sorted(r["cell"] for r in rows) == list(range(16))
    assert all(r["error"] is None for r in rows)
    dask_cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert victim not in set(dask_cluster.worker_pids().values())


def test_a_task_that_kills_its_worker_once_is_rescheduled(dask_cluster, tmp_path):
    work = cells(6)
    work[3] = Cell(3, work[3].path, {"x": 3, "kill_marker": str(tmp_path / "killed")})
    executor = DaskExecutor(job(tmp_path), dask_cluster.address, bundle=1, factory=FakeRunner)
    rows = list(executor.rows(work))
    assert (tmp_path / "killed").exists()
    assert sorted(r["cell"] for r in rows) == list(range(6)) and all(r["error"] is None for r in rows)
    dask_cluster.client.wait_for_workers(2, timeout=60)


def test_a_task_that_raises_is_retried_then_becomes_error_rows(dask_cluster, tmp_path):
    executor = DaskExecutor(job(tmp_path), dask_cluster.address, bundle=2, retries=2, factory=RaiseEveryTime)
    rows = list(executor.rows(cells(4)))
    assert sorted(r["cell"] for r in rows) == [0, 1, 2, 3]
    assert all(r["error"] == "dask task failed: OSError: disk on fire" for r in rows)


class RaiseEveryTime(FakeRunner):
    def __call__(self, cell):
        raise OSError("disk on fire")


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    executor = DaskExecutor(job(tmp_path), f"tcp://127.0.0.1:{free_port()}", factory=FakeRunner, connect_timeout=1)
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:"):
        list(executor.rows(cells(2)))
