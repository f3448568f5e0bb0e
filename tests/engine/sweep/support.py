"""Helpers the sweep tests ship to worker processes: importable as ``tests.engine.sweep.support`` (the Dask
fixture puts the repository on the workers' PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from strategies.sma_cross import SmaCross


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (for the scheduler, or to be refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kill_me_once(marker: str) -> None:
    """SIGKILL this process the first time ``marker`` is seen; the marker file makes it happen once."""
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


class FakeRunner:
    """A stand-in for CellRunner: figures from the params, optional sleep, kill or exception per cell."""

    def __init__(self, job: Any, store: Any) -> None:
        self.job = job
        self.store = store
        self.pid = os.getpid()

    def __enter__(self) -> FakeRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, cell: Any) -> dict[str, Any]:
        params = dict(cell.params)
        kill_me_once(str(params.get("kill_marker", "")))
        time.sleep(float(params.get("sleep", 0.0)))
        row = {"cell": cell.index, "instrument": Path(cell.path).stem, "data": cell.path, "grid": params,
               "error": None, "worker": f"pid:{self.pid}", "total_return": float(params.get("x", 0)) / 100}
        if params.get("boom"):
            row["error"] = "RuntimeError: boom"
        return row


class KillOnce(SmaCross):
    """sma_cross that SIGKILLs its worker process at start, once per marker file."""

    params = {**SmaCross.params, "marker": ""}

    def on_start(self):
        kill_me_once(self.p.marker)
        super().on_start()


class RaiseOnBar(SmaCross):
    """sma_cross whose on_bar raises when ``fail`` is true (the host turns that into agent errors)."""

    params = {**SmaCross.params, "fail": False}

    def on_bar(self, bar, ind):
        if self.p.fail:
            raise ZeroDivisionError("strategy blew up")
        super().on_bar(bar, ind)


def parse_csv(path: Path, options: Any) -> Any:
    """A tiny OHLCV parser for the cache tests (the real one is engine.data)."""
    import numpy as np

    from engine.data import BarColumns, Report

    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str, ndmin=2)
    values = raw[:, 1:6].astype(np.float64)
    columns = BarColumns(
        options.instrument or Path(path).stem.split("_")[0],
        raw[:, 0].astype("datetime64[ns]").astype(np.int64),
        *(np.ascontiguousarray(values[:, i]) for i in range(5)),
    )
    return columns, Report()


def load_and_report(cache_dir: str, path: str, go: Any, out: Any) -> None:
    """A process that waits for ``go`` then loads ``path``: reports how it got the columns."""
    from engine.sweep.cache import ColumnStore, ParseOptions

    store = ColumnStore(cache_dir, parse=parse_csv)
    go.wait()
    loaded = store.load(path, ParseOptions())
    out.put((loaded.source, int(loaded.columns.ts.sum()), float(loaded.columns.close.sum())))


def write_many(entry: str, n_rows: int, times: int, go: Any) -> None:
    """Overwrite one cache entry ``times`` times with ``n_rows`` rows whose values all equal ``n_rows``."""
    import numpy as np

    from engine.data import BarColumns, Report
    from engine.sweep.cache import write_entry

    columns = BarColumns(f"N{n_rows}", np.full(n_rows, n_rows, dtype=np.int64),
                         *(np.full(n_rows, float(n_rows)) for _ in range(5)))
    go.wait()
    for _ in range(times):
        write_entry(Path(entry), columns, Report(), f"digest-{n_rows}")
