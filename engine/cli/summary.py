"""The readable summary a run prints to the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROWS = [
    ("run id", "run_id", "{}"),
    ("strategy", "strategy", "{}"),
    ("bars", "bars", "{:,}"),
    ("period", None, None),
    ("fills", "fills", "{:,}"),
    ("orders rejected", "orders_rejected", "{:,}"),
    ("round trips", "round_trips", "{:,}"),
    ("commission paid", "total_commission", "{:,.2f}"),
    ("initial cash", "initial_cash", "{:,.2f}"),
    ("final value", "final_value", "{:,.2f}"),
    ("total return", "total_return", "{:.2%}"),
    ("max drawdown", "max_drawdown", "{:.2%}"),
    ("sharpe (daily, annualised)", "sharpe", "{:.3f}"),
]


def summary_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    for label, key, fmt in ROWS:
        if key is None:
            value = f"{summary.get('first_bar')} .. {summary.get('last_bar')}"
        else:
            raw = summary.get(key)
            value = "n/a" if raw is None else fmt.format(raw)
        lines.append((label, value))
    params = summary.get("params") or {}
    if params:
        lines.insert(2, ("params", ", ".join(f"{k}={v}" for k, v in params.items())))
    if summary.get("agent_errors"):
        lines.append(("agent errors", str(summary["agent_errors"])))
    return lines


def print_summary(summary: dict[str, Any], out_dir: Path, skipped: list[Any]) -> None:
    lines = summary_lines(summary)
    width = max(len(label) for label, _ in lines)
    print()
    for label, value in lines:
        print(f"  {label:<{width}}  {value}")
    if skipped:
        print(f"\n  {len(skipped)} bad rows skipped; first: {skipped[0]}")
    print(f"\n  results: {out_dir}/ (summary.json, fills.csv, orders.csv, equity.csv)\n")
