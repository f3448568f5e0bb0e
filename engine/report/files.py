"""A run folder's files read back for the report: summary.json, equity_chart.csv, trades.csv, prices.csv.

The report is always made from the files (at the end of a run and by
``python -m engine report DIR``), so both give the same bytes. The long
series come down-sampled by the run itself (equity_chart.csv, prices.csv:
a few thousand buckets each, engine/results/decimate.py), so the report
never reads the millions of rows of equity.csv.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Curve:
    """Down-sampled equity and drawdown: bucket start times (datetime64[ns]), last equity, deepest drawdown."""

    ts: np.ndarray
    equity: np.ndarray
    drawdown: np.ndarray  # <= 0, fraction of the running peak


def read_summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def read_curve(path: Path) -> Curve:
    """equity_chart.csv: the run's equity curve as the recorder down-sampled it (a few thousand rows)."""
    rows = read_rows(path)
    return Curve(np.array([r["ts"] for r in rows], dtype="datetime64[ns]"),
                 np.array([float(r["equity"]) for r in rows]), np.array([float(r["drawdown"]) for r in rows]))


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
