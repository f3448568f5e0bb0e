"""The sweep's outputs: one table (CSV and parquet), the ranked text tables, a heatmap for 2-parameter grids.

Why both files: CSV for a glance and any tool, parquet with real column
types for analysis. Dicts and lists (params, reject reasons) are JSON text in
both so the two hold the same values; numbers are written exactly.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FRONT = ["cell", "instrument", "data"]
IDENTITY = ["strategy", "params", "run_id"]
FIGURES = [
    "bars", "first_bar", "last_bar", "fills", "orders_submitted", "orders_rejected", "orders_canceled",
    "round_trips", "total_commission", "initial_cash", "final_value", "total_return", "max_drawdown",
    "sharpe", "agent_errors", "rows_skipped", "reject_reasons",
]
TAIL = ["error", "seconds", "load_seconds", "data_source", "worker"]
NOT_COLUMNS = {"grid", "data_files"}  # the grid has its own columns; data_files is [data]
RESERVED = set(FRONT + IDENTITY + FIGURES + TAIL) | NOT_COLUMNS

# rankable figures: +1 higher is better, -1 lower is better
METRICS = {"total_return": 1, "sharpe": 1, "final_value": 1, "round_trips": 1, "fills": 1,
           "max_drawdown": -1, "total_commission": -1}


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"unknown sweep metric {metric!r} (one of {', '.join(METRICS)})")
    return metric


def check_grid_keys(keys: Iterable[str]) -> None:
    """A grid key becomes a column of its own: it may not shadow a column of the table."""
    clash = sorted(set(keys) & RESERVED)
    if clash:
        raise ValueError(f"sweep grid key(s) {', '.join(clash)} clash with result columns; rename the parameter")


def columns_for(rows: Sequence[Mapping[str, Any]], grid_keys: Sequence[str]) -> list[str]:
    """Table columns: identity, one per grid key, the summary figures (and any new ones), then diagnostics."""
    columns = FRONT + list(grid_keys) + IDENTITY + FIGURES
    known = set(columns) | set(TAIL) | NOT_COLUMNS
    extra = [k for row in rows for k in row if k not in known]
    return columns + list(dict.fromkeys(extra)) + TAIL


def flat(row: Mapping[str, Any], column: str) -> Any:
    """The cell of the table: grid values from ``grid``, containers as JSON text."""
    grid = row.get("grid") or {}
    value = grid[column] if column in grid and column not in row else row.get(column)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=isinstance(value, dict), default=str)
    return value


def write_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], path: Path) -> Path:
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if (v := flat(row, c)) is None else repr(v) if isinstance(v, float) else v
                             for c in columns])
    tmp.replace(path)
    return path


def _arrow_column(values: list[Any]) -> Any:
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def write_parquet(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: _arrow_column([flat(r, c) for r in rows]) for c in columns})
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def write_tables(rows: Sequence[Mapping[str, Any]], grid_keys: Sequence[str], out_dir: Path) -> list[Path]:
    """``sweep.csv`` and ``sweep.parquet``: one row per backtest, in cell order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = columns_for(rows, grid_keys)
    return [write_csv(rows, columns, out_dir / "sweep.csv"), write_parquet(rows, columns, out_dir / "sweep.parquet")]


# ---------------------------------------------------------------- ranking


def _score(row: Mapping[str, Any], metric: str) -> float | None:
    value = row.get(metric)
    if row.get("error") or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def ranked(rows: Iterable[Mapping[str, Any]], metric: str) -> list[Mapping[str, Any]]:
    """Rows without errors and with a number for ``metric``, best first; ties keep cell order."""
    sign = METRICS[metric]
    scored = [(s, r) for r in rows if (s := _score(r, metric)) is not None]
    scored.sort(key=lambda item: (-sign * item[0], item[1]["cell"]))
    return [r for _, r in scored]


def best_per_instrument(rows: Iterable[Mapping[str, Any]], metric: str) -> list[Mapping[str, Any]]:
    best: dict[str, Mapping[str, Any]] = {}
    for row in ranked(rows, metric):
        best.setdefault(row["instrument"], row)
    return sorted(best.values(), key=lambda r: r["instrument"])


def _fmt(column: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if column in ("total_return", "max_drawdown") and isinstance(value, float):
        return f"{value:.2%}"
    if column == "sharpe" and isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def text_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], rank: bool = False) -> list[str]:
    """Aligned plain-text lines (numbers right-aligned), for the terminal."""
    header = (["#"] if rank else []) + list(columns)
    body = [([str(i)] if rank else []) + [_fmt(c, flat(r, c)) for c in columns] for i, r in enumerate(rows, 1)]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    left = {"instrument"}
    return ["  ".join(cell.ljust(w) if name in left else cell.rjust(w) for cell, w, name in zip(line, widths, header, strict=True))
            for line in [header, *body]]


