"""Command line: ``python -m engine <command>``. Every flag has a TOML equivalent (--config)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from engine.config import Config, load_config, override
from engine.report import print_summary


def parse_params(pairs: Sequence[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param expects key=value, got {pair!r}")
        params[key.strip()] = value.strip()
    return params


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that runs a strategy."""
    parser.add_argument("--config", help="TOML config file; flags given here override it")
    parser.add_argument("--strategy", help="built-in name (sma_cross, sma_trend) or module:Class")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE", help="strategy parameter (repeatable)")
    parser.add_argument("--cash", type=float, help="starting cash (default 100000)")
    parser.add_argument("--commission", type=float, help="commission as a fraction of traded value, e.g. 0.0002")
    parser.add_argument("--statsd", metavar="HOST:PORT", help="send runtime health to this StatsD server")
    parser.add_argument("--statsd-prefix", help="metric name prefix (default 'engine')")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def config_from_args(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    strategy_changes: dict[str, Any] = {"name": args.strategy}
    given = parse_params(args.param)
    if given:
        strategy_changes["params"] = {**config.strategy.params, **given}
    config = override(config, "strategy", **strategy_changes)
    config = override(config, "broker", cash=args.cash, commission=args.commission)
    config = override(config, "metrics", statsd=args.statsd, prefix=args.statsd_prefix)
    if args.log_level:
        config = Config(**{**config.__dict__, "log_level": args.log_level})
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Event-driven trading engine.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    backtest = commands.add_parser("backtest", help="replay historical files through a strategy (default: bundled sample)")
    add_run_options(backtest)
    backtest.add_argument("--data", nargs="+", metavar="PATH", help="CSV files, directories or globs; one instrument per file")
    backtest.add_argument("--format", choices=["auto", "ohlcv", "ashare"], help="input format (default auto)")
    backtest.add_argument("--skip-bad", action="store_true", default=None, help="skip bad rows and report them instead of stopping")
    backtest.add_argument("--fill-on-close", action="store_true", default=None, help="fill market orders at the signal bar's close")
    backtest.add_argument("--out", metavar="DIR", help="output directory (default results/<run-id>)")
    backtest.set_defaults(func=cmd_backtest)
    from engine.sweep.cli import add_sweep_command  # here, not at the top: it imports this module
    add_sweep_command(commands)
    from engine.daemon_cli import add_run_command  # here, not at the top: it imports this module
    add_run_command(commands)
    return parser


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.backtest import run_backtest
    from engine.metrics_wiring import metrics_for

    config = config_from_args(args)
    config = override(config, "data", paths=tuple(args.data) if args.data else None, format=args.format, skip_bad=args.skip_bad)
    config = override(config, "broker", fill_on_close=args.fill_on_close)
    config = override(config, "output", dir=args.out)
    with metrics_for(config) as metrics:
        result = run_backtest(config, monitor=metrics.monitor if metrics else None, on_bus=metrics.attach if metrics else None)
    print_summary(result.summary, result.out_dir, result.skipped)
    return 0


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
