"""``python -m engine sweep``: instruments x parameter grid, every flag also a ``[sweep]`` TOML key.

Registered by :func:`engine.cli.main.build_parser` through :func:`add_sweep_command`;
the flags every run shares are in :mod:`engine.cli.common`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.common import add_file_options, add_run_options, config_from_args, file_overrides
from engine.config import override
from engine.sweep.results import METRICS


def add_sweep_command(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a strategy over instruments x a parameter grid, on all cores or a Dask cluster",
        description="Each (data file, parameter set) is one backtest, exactly as `backtest` runs it.")
    add_run_options(sweep)
    sweep.add_argument("--data", nargs="+", metavar="PATH|GLOB", help="CSV files, directories or globs; one instrument per file")
    sweep.add_argument("--grid", action="append", metavar="KEY=V1,V2", help="strategy parameter values to sweep (repeatable; replaces that key of [sweep.grid])")
    add_file_options(sweep)
    sweep.add_argument("--where", metavar="EXPR", help='skip parameter sets where EXPR is false, e.g. "fast < slow" ([sweep] where)')
    sweep.add_argument("--no-report", dest="report", action="store_false", default=None,
                       help="do not write report.html ([output] report = false)")
    sweep.add_argument("--fill-on-close", action="store_true", default=None, help="fill market orders at the signal bar's close")
    sweep.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: every core; 0 = in this process; ignored with --dask)")
    sweep.add_argument("--dask", metavar="ADDRESS", help="run on this Dask scheduler, e.g. tcp://host:8786 (default $DASK_SCHEDULER_ADDRESS)")
    sweep.add_argument("--out", metavar="DIR", help="output directory (default results/sweep-<strategy>-<id>)")
    sweep.add_argument("--cache-dir", metavar="DIR", help="parsed-data cache (default ~/.cache/engine/columns)")
    sweep.add_argument("--metric", choices=list(METRICS), help="ranking figure (default total_return)")
    sweep.add_argument("--top", type=int, metavar="N", help="rows of the overall ranking (default 10)")
    sweep.add_argument("--bundle", type=int, metavar="N", help="backtests per Dask task (default: about 1 s of work)")
    sweep.add_argument("--retries", type=int, metavar="N", help="Dask task retries; local: deaths a backtest may cause (default 2)")
    sweep.add_argument("--keep-runs", action="store_true", default=None, help="keep each backtest's CSVs under DIR/runs/<run-id>/")
    sweep.add_argument("--quiet", action="store_true", default=None, help="no progress bar")
    sweep.add_argument("--fail-fast", action="store_true", default=None, help="stop at the first failed backtest and exit 1")
    sweep.add_argument("--force", action="store_true", default=None, help="write into an --out folder that already holds a sweep's results")
    sweep.set_defaults(func=cmd_sweep)


def config_from_sweep_args(args: argparse.Namespace) -> Any:
    from engine.sweep.grid import check_grid, parse_grid_args

    config = file_overrides(config_from_args(args), args, args.data)
    config = override(config, "broker", fill_on_close=args.fill_on_close)
    config = override(config, "output", dir=args.out, report=args.report)
    given = parse_grid_args(args.grid)
    grid = {**check_grid(config.sweep.grid), **given} if given else None
    return override(config, "sweep", grid=grid, workers=args.workers, dask=args.dask, cache_dir=args.cache_dir,
                    where=args.where, metric=args.metric, top=args.top, bundle=args.bundle, retries=args.retries,
                    keep_runs=args.keep_runs, quiet=args.quiet, fail_fast=args.fail_fast, force=args.force)


def print_report(result: Any) -> None:
    from engine.sweep.results import ranking_lines

    plan = result.plan
    settings = plan.config.sweep
    rate = len(result.rows) / result.seconds if result.seconds else 0.0
    print(f"\n  sweep: {len(result.rows)} of {len(plan.cells)} backtests ({len(plan.files)} instrument file(s) x "
          f"{plan.sets} parameter set(s)) of {plan.config.strategy.name} in {result.seconds:.1f} s "
          f"({rate:.1f}/s) on {result.executor}; {len(result.failed)} failed"
          + (f"; {len(plan.skipped)} parameter set(s) skipped by --where {settings.where!r}" if plan.skipped else "") + "\n")
    for line in ranking_lines(result.rows, list(plan.grid), settings.metric, settings.top):
        print(f"  {line}")
    if result.failed:
        print(f"\n  first failure: cell {result.failed[0]['cell']} ({result.failed[0]['instrument']}): {result.failed[0]['error']}")
    for note in result.notes:
        print(f"\n  note: {note}")
    if result.stopped:
        print(f"\n  --fail-fast: stopped after the first failure; {len(plan.cells) - len(result.rows)} backtests not run")
    print(f"\n  results: {', '.join(str(p) for p in result.outputs)}\n")


def cmd_sweep(args: argparse.Namespace) -> int:
    from engine.sweep.runner import run_sweep

    result = run_sweep(config_from_sweep_args(args))
    print_report(result)
    if result.failed:
        print(f"error: {len(result.failed)} of {len(result.rows)} backtests failed (see the error column)", file=sys.stderr)
        return 1
    return 0
