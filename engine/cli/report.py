"""``python -m engine report DIR``: rebuild report.html from a run's (or a sweep's) files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_report_command(commands: Any) -> None:
    report = commands.add_parser("report", help="rebuild report.html of a backtest or sweep folder from its files")
    report.add_argument("dir", metavar="DIR", help="a backtest's folder (summary.json) or a sweep's (sweep.csv)")
    report.add_argument("--out", metavar="FILE", help="write here instead of DIR/report.html")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    out = Path(args.out) if args.out else None
    if (folder / "summary.json").is_file():
        from engine.report.run_report import build_run_report

        path = build_run_report(folder, out)
    elif (folder / "sweep.csv").is_file():
        from engine.report.sweep_report import build_sweep_report

        path = build_sweep_report(folder, out)
    else:
        raise ValueError(f"{folder}: neither a backtest folder (summary.json) nor a sweep folder (sweep.csv)")
    print(f"wrote {path}")
    return 0
