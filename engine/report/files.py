"""A run folder's files read back for the report: summary.json whole, equity.csv streamed and down-sampled.

The report is always made from the files (at the end of a run and by
``python -m engine report DIR``), so both give the same bytes. equity.csv
can hold millions of rows: it is read in blocks (pyarrow's streaming CSV
reader) and kept as a few thousand buckets (engine/results/decimate.py),
the drawdown computed exactly on every row before it is down-sampled.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.results.decimate import Decimator

EQUITY_POINTS = 2000


@dataclass
class Curve:
    """Down-sampled equity and drawdown: bucket start times (datetime64[ns]), last equity, deepest drawdown."""

    ts: np.ndarray
    equity: np.ndarray
    drawdown: np.ndarray  # <= 0, fraction of the running peak


def read_summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def read_equity(path: Path, points: int = EQUITY_POINTS) -> Curve:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    chart = Decimator(points)
    peak = -np.inf
    options = pacsv.ConvertOptions(column_types={"ts": pa.timestamp("ns"), "cash": pa.float64(), "equity": pa.float64()})
    with pacsv.open_csv(path, convert_options=options, read_options=pacsv.ReadOptions(block_size=1 << 22)) as reader:
        for batch in reader:
            ts = batch.column("ts").cast(pa.int64()).to_numpy()
            equity = batch.column("equity").to_numpy()
            peaks = np.maximum.accumulate(np.concatenate(([peak], equity)))[1:]
            peak = peaks[-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                drawdown = np.where(peaks > 0, equity / peaks - 1.0, 0.0)
            chart.add(ts, equity, equity, drawdown, equity)
    ts, _, _, drawdown, last = chart.buckets()
    return Curve(ts.astype("datetime64[ns]"), last, drawdown)


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
