"""``python -m engine backtest``: its flags, each with a TOML key, and the printed summary."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from engine.cli.common import add_file_options, add_run_options, config_from_args, file_overrides
from engine.cli.summary import print_failure, print_summary
from engine.config import override


def add_backtest_command(commands: Any) -> None:
    backtest = commands.add_parser("backtest", help="replay historical files through a strategy (default: bundled sample)")
    add_run_options(backtest)
    backtest.add_argument("--data", nargs="+", metavar="PATH", help="CSV or Parquet files, directories or globs; one instrument per file")
    add_file_options(backtest)
    backtest.add_argument("--fill-on-close", action="store_true", default=None, help="fill market orders at the signal bar's close")
    backtest.add_argument("--out", metavar="DIR", help="output directory (default results/<run-id>)")
    backtest.add_argument("--no-report", dest="report", action="store_false", default=None,
                          help="do not write report.html ([output] report = false)")
    backtest.add_argument("--profile", metavar="FILE",
                          help="write a speedscope profile of the run here (py-spy, sampled from outside the process)")
    backtest.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.backtest.driver import run_backtest
    from engine.runtime.health import metrics_for

    config = file_overrides(config_from_args(args), args, args.data)
    config = override(config, "broker", fill_on_close=args.fill_on_close)
    config = override(config, "output", dir=args.out, report=args.report)
    with contextlib.ExitStack() as stack:
        if args.profile:
            from engine.runtime.profiling import ProfileRun

            stack.enter_context(ProfileRun(args.profile))
        metrics = stack.enter_context(metrics_for(config))
        result = run_backtest(config, monitor=metrics.monitor if metrics else None, on_bus=metrics.attach if metrics else None)
    print_summary(result.summary, result.out_dir)
    for note in result.summary.get("data_notes") or ():
        print(f"warning: {note}", file=sys.stderr)
    if result.summary.get("status") == "failed":
        print_failure(result.summary, result.out_dir, file=sys.stderr)
        return 1
    return 0
