"""report.html of a sweep, from its folder (sweep.csv, sweep.json): the ranked tables and the heatmaps.

Heatmaps for two-parameter grids: the mean over instruments and one per
instrument, the colour scale centred on zero, failed cells marked, cells
skipped by ``--where`` left empty.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from engine.sweep.grid import coerce_value
from engine.sweep.results import METRICS, best_per_instrument, centred_range, heatmap_values, ranked

from .figures import heatmap_figure
from .files import read_rows
from .page import chart, page, plain_table

REPORT = "report.html"


def sweep_rows(out_dir: Path, grid_keys: list[str]) -> list[dict[str, Any]]:
    """sweep.csv's rows typed back: numbers as numbers, the grid's values in ``grid``, an empty error as None."""
    rows = []
    for raw in read_rows(out_dir / "sweep.csv"):
        row: dict[str, Any] = {}
        for key, text in raw.items():
            if key in ("instrument", "data", "strategy", "run_id", "params", "error"):
                row[key] = text or None
            else:
                row[key] = coerce_value(text) if text != "" else None
        row["grid"] = {k: row[k] for k in grid_keys}
        rows.append(row)
    return rows


def _cell(value: Any, metric_like: bool) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2%}" if metric_like else f"{value:,.4g}"
    return str(value)


def ranked_table(rows: list[dict[str, Any]], grid_keys: list[str], metric: str, table_id: str) -> str:
    percent = {"total_return", "max_drawdown", "cagr", "annual_return", "annual_volatility", "exposure"}
    columns = ["instrument", *grid_keys, *dict.fromkeys([metric, "total_return", "sharpe", "max_drawdown", "round_trips"])]
    body = [[i, *(_cell(r.get(c), c in percent) for c in columns)] for i, r in enumerate(rows, 1)]
    return plain_table(["#", *columns], body, table_id)


def sweep_heatmap(rows: list[dict[str, Any]], grid: dict[str, list[Any]], metric: str, title: str,
                  instrument: str | None = None) -> dict[str, Any]:
    (ykey, yvalues), (xkey, xvalues) = list(grid.items())
    values, failed = heatmap_values(rows, grid, metric, instrument)
    low, high = centred_range(values)
    z = [[None if math.isnan(v) else v for v in row] for row in values]
    return heatmap_figure(z, failed, [str(v) for v in xvalues], [str(v) for v in yvalues], xkey, ykey, title, low, high,
                          metric, reverse=METRICS[metric] < 0)


def build_sweep_report(out_dir: Path, out: Path | None = None) -> Path:
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "sweep.json").read_text())
    grid: dict[str, list[Any]] = manifest["grid"]
    keys = list(grid)
    metric = manifest["metric"]
    rows = sweep_rows(out_dir, keys)
    failed = [r for r in rows if r.get("error")]
    order = ranked(rows, metric)
    meta = html.escape(f"{manifest['strategy']}: {len(rows)} backtests over {len(manifest['files'])} file(s), "
                       f"grid {json.dumps(grid)}, ranked by {metric}; {len(failed)} failed"
                       + (f"; {len(manifest['skipped_sets'])} parameter set(s) skipped by --where "
                          f"{manifest['where']!r}" if manifest.get("skipped_sets") else ""))
    sections = [f"<h2>Best {min(manifest['top'], len(order))} of {len(order)} by {html.escape(metric)}</h2>\n",
                ranked_table(order[:manifest["top"]], keys, metric, "ranked"),
                "<h2>Best per instrument</h2>\n", ranked_table(best_per_instrument(rows, metric), keys, metric, "best")]
    if len(grid) == 2 and rows:
        instruments = sorted({r["instrument"] for r in rows if r.get("instrument")})
        sections.append("<h2>Heatmaps</h2>\n<div class=\"cols\">\n")
        sections.append(chart(sweep_heatmap(rows, grid, metric, f"mean {metric} over {len(instruments)} instrument(s)"),
                              "heatmap-mean"))
        if len(instruments) > 1:
            for i, name in enumerate(instruments):
                sections.append(chart(sweep_heatmap(rows, grid, metric, f"{metric}: {name}", name), f"heatmap-{i}"))
        sections.append("</div>\n")
    if failed:
        sections.append("<h2>Failed backtests</h2>\n")
        sections.append(plain_table(["cell", "instrument", *keys, "error"],
                                    [[r["cell"], r["instrument"], *(r["grid"][k] for k in keys), r["error"]] for r in failed],
                                    "failed", ["failed"] * len(failed)))
    target = out or out_dir / REPORT
    target.write_text(page(f"Sweep {out_dir.name}", meta, sections), encoding="utf-8")
    return target