def ranking_lines(rows: Sequence[Mapping[str, Any]], grid_keys: Sequence[str], metric: str, top: int) -> list[str]:
    """The printed report: best overall (``top`` rows) and best per instrument, by ``metric``."""
    shown = ["instrument", *grid_keys, *dict.fromkeys([metric, "total_return", "sharpe", "max_drawdown", "fills"])]
    order = ranked(rows, metric)
    if not order:
        return [f"no backtest produced a {metric}"]
    lines = [f"best {min(top, len(order))} of {len(order)} by {metric}:"]
    lines += ["  " + line for line in text_table(order[:top], shown, rank=True)]
    lines += ["", "best per instrument:"]
    lines += ["  " + line for line in text_table(best_per_instrument(rows, metric), shown)]
    return lines


# ---------------------------------------------------------------- heatmap


def heatmap_values(rows: Iterable[Mapping[str, Any]], grid: Mapping[str, Sequence[Any]], metric: str,
                   instrument: str | None = None) -> tuple[list[list[float]], list[list[bool]]]:
    """Mean ``metric`` over instruments (or of one) for each (first key value, second key value), NaN where none,
    and which cells had a failed backtest."""
    (ykey, yvalues), (xkey, xvalues) = list(grid.items())
    sums = [[0.0] * len(xvalues) for _ in yvalues]
    counts = [[0] * len(xvalues) for _ in yvalues]
    failed = [[False] * len(xvalues) for _ in yvalues]
    yindex = {repr(v): i for i, v in enumerate(yvalues)}
    xindex = {repr(v): j for j, v in enumerate(xvalues)}
    for row in rows:
        if instrument is not None and row.get("instrument") != instrument:
            continue
        params = row.get("grid") or {}
        if ykey not in params or xkey not in params:
            continue
        i, j = yindex.get(repr(params[ykey])), xindex.get(repr(params[xkey]))
        if i is None or j is None:
            continue
        if row.get("error"):
            failed[i][j] = True
            continue
        score = _score(row, metric)
        if score is None:
            continue
        sums[i][j] += score
        counts[i][j] += 1
    values = [[s / n if n else math.nan for s, n in zip(srow, crow, strict=True)]
              for srow, crow in zip(sums, counts, strict=True)]
    return values, failed


def heatmap_slug(instrument: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in instrument)


def centred_range(values: Any) -> tuple[float, float]:
    """The colour scale's ends: as far below zero as above, wide enough for every finite value."""
    finite = [abs(float(v)) for row in values for v in row if math.isfinite(v)]
    half = max(finite, default=0.0) or 1.0
    return -half, half


def write_heatmaps(rows: Sequence[Mapping[str, Any]], grid: Mapping[str, Sequence[Any]], metric: str,
                   out_dir: Path) -> list[Path]:
    """``heatmap.png`` (mean over instruments) and ``heatmap-<instrument>.png`` for each instrument."""
    instruments = sorted({r["instrument"] for r in rows})
    paths = [write_heatmap(rows, grid, metric, out_dir / "heatmap.png")]
    if len(instruments) > 1:
        for name in instruments:
            paths.append(write_heatmap(rows, grid, metric, out_dir / f"heatmap-{heatmap_slug(name)}.png", name))
    return paths


def write_heatmap(rows: Sequence[Mapping[str, Any]], grid: Mapping[str, Sequence[Any]], metric: str, path: Path,
                  instrument: str | None = None) -> Path:
    """A PNG of ``metric`` on the two grid axes (no pyplot: no global state).

    The colour scale is centred on zero (as far below as above), so a
    colour says gain or loss at a glance; a cell whose backtest failed is
    hatched and says so, a cell never run (``--where``) stays blank.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import PercentFormatter

    (ykey, yvalues), (xkey, xvalues) = list(grid.items())
    grid_values, failed_cells = heatmap_values(rows, grid, metric, instrument)
    values = np.array(grid_values, dtype=float)
    failed = np.array(failed_cells, dtype=bool)
    figure = Figure(figsize=(max(4.0, 0.6 * len(xvalues) + 2.5), max(3.0, 0.45 * len(yvalues) + 1.8)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    cmap = "RdYlGn" if METRICS[metric] > 0 else "RdYlGn_r"
    low, high = centred_range(values)
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=Normalize(low, high), aspect="auto", origin="lower")
    for i, j in zip(*np.nonzero(failed), strict=True):
        axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx", edgecolor="#555", linewidth=0))
        axes.text(j, i, "failed", ha="center", va="center", fontsize=7, color="#b00")
    axes.set_xticks(range(len(xvalues)), [str(v) for v in xvalues], rotation=45 if len(xvalues) > 8 else 0)
    axes.set_yticks(range(len(yvalues)), [str(v) for v in yvalues])
    axes.set_xlabel(xkey)
    axes.set_ylabel(ykey)
    if instrument is None:
        count = len({r["instrument"] for r in rows})
        axes.set_title(f"mean {metric} over {count} instrument(s)")
    else:
        axes.set_title(f"{metric}: {instrument}")
    bar = figure.colorbar(image, ax=axes)
    if metric in ("total_return", "max_drawdown"):
        bar.formatter = PercentFormatter(1.0)
        bar.update_ticks()
    if values.size <= 225:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value) and not failed[i, j]:
                axes.text(j, i, _fmt(metric, float(value)), ha="center", va="center", fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    return path
