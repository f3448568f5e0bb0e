"""The readable summary a run prints to the terminal (the lines: engine/results/table.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from engine.backtest.outcome import error_text
from engine.results.table import summary_lines


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
    files = ", ".join(p.name for p in sorted(out_dir.iterdir())) if out_dir.is_dir() else ""
    print(f"\n  results: {out_dir}/ ({files})\n")


def print_failure(summary: dict[str, Any], out_dir: Path, file: TextIO) -> None:
    """Why a run failed, for stderr: the traceback is already above it (the bus logged it, once)."""
    print(f"error: the run failed: {error_text(summary)}", file=file)
    hint = "; --on-error continue counts agent errors instead of stopping" if summary.get("on_error") == "fail" else ""
    print(f"  results up to there are in {out_dir}/ (summary.json status: failed){hint}", file=file)
