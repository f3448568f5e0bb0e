"""``python -m engine backtest``: its flags, each with a TOML key, and the printed summary."""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli.common import add_run_options, config_from_args
from engine.cli.summary import print_summary
from engine.config import override


def add_backtest_command(commands: Any) -> None:
    backtest = commands.add_parser("backtest", help="replay historical files through a strategy (default: bundled sample)")
    add_run_options(backtest)
    backtest.add_argument("--data", nargs="+", metavar="PATH", help="CSV files, directories or globs; one instrument per file")
    backtest.add_argument("--format", choices=["auto", "ohlcv", "ashare"], help="input format (default auto)")
    backtest.add_argument("--skip-bad", action="store_true", default=None, help="skip bad rows and report them instead of stopping")
    backtest.add_argument("--fill-on-close", action="store_true", default=None, help="fill market orders at the signal bar's close")
    backtest.add_argument("--out", metavar="DIR", help="output directory (default results/<run-id>)")
    backtest.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.backtest.driver import run_backtest
    from engine.runtime.health import metrics_for

    config = config_from_args(args)
    config = override(config, "data", paths=tuple(args.data) if args.data else None, format=args.format, skip_bad=args.skip_bad)
    config = override(config, "broker", fill_on_close=args.fill_on_close)
    config = override(config, "output", dir=args.out)
    with metrics_for(config) as metrics:
        result = run_backtest(config, monitor=metrics.monitor if metrics else None, on_bus=metrics.attach if metrics else None)
    print_summary(result.summary, result.out_dir, result.skipped)
    return 0
