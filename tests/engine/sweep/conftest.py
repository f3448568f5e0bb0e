"""Fixtures of the sweep tests: small seeded data files, and a real Dask cluster on 127.0.0.1.

The cluster is what a user runs: a ``dask scheduler`` process and a
``dask worker`` process (two worker processes behind their nannies, with
this project's nanny preload), each started here, stopped with
``client.shutdown()`` and then by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import ROOT as REPO_ROOT


@pytest.fixture
def data_files(tmp_path: Path) -> list[Path]:
    """Three 1,500-bar seeded minute-bar files, AAA/BBB/CCC."""
    from benchmarks.datagen import ohlcv_file

    return [ohlcv_file(1500, seed=i + 1, instrument=name, directory=tmp_path / "data")
            for i, name in enumerate(["AAA", "BBB", "CCC"])]


@dataclass
class DaskCluster:
    address: str
    client: object
    processes: list[subprocess.Popen]
    log_dir: Path

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A scheduler and two single-threaded workers, separate processes bound to 127.0.0.1.

    ``--no-dashboard`` still leaves each process an HTTP endpoint (health,
    metrics) on all interfaces: ``--dashboard-address 127.0.0.1:0`` keeps it
    on loopback, on a free port.
    """
    from distributed import Client

    from tests.engine.sweep.support import free_port

    work = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_TRIM_THRESHOLD_", "DASK_SCHEDULER_ADDRESS")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)  # tests.* for the workers
    dask = [sys.executable, "-m", "dask"]
    commands = {
        "scheduler": [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                      "--dashboard-address", "127.0.0.1:0"],
        "worker": [*dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "2", "--nthreads", "1",
                   "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--preload-nanny", "engine.sweep.dask_nanny", "--memory-limit", "0",
                   "--local-directory", str(work / "space"), "--death-timeout", "60"],
    }
    processes: list[subprocess.Popen] = []
    client = None
    try:
        for name, command in commands.items():
            log = (work / f"{name}.log").open("wb")
            processes.append(subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
            if name == "scheduler":
                _wait_for_port(port, processes[0], work / "scheduler.log")
        client = Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=90)
        yield DaskCluster(address, client, processes, work)
    finally:
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # already gone: the PIDs below are the backstop
                pass
            client.close()
        for process in reversed(processes):
            _stop(process)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dask scheduler did not listen on {port}: {log.read_text()[-2000:]}")
