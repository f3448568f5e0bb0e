"""``python -m engine run``: the daemon's flags, each with its ``[daemon]`` (or shared) TOML key."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.cli.common import add_run_options, config_from_args
from engine.config import Config, override
from engine.daemon.run import run_daemon
from engine.runtime.loops import VIRTUAL, check_dilation

TOKEN_ENV = "ENGINE_CONTROL_TOKEN"


def add_run_command(commands: Any) -> None:
    run = commands.add_parser("run", help="the long-lived daemon: live feed or accelerated replay, paper trading")
    add_run_options(run)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--feed", metavar="tcp://HOST:PORT", help="live NDJSON market data ([daemon] feed)")
    source.add_argument("--replay", nargs="+", metavar="PATH",
                        help="historical CSV bars or NDJSON captures played as live ([daemon] replay)")
    run.add_argument("--time-dilation", metavar="X",
                     help="replay speed: X times real time, or 'virtual' for as fast as timers allow ([daemon] time_dilation)")
    run.add_argument("--format", choices=["auto", "ohlcv", "ashare", "parquet"],
                     help="format of --replay files ([data] format; the other [data] keys apply too)")
    run.add_argument("--bar-interval", metavar="N[ms|s|m|h|d]", help="trades -> bars interval ([daemon] bar_interval)")
    run.add_argument("--control", metavar="HOST:PORT", help="control server address ([daemon] control)")
    run.add_argument("--control-token", metavar="TOKEN",
                     help=f"Bearer token for the control server ([daemon] control_token, or ${TOKEN_ENV})")
    run.add_argument("--control-host", action="append", metavar="NAME",
                     help="a Host name the control server answers besides loopback (repeatable; [daemon] control_hosts)")
    run.add_argument("--journal", metavar="DIR", help="append-only journal directory; recovers on restart ([daemon] journal)")
    run.add_argument("--journal-accept-corrupt", action="store_true", default=None,
                     help="start on a damaged journal, skipping what cannot be read ([daemon] journal_accept_corrupt)")
    run.add_argument("--strategy-max-errors", type=int, metavar="N",
                     help="halt a strategy after N exceptions, cancelling its orders; 0 = never ([daemon] strategy_max_errors)")
    run.add_argument("--queue-size", type=int, metavar="N", help="market data queued for a lagging strategy ([daemon] queue_size)")
    run.add_argument("--loop", choices=["auto", "uvloop", "asyncio"], help="event loop ([daemon] loop)")
    run.add_argument("--out", metavar="DIR", help="write fills.csv, orders.csv, equity.csv and status.json here ([output] dir)")
    run.set_defaults(func=cmd_run)


def daemon_config_from_args(args: argparse.Namespace) -> Config:

    config = config_from_args(args)
    daemon = config.daemon
    if daemon.replay and args.config:  # relative replay paths are relative to the config file
        base = Path(args.config).parent
        daemon = replace(daemon, replay=tuple(p if Path(p).is_absolute() else str(base / p) for p in daemon.replay))
        config = replace(config, daemon=daemon)
    dilation = args.time_dilation
    if dilation is not None and dilation.strip().lower() != VIRTUAL:
        dilation = check_dilation(dilation)
    config = override(config, "daemon", feed=args.feed, replay=tuple(args.replay) if args.replay else None,
                      time_dilation=dilation, bar_interval=args.bar_interval, control=args.control,
                      control_token=args.control_token or os.environ.get(TOKEN_ENV) or None,
                      control_hosts=tuple(args.control_host) if args.control_host else None,
                      journal=args.journal, journal_accept_corrupt=args.journal_accept_corrupt,
                      strategy_max_errors=args.strategy_max_errors, queue_size=args.queue_size, loop=args.loop)
    if args.feed:
        config = override(config, "daemon", replay=())
    elif args.replay:
        config = replace(config, daemon=replace(config.daemon, feed=None))
    if not config.daemon.feed and not config.daemon.replay and config.data.paths:
        config = replace(config, daemon=replace(config.daemon, replay=config.data.paths))  # [data] played as live
    config = override(config, "data", format=args.format)
    return override(config, "output", dir=args.out)


def cmd_run(args: argparse.Namespace) -> int:
    config = daemon_config_from_args(args)
    result = run_daemon(config)
    status = result.status
    print(f"stopped ({result.reason}): {status.get('fills', 0)} fills, cash {status.get('cash')}, "
          f"equity {status.get('equity')}, {status.get('errors', {}).get('count', 0)} agent errors")
    return result.exit_code
