"""Command line: ``python -m engine <command>``. Every flag has a TOML equivalent (--config).

Each command lives in its own module and registers its own flags; this one
only dispatches and turns the errors a user can fix into one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli.backtest import add_backtest_command
from engine.cli.daemon import add_run_command
from engine.cli.report import add_report_command
from engine.cli.sweep import add_sweep_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Event-driven trading engine.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_backtest_command(commands)
    add_sweep_command(commands)
    add_run_command(commands)
    add_report_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
