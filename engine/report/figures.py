"""The report's charts as plotly.js figure specs (plain dicts): equity with buy and hold, underwater, prices with
trades, monthly and yearly returns.

plotly.js because its page is deterministic (no random document ids: a
rerun's report is byte-identical) and the library is embedded for offline
use (plotly's Python package ships it). The specs are written here as
dicts rather than through plotly's graph objects, whose validation of every
value cost most of a report's time. Numbers go in as typed arrays (base64
float64, which plotly.js reads natively) and times as epoch milliseconds on
date axes: compact and exact. Series arrive down-sampled (a few thousand
points each); trades never are: every entry and exit is marked.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from .files import Curve

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HEIGHT = 360
GREEN, RED = "#2ca02c", "#d62728"
RED_YELLOW_GREEN = [[0.0, "#d73027"], [0.25, "#fc8d59"], [0.5, "#ffffbf"], [0.75, "#91cf60"], [1.0, "#1a9850"]]
PERCENT = {"total_return", "max_drawdown", "cagr", "annual_return", "annual_volatility", "exposure"}
Figure = dict[str, Any]


def typed(values: Any) -> dict[str, str]:
    """A float64 array as plotly.js's typed-array JSON."""
    array = np.ascontiguousarray(values, dtype="<f8")
    return {"dtype": "f8", "bdata": base64.b64encode(array.tobytes()).decode()}


def times(stamps: Any) -> dict[str, str]:
    """datetime64 values (or ISO texts) as epoch milliseconds for a date axis."""
    ns = np.asarray(stamps, dtype="datetime64[ns]").astype(np.int64)
    return typed(ns / 1e6)


def _figure(data: list[dict[str, Any]], title: str, y_title: str, percent: bool = False, dates: bool = True) -> Figure:
    layout = {"title": {"text": title}, "height": HEIGHT, "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
              "hovermode": "x unified" if dates else "closest", "legend": {"orientation": "h", "y": -0.15},
              "yaxis": {"title": {"text": y_title}, **({"tickformat": ".1%"} if percent else {})}}
    if dates:
        layout["xaxis"] = {"type": "date"}
    return {"data": data, "layout": layout}


def equity_figure(curve: Curve, initial: float, prices: dict[str, dict[str, list[Any]]]) -> Figure:
    data = [{"type": "scatter", "mode": "lines", "name": "equity", "x": times(curve.ts), "y": typed(curve.equity),
             "line": {"color": "#1f77b4", "width": 1.5}}]
    for name, series in prices.items():
        closes = np.asarray(series["close"], dtype=float)
        if len(closes) and closes[0]:
            data.append({"type": "scatter", "mode": "lines", "name": f"buy and hold {name}", "x": times(series["ts"]),
                         "y": typed(initial * closes / closes[0]), "line": {"width": 1, "dash": "dot"}})
    return _figure(data, "Equity", "value")


def drawdown_figure(curve: Curve) -> Figure:
    data = [{"type": "scatter", "mode": "lines", "name": "drawdown", "x": times(curve.ts), "y": typed(curve.drawdown),
             "fill": "tozeroy", "line": {"color": RED, "width": 1}}]
    return _figure(data, "Underwater (drawdown from the running peak)", "drawdown", percent=True)


def price_figure(name: str, series: dict[str, list[Any]], trades: Sequence[dict[str, str]]) -> Figure:
    x = times(series["ts"])
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "x": x, "y": typed(series["high"]), "line": {"width": 0},
         "showlegend": False, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": x, "y": typed(series["low"]), "line": {"width": 0}, "fill": "tonexty",
         "fillcolor": "rgba(127,127,127,0.2)", "name": "high-low", "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": x, "y": typed(series["close"]), "name": "close",
         "line": {"color": "#444", "width": 1}},
    ]
    mine = [t for t in trades if t["instrument"] == name]
    for direction, symbol, colour in (("long", "triangle-up", GREEN), ("short", "triangle-down", RED)):
        chosen = [t for t in mine if t["direction"] == direction]
        if chosen:
            data.append({"type": "scatter", "mode": "markers", "name": f"{direction} entry",
                         "x": times([t["entry_time"] for t in chosen]),
                         "y": typed([float(t["entry_price"]) for t in chosen]),
                         "marker": {"symbol": symbol, "size": 9, "color": colour}})
    if mine:
        data.append({"type": "scatter", "mode": "markers", "name": "exit", "x": times([t["exit_time"] for t in mine]),
                     "y": typed([float(t["exit_price"]) for t in mine]),
                     "marker": {"symbol": "x", "size": 8, "color": [GREEN if float(t["pnl"]) > 0 else RED for t in mine]},
                     "text": [f"P&L {float(t['pnl']):,.2f} ({float(t['return']):.2%})" for t in mine]})
    return _figure(data, f"{name}: price, entries and exits ({len(mine):,} round trips)", "price")


def monthly_figure(monthly: dict[str, float | None]) -> Figure:
    years = sorted({month[:4] for month in monthly})
    grid = [[monthly.get(f"{year}-{m:02d}") for m in range(1, 13)] for year in years]
    text = [["" if v is None else f"{v:.1%}" for v in row] for row in grid]
    data = [{"type": "heatmap", "z": grid, "x": MONTHS, "y": years, "zmid": 0.0, "colorscale": RED_YELLOW_GREEN, "text": text,
             "texttemplate": "%{text}", "hovertemplate": "%{y} %{x}: %{text}<extra></extra>",
             "colorbar": {"tickformat": ".0%"}}]
    figure = _figure(data, "Monthly returns", "year", dates=False)
    figure["layout"]["yaxis"].update({"type": "category", "autorange": "reversed"})
    return figure


def yearly_figure(yearly: dict[str, float | None]) -> Figure:
    years = sorted(yearly)
    values = [yearly[y] for y in years]
    data = [{"type": "bar", "x": years, "y": values, "name": "yearly return",
             "marker": {"color": [GREEN if (v or 0) >= 0 else RED for v in values]},
             "text": [f"{v:.1%}" if v is not None else "" for v in values]}]
    figure = _figure(data, "Yearly returns", "return", percent=True, dates=False)
    figure["layout"]["xaxis"] = {"type": "category"}
    return figure


def heatmap_figure(values: list[list[float | None]], failed: list[list[bool]], x: list[str], y: list[str],
                   x_title: str, y_title: str, title: str, low: float, high: float, metric: str,
                   reverse: bool = False) -> Figure:
    """A parameter heatmap: colours centred on zero (``low = -high``), failed cells say so."""
    shown = "{:.2%}" if metric in PERCENT else "{:.3g}"
    text = [["failed" if failed[i][j] else ("" if v is None else shown.format(v)) for j, v in enumerate(row)]
            for i, row in enumerate(values)]
    data = [{"type": "heatmap", "z": values, "x": x, "y": y, "zmin": low, "zmax": high, "zmid": 0.0,
             "colorscale": RED_YELLOW_GREEN, "reversescale": reverse, "text": text, "texttemplate": "%{text}",
             "hovertemplate": f"{y_title}=%{{y}} {x_title}=%{{x}}: %{{text}}<extra></extra>"}]
    figure = _figure(data, title, y_title, dates=False)
    figure["layout"].update({"height": 420, "xaxis": {"type": "category", "title": {"text": x_title}}})
    figure["layout"]["yaxis"]["type"] = "category"
    return figure
