"""report.html of one backtest, made from its folder: summary.json, equity_chart.csv, trades.csv, prices.csv."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from engine.results.table import figure_lines

from .figures import drawdown_figure, equity_figure, monthly_figure, price_figure, yearly_figure
from .files import read_curve, read_rows, read_summary
from .page import chart, figure_table, page

REPORT = "report.html"


def price_series(run_dir: Path) -> dict[str, dict[str, list[Any]]]:
    """prices.csv as columns per instrument (already down-sampled by the run)."""
    series: dict[str, dict[str, list[Any]]] = {}
    for row in read_rows(run_dir / "prices.csv"):
        columns = series.setdefault(row["instrument"], {"ts": [], "open": [], "high": [], "low": [], "close": []})
        columns["ts"].append(row["ts"])
        for name in ("open", "high", "low", "close"):
            columns[name].append(float(row[name]))
    return series


def build_run_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write ``report.html`` for the run in ``run_dir`` (or to ``out``); returns its path."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    curve = read_curve(run_dir / "equity_chart.csv")
    trades = read_rows(run_dir / "trades.csv")
    prices = price_series(run_dir)
    params = ", ".join(f"{k}={v}" for k, v in (summary.get("params") or {}).items())
    meta = html.escape(f"{summary.get('strategy')} ({params}) on {', '.join(prices) or 'no data'}, "
                       f"{summary.get('first_bar')} .. {summary.get('last_bar')}, run {summary.get('run_id')}, "
                       f"engine {summary.get('engine_version', '?')}")
    sections = [
        "<div class=\"cols\">\n<div>\n<h2>Statistics</h2>\n", figure_table(figure_lines(summary)), "</div>\n",
        chart(equity_figure(curve, summary.get("initial_cash") or 0.0, prices), "equity"), "</div>\n",
        chart(drawdown_figure(curve), "drawdown"),
    ]
    for i, (name, series) in enumerate(prices.items()):
        sections.append(chart(price_figure(name, series, trades), f"price-{i}"))
    periods = summary.get("returns_by_period") or {}
    if periods.get("monthly"):
        sections.append("<div class=\"cols\">\n")
        sections.append(chart(monthly_figure(periods["monthly"]), "monthly"))
        sections.append(chart(yearly_figure(periods.get("yearly") or {}), "yearly"))
        sections.append("</div>\n")
    target = out or run_dir / REPORT
    text = page(f"Backtest {summary.get('run_id')}", meta, sections)
    target.write_text(text, encoding="utf-8")
    return target
