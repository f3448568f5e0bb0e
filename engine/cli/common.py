"""What every command that runs a strategy shares: its flags and how they override the config file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from engine.config import Config, load_config, override


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
