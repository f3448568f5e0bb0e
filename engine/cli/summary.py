"""The readable summary a run prints to the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from engine.backtest.outcome import error_text

ROWS = [
    ("run id", "run_id", "{}"),
    ("status", "status", "{}"),
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


def print_summary(summary: dict[str, Any], out_dir: Path) -> None:
    lines = summary_lines(summary)
    width = max(len(label) for label, _ in lines)
    print()
    for label, value in lines:
        print(f"  {label:<{width}}  {value}")
    skipped = summary.get("rows_skipped") or 0
    if skipped:
        reasons = ", ".join(f"{n} {reason}" for reason, n in (summary.get("skipped_reasons") or {}).items())
        print(f"\n  {skipped:,} bad row(s) skipped ({reasons}): each is listed in {out_dir}/skipped.csv")
    first = summary.get("first_agent_error")
    if first:
        print(f"\n  --on-error continue: {summary['agent_errors']:,} agent error(s); the first: "
              f"{error_text({'error': first})}")
    print(f"\n  results: {out_dir}/ (summary.json, fills.csv, orders.csv, equity.csv, skipped.csv)\n")


def print_failure(summary: dict[str, Any], out_dir: Path, file: TextIO) -> None:
    """Why a run failed, for stderr: the traceback is already above it (the bus logged it, once)."""
    print(f"error: the run failed: {error_text(summary)}", file=file)
    hint = "; --on-error continue counts agent errors instead of stopping" if summary.get("on_error") == "fail" else ""
    print(f"  results up to there are in {out_dir}/ (summary.json status: failed){hint}", file=file)
