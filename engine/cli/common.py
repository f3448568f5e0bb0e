"""What every command that runs a strategy shares: its flags and how they override the config file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from engine.config import DELIMITER_NAMES, Config, load_config, override, set_top

FORMATS = ["auto", "ohlcv", "ashare", "parquet"]


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
    parser.add_argument("--on-error", choices=["fail", "continue"],
                        help="an exception in the strategy (or any agent): fail the run at the first one "
                             "(default), or count it and go on")


def add_file_options(parser: argparse.ArgumentParser, what: str = "input") -> None:
    """How data files are read: format, separator, adjustment, order, bad rows ([data] keys)."""
    parser.add_argument("--format", choices=FORMATS, help=f"{what} format (default auto: told from the file's start)")
    parser.add_argument("--delimiter", metavar="CHAR",
                        help="CSV field separator: ',', ';', '|' or tab (default: told from the header line)")
    parser.add_argument("--adjust", choices=["none", "close"],
                        help="close: scale prices to an adjusted close column (Yahoo's 'Adj Close'), as yfinance does")
    parser.add_argument("--sort", action="store_true", default=None,
                        help="sort rows by time (stable, with a note) instead of refusing a descending or unsorted file")
    parser.add_argument("--skip-bad", action="store_true", default=None,
                        help="skip bad rows (each listed in skipped.csv) instead of stopping")


def file_overrides(config: Config, args: argparse.Namespace, paths: Sequence[str] | None = None) -> Config:
    delimiter = args.delimiter
    if delimiter is not None:
        delimiter = DELIMITER_NAMES.get(delimiter.lower(), delimiter.replace("\\t", "\t"))
    return override(config, "data", paths=tuple(paths) if paths else None, format=args.format,
                    skip_bad=args.skip_bad, delimiter=delimiter, adjust=args.adjust, sort=args.sort)


def config_from_args(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    strategy_changes: dict[str, Any] = {"name": args.strategy}
    given = parse_params(args.param)
    if given:
        strategy_changes["params"] = {**config.strategy.params, **given}
    config = override(config, "strategy", **strategy_changes)
    config = override(config, "broker", cash=args.cash, commission=args.commission)
    config = override(config, "metrics", statsd=args.statsd, prefix=args.statsd_prefix)
    return set_top(config, log_level=args.log_level, on_error=args.on_error)
