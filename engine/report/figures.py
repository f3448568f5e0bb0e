"""The report's charts as plotly figures: equity with buy and hold, underwater, prices with trades, returns.

Plotly because its HTML is deterministic (no random document ids: a rerun's
report is byte-identical), it embeds plotly.js for offline use, and its
graph objects need no pandas. Series arrive down-sampled (a few thousand
points each); trades are never down-sampled: every entry and exit is marked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .files import Curve

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HEIGHT = 360


def _layout(figure: go.Figure, title: str, y_title: str, percent: bool = False) -> go.Figure:
    figure.update_layout(title=title, height=HEIGHT, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                         hovermode="x unified", legend={"orientation": "h", "y": -0.15})
    figure.update_yaxes(title=y_title, tickformat=".1%" if percent else None)
    return figure


def equity_figure(curve: Curve, initial: float, prices: dict[str, dict[str, list[Any]]]) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=_stamps(curve.ts), y=curve.equity, name="equity", mode="lines",
                                line={"color": "#1f77b4", "width": 1.5}))
    for name, series in prices.items():
        closes = np.asarray(series["close"], dtype=float)
        if len(closes) and closes[0]:
            figure.add_trace(go.Scatter(x=series["ts"], y=initial * closes / closes[0], name=f"buy and hold {name}",
                                        mode="lines", line={"width": 1, "dash": "dot"}))
    return _layout(figure, "Equity", "value")


def drawdown_figure(curve: Curve) -> go.Figure:
    figure = go.Figure(go.Scatter(x=_stamps(curve.ts), y=curve.drawdown, name="drawdown", mode="lines",
                                  fill="tozeroy", line={"color": "#d62728", "width": 1}))
    return _layout(figure, "Underwater (drawdown from the running peak)", "drawdown", percent=True)


def price_figure(name: str, series: dict[str, list[Any]], trades: list[dict[str, str]]) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=series["ts"], y=series["high"], mode="lines", line={"width": 0},
                                showlegend=False, hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=series["ts"], y=series["low"], mode="lines", line={"width": 0}, fill="tonexty",
                                fillcolor="rgba(127,127,127,0.2)", name="high-low", hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=series["ts"], y=series["close"], mode="lines", name="close",
                                line={"color": "#444", "width": 1}))
    mine = [t for t in trades if t["instrument"] == name]
    for direction, symbol, colour in (("long", "triangle-up", "#2ca02c"), ("short", "triangle-down", "#d62728")):
        chosen = [t for t in mine if t["direction"] == direction]
        if chosen:
            figure.add_trace(go.Scatter(
                x=[t["entry_time"] for t in chosen], y=[float(t["entry_price"]) for t in chosen], mode="markers",
                name=f"{direction} entry", marker={"symbol": symbol, "size": 9, "color": colour}))
    if mine:
        figure.add_trace(go.Scatter(
            x=[t["exit_time"] for t in mine], y=[float(t["exit_price"]) for t in mine], mode="markers", name="exit",
            marker={"symbol": "x", "size": 8, "color": ["#2ca02c" if float(t["pnl"]) > 0 else "#d62728" for t in mine]},
            text=[f"P&L {float(t['pnl']):,.2f} ({float(t['return']):.2%})" for t in mine]))
    return _layout(figure, f"{name}: price, entries and exits ({len(mine):,} round trips)", "price")


def monthly_figure(monthly: dict[str, float | None]) -> go.Figure:
    years = sorted({month[:4] for month in monthly})
    grid = [[monthly.get(f"{year}-{m:02d}") for m in range(1, 13)] for year in years]
    text = [["" if v is None else f"{v:.1%}" for v in row] for row in grid]
    figure = go.Figure(go.Heatmap(z=grid, x=MONTHS, y=years, zmid=0.0, colorscale="RdYlGn", text=text,
                                  texttemplate="%{text}", hovertemplate="%{y} %{x}: %{text}<extra></extra>",
                                  colorbar={"tickformat": ".0%"}))
    figure.update_yaxes(type="category", autorange="reversed")
    return _layout(figure, "Monthly returns", "year")


def yearly_figure(yearly: dict[str, float | None]) -> go.Figure:
    years = sorted(yearly)
    values = [yearly[y] for y in years]
    figure = go.Figure(go.Bar(x=years, y=values, marker={"color": ["#2ca02c" if (v or 0) >= 0 else "#d62728"
                                                                    for v in values]},
                              text=[f"{v:.1%}" if v is not None else "" for v in values], name="yearly return"))
    figure.update_xaxes(type="category")
    return _layout(figure, "Yearly returns", "return", percent=True)


def _stamps(ts: np.ndarray) -> list[str]:
    return np.datetime_as_string(ts, unit="s").tolist()
