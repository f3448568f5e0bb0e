"""``engine.backtest(...)`` for notebooks: DataFrames in, a result with pandas tables and an inline report out.

The run is exactly ``python -m engine backtest``'s: DataFrames are written
as generic OHLCV CSV files first (content-addressed under
``results/data/``, numbers as ``repr``), so the run has data files with
hashes, a run id and a folder like any other, and can be rerun from the
command line. Inside a running event loop (Jupyter's) the backtest runs on
its own loop in a worker thread: one loop per thread, none nested.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.config import BrokerSettings, Config, DataConfig, OutputConfig, StrategyConfig
from engine.results.texts import csv_rows

OHLCV = ("open", "high", "low", "close", "volume")
DATA_DIR = Path("results") / "data"


def backtest(strategy: str | type, data: Any, params: Mapping[str, Any] | None = None, *, out: str | Path | None = None,
             report: bool = True, data_format: str = "auto", **broker: Any) -> Result:
    """Run one backtest; see ``engine.backtest``."""
    name = strategy_name(strategy)
    paths = data_paths(data)
    known = set(BrokerSettings.__struct_fields__)
    unknown = sorted(set(broker) - known)
    if unknown:
        raise TypeError(f"unknown broker setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    config = Config(data=DataConfig(paths=tuple(paths), format=data_format),
                    strategy=StrategyConfig(name=name, params=dict(params or {})),
                    broker=BrokerSettings(**broker),
                    output=OutputConfig(dir=str(out) if out is not None else None, report=report))
    result = _run(config)
    return Result(result.out_dir, result.summary)


def _run(config: Config) -> Any:
    from engine.backtest.driver import run_backtest

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_backtest(config)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="engine-backtest") as pool:
        return pool.submit(run_backtest, config).result()


def strategy_name(strategy: str | type) -> str:
    """A built-in name, ``module:Class``, or a Strategy class (importable by its module and name, as a notebook's are)."""
    if isinstance(strategy, str):
        return strategy
    from strategies import load_strategy

    name = f"{strategy.__module__}:{strategy.__qualname__}"
    if load_strategy(name) is not strategy:
        raise ValueError(f"strategy class {strategy.__qualname__} cannot be found again as {name}: define it at module level")
    return name


def data_paths(data: Any) -> list[str]:
    """File paths as given; a DataFrame or a dict of them (instrument -> frame) written to CSV files first."""
    if isinstance(data, pd.DataFrame):
        return [str(frame_file(data, str(data.attrs.get("instrument") or "data")))]
    if isinstance(data, Mapping):
        return [str(frame_file(frame, str(name))) for name, frame in data.items()]
    if isinstance(data, str | Path):
        return [str(data)]
    if isinstance(data, Sequence):
        return [str(p) for p in data]
    raise TypeError(f"data must be file paths, a pandas DataFrame or a dict of them, not {type(data).__name__}")


def frame_file(frame: pd.DataFrame, instrument: str) -> Path:
    """The frame as ``results/data/<instrument>-<hash>.csv`` (timestamp in epoch ns, numbers as repr); reused if there."""
    columns = {str(c).lower(): c for c in frame.columns}
    missing = [c for c in OHLCV if c not in columns]
    if missing:
        raise ValueError(f"DataFrame for {instrument!r} lacks column(s) {', '.join(missing)} (needs {', '.join(OHLCV)})")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(f"DataFrame for {instrument!r} needs a DatetimeIndex, not {type(frame.index).__name__}")
    index = frame.index.tz_convert("UTC").tz_localize(None) if frame.index.tz is not None else frame.index
    stamps = [str(t).encode() for t in index.as_unit("ns").asi8.tolist()]
    values = [np.asarray(frame[columns[c]], dtype=np.float64) for c in OHLCV]
    text = b"timestamp," + ",".join(OHLCV).encode() + b"\n" + csv_rows(stamps, *values)
    digest = hashlib.sha256(text).hexdigest()[:12]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in instrument)
    path = DATA_DIR / safe / f"{safe}-{digest}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(text)
        tmp.replace(path)
    return path


class Result:
    """A finished run: its folder's files as pandas objects, and its report."""

    def __init__(self, out_dir: Path, summary: dict[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.summary = summary

    def __repr__(self) -> str:
        return f"<backtest {self.summary.get('run_id')}: final value {self.summary.get('final_value'):,.2f}, {self.out_dir}>"

    @property
    def stats(self) -> pd.Series:
        """Every figure of summary.json (nested ones as ``trades.all.win_rate``...), as one Series."""
        flat: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict) and prefix not in ("params", "reject_reasons", "broker", "null_reasons", "error"):
                for key, item in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), item)
            else:
                flat[prefix] = value

        walk("", self.summary)
        return pd.Series(flat, dtype=object, name=self.summary.get("run_id"))

    @property
    def trades(self) -> pd.DataFrame:
        return pd.read_csv(self.out_dir / "trades.csv", parse_dates=["entry_time", "exit_time"])

    @property
    def equity(self) -> pd.DataFrame:
        return pd.read_csv(self.out_dir / "equity.csv", index_col="ts", parse_dates=["ts"])

    @property
    def fills(self) -> pd.DataFrame:
        return pd.read_csv(self.out_dir / "fills.csv", parse_dates=["ts"])

    @property
    def orders(self) -> pd.DataFrame:
        return pd.read_csv(self.out_dir / "orders.csv", parse_dates=["submitted", "closed"])

    def plot(self) -> Report:
        """The interactive report; a notebook shows it inline (built from the files if the run had none)."""
        path = self.out_dir / "report.html"
        if not path.exists():
            from engine.report.run_report import build_run_report

            build_run_report(self.out_dir)
        return Report(path)


class Report:
    """report.html shown inline by Jupyter (an isolated iframe: the page's own scripts and styles stay its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _repr_html_(self) -> str:
        page = html.escape(self.path.read_text(encoding="utf-8"), quote=True)
        return f'<iframe srcdoc="{page}" style="width: 100%; height: 900px; border: 0;"></iframe>'

    def __repr__(self) -> str:
        return f"<report {self.path}>"
