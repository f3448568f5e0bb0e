"""A run folder's files read back for the report: summary.json whole, equity.csv streamed and down-sampled.

The report is always made from the files (at the end of a run and by
``python -m engine report DIR``), so both give the same bytes. equity.csv
can hold millions of rows: it is read in blocks (numpy parses the columns)
and kept as a few thousand buckets (engine/results/decimate.py),
the drawdown computed exactly on every row before it is down-sampled.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
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


def read_equity(path: Path, points: int = EQUITY_POINTS, block: int = 1 << 22) -> Curve:
    """equity.csv (``ts,cash,equity``, as the recorder writes it) a block of lines at a time, down-sampled."""
    chart = Decimator(points)
    peak = -np.inf
    for ts, equity in _equity_blocks(path, block):
        peaks = np.maximum.accumulate(np.concatenate(([peak], equity)))[1:]
        peak = peaks[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdown = np.where(peaks > 0, equity / peaks - 1.0, 0.0)
        chart.add(ts, equity, equity, drawdown, equity)
    ts, _, _, drawdown, last = chart.buckets()
    return Curve(ts.astype("datetime64[ns]"), last, drawdown)


def _equity_blocks(path: Path, block: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ts as int64 ns, equity) per block of whole lines; numpy parses the text columns (no pandas, no per-row Python)."""
    with open(path, "rb") as handle:
        header = handle.readline()
        if header.strip() != b"ts,cash,equity":
            raise ValueError(f"{path}: not an equity.csv (header {header.strip()!r})")
        rest = b""
        while True:
            data = handle.read(block)
            text = rest + data
            cut = text.rfind(b"\n") + 1 if data else len(text)  # whole lines; at the end, whatever is left
            lines, rest = text[:cut], text[cut:]
            if lines.strip():
                cells = np.array(lines.rstrip(b"\n").replace(b"\n", b",").split(b","))
                stamps = cells[0::3].astype("datetime64[ns]").astype(np.int64)
                yield stamps, cells[2::3].astype(np.float64)
            if not data:
                return


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
