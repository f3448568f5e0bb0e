"""A run's figures as labelled, formatted lines: the table the terminal prints and report.html shows.

Each line keeps the dotted path of its figure in summary.json, so the
report's table can be checked against the file it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PCT, MONEY, RATIO, COUNT, DAYS, TEXT = "{:.2%}", "{:,.2f}", "{:.3f}", "{:,}", "{:,.1f} days", "{}"

RUN = [
    ("run id", "run_id", TEXT),
    ("status", "status", TEXT),
    ("strategy", "strategy", TEXT),
    ("bars", "bars", COUNT),
    ("period", None, None),
    ("duration", "duration_days", DAYS),
    ("exposure", "exposure", PCT),
    ("fills", "fills", COUNT),
    ("orders rejected", "orders_rejected", COUNT),
    ("commission paid", "total_commission", MONEY),
    ("initial cash", "initial_cash", MONEY),
    ("final value", "final_value", MONEY),
    ("peak equity", "peak_equity", MONEY),
    ("total return", "total_return", PCT),
    ("buy and hold return", "buy_and_hold_return", PCT),
    ("CAGR", "cagr", PCT),
    ("annual return", "annual_return", PCT),
    ("annual volatility", "annual_volatility", PCT),
    ("sharpe", "sharpe", RATIO),
    ("sortino", "sortino", RATIO),
    ("calmar", "calmar", RATIO),
    ("max drawdown", "max_drawdown", PCT),
    ("max drawdown duration", "max_drawdown_duration_days", DAYS),
    ("avg drawdown", "avg_drawdown", PCT),
    ("avg drawdown duration", "avg_drawdown_duration_days", DAYS),
]
TRADES = [
    ("round trips", "count", COUNT),
    ("win rate", "win_rate", PCT),
    ("best trade", "best_trade", PCT),
    ("worst trade", "worst_trade", PCT),
    ("avg trade (geometric)", "avg_trade", PCT),
    ("best trade P&L", "best_trade_pnl", MONEY),
    ("worst trade P&L", "worst_trade_pnl", MONEY),
    ("avg trade P&L", "avg_trade_pnl", MONEY),
    ("profit factor", "profit_factor", RATIO),
    ("expectancy", "expectancy", PCT),
    ("SQN", "sqn", RATIO),
    ("max trade duration", "max_trade_duration_days", DAYS),
    ("avg trade duration", "avg_trade_duration_days", DAYS),
]


@dataclass(frozen=True)
class Line:
    label: str
    text: str
    key: str | None = None  # the figure's dotted path in summary.json; None for a line made of several
    value: Any = None  # the figure as summary.json holds it


def _value(raw: Any, fmt: str) -> str:
    return "n/a" if raw is None else fmt.format(raw)


def figure_lines(summary: dict[str, Any]) -> list[Line]:
    """Every line of the table, in order."""
    lines = []
    for label, key, fmt in RUN:
        if key is None:
            lines.append(Line(label, f"{summary.get('first_bar')} .. {summary.get('last_bar')}"))
        else:
            lines.append(Line(label, _value(summary.get(key), fmt), key, summary.get(key)))
    params = summary.get("params") or {}
    if params:
        lines.insert(2, Line("params", ", ".join(f"{k}={v}" for k, v in params.items())))
    basis = (summary.get("annualisation") or {}).get("basis")
    if basis:
        lines.append(Line("annualised as", basis, "annualisation.basis", basis))
    trades = (summary.get("trades") or {}).get("all")
    if trades:
        for label, key, fmt in TRADES:
            lines.append(Line(label, _value(trades.get(key), fmt), f"trades.all.{key}", trades.get(key)))
        long, short = summary["trades"].get("long") or {}, summary["trades"].get("short") or {}
        lines.append(Line("long / short trades", f"{long.get('count', 0):,} / {short.get('count', 0):,}"))
    else:
        lines.append(Line("round trips", _value(summary.get("round_trips"), COUNT), "round_trips", summary.get("round_trips")))
    instruments = summary.get("instruments") or {}
    if len(instruments) > 1:
        for name, figures in instruments.items():
            lines.append(Line(f"  {name}", f"{figures.get('count', 0):,} trades, P&L {_value(figures.get('pnl'), MONEY)} "
                                           f"({_value(figures.get('pnl_share'), PCT)} of it)"))
    if summary.get("agent_errors"):
        lines.append(Line("agent errors", str(summary["agent_errors"]), "agent_errors", summary["agent_errors"]))
    return lines


def summary_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line.label, line.text) for line in figure_lines(summary)]
