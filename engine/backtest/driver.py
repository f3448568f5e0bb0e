"""The backtest driver: config in, agents wired on a fresh bus, the data replayed, results written.

Deterministic by construction: one stream in time order, synchronous
delivery in wiring order, a simulated clock set from each bar (see
:mod:`engine.backtest.replay`), no wall-clock read on this path.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from engine.backtest import left_out
from engine.backtest.outcome import ErrorWatch, outcome, states_delivered
from engine.backtest.replay import replay, tapped_batches
from engine.backtest.run_id import Identity, run_identity
from engine.backtest.staging import staging_dir
from engine.config import SAMPLE_CONFIG, Config, check_config, load_config
from engine.data import open_stream
from engine.pipeline import Pipeline, build_pipeline
from engine.results import strict_json
from engine.results.prices import PriceTape, write_curve, write_prices
from engine.results.provenance import engine_version
from engine.results.recorder import Recorder
from engine.results.summary import statistics, total_return
from engine.results.timefmt import format_one
from engine.results.trades import TradeLog
from engine.runtime.clocks import SimClock
from engine.runtime.logs import configure_logging
from hub import keys as K
from hub.bus import Bus, Monitor
from hub.messages import EndOfData


@dataclass
class BacktestResult:
    summary: dict[str, Any]
    out_dir: Path
    skipped: list[Any] = field(default_factory=list)


def with_sample_data(config: Config) -> Config:
    """No data given: the bundled sample run (its own strategy and broker settings unless given)."""
    if config.data.paths:
        return config
    sample = load_config(SAMPLE_CONFIG)
    defaults = Config()
    merged = {}
    for section in ("strategy", "broker"):
        mine = getattr(config, section)
        merged[section] = getattr(sample, section) if mine == getattr(defaults, section) else mine
    return replace(config, data=replace(config.data, paths=sample.data.paths, format=sample.data.format), **merged)


async def run_pipeline(
    config: Config,
    out_dir: Path,
    run_id: str,
    stream: Any,
    monitor: Monitor | None = None,
    on_bus: Callable[[Bus], None] | None = None,
) -> dict[str, Any]:
    """Wire the agents on a fresh bus, replay ``stream`` and return the summary figures."""
    clock = SimClock()
    bus = Bus(clock=clock, monitor=monitor)
    pipeline: Pipeline = build_pipeline(bus, clock, config)
    recorder = Recorder(bus, out_dir)
    log = TradeLog(out_dir / "trades.csv", functools.partial(stamp_texts, recorder.equity))
    tape = PriceTape(recorder.trades, recorder.sync_fills, log.add)
    try:
        recorder.attach()
        watch = ErrorWatch(bus, stop_at_first=config.on_error == "fail")
        if on_bus is not None:
            on_bus(bus)
        for agent in pipeline.agents:
            agent.start()
        first, count = None, 0
        if not watch.stopped:  # an agent failed to start (a bad indicator request, on_start raised)
            batches = tapped_batches(stream, tape.observe)
            first_batch = next(batches, [])
            first = first_batch[0] if first_batch else None
            watch.replaying = True
            count = await replay(bus, clock, chain([first_batch], batches), halt=watch.halt)
        reason = f"stopped: {watch.first.agent} raised {watch.first.error_type}" if watch.stopped else "end of data"
        bus.publish(K.END_OF_DATA, EndOfData(ts=clock.ts, reason=reason))
        for agent in pipeline.agents:
            agent.stop()
        states = states_delivered(bus, pipeline.host.name)
    except BaseException:
        log.close()
        raise
    finally:
        recorder.close()
        bus.unsubscribe_all()
    try:
        tape.finish()
    finally:
        log.close()
    equity = recorder.equity
    initial = config.broker.cash
    final = equity.last if equity.last is not None else initial
    at = format_one(watch.first.ts, equity.unit) if watch.first_in_replay else None
    stamp = functools.partial(format_one, unit=equity.unit)
    write_prices(out_dir / "prices.csv", tape, stamp)
    write_curve(out_dir / "equity_chart.csv", equity.stats.chart_rows(), stamp)
    figures, nulls = statistics(equity.stats, initial, log.book, len(recorder.trades.open), tape)
    return {
        "run_id": run_id,
        **outcome(watch, config.on_error, count, states, at),
        "strategy": config.strategy.name,
        "params": dict(pipeline.host.strategy.p.__dict__),
        "bars": count,
        "first_bar": format_one(first.ts, recorder.equity.unit) if first is not None else None,
        "last_bar": format_one(clock.ts, recorder.equity.unit) if count else None,
        "fills": recorder.fills,
        "orders_submitted": recorder.orders_submitted,
        "orders_rejected": recorder.orders_rejected,
        "orders_canceled": recorder.orders_canceled,
        "reject_reasons": dict(sorted(recorder.reject_reasons.items())),
        "round_trips": recorder.round_trips,
        "total_commission": recorder.commission,
        "initial_cash": initial,
        "final_value": final,
        "total_return": total_return(initial, final),
        **figures,
        "broker": config.as_dict()["broker"],
        "null_reasons": nulls,
    }


def stamp_texts(equity: Any, stamps: list[int]) -> list[str]:
    """Timestamps as text at the run's resolution, raised for them if need be (as fills' and orders' are)."""
    unit = equity.raise_unit(np.array(stamps, dtype=np.int64))
    return [format_one(ts, unit) for ts in stamps]


def write_report(run_dir: Path) -> None:
    """report.html from the run's files; without the research extra (plotly) a note instead of a failed run."""
    try:
        from engine.report.run_report import build_run_report
    except ImportError as exc:
        print(f"note: report.html not written ({exc}); pip install -e '.[research]' or pass --no-report", file=sys.stderr)
        return
    build_run_report(run_dir)


def provenance(config: Config, identity: Identity, files: list[str]) -> dict[str, Any]:
    """What reproduces the run besides the broker settings: data files and hashes, strategy source, engine version."""
    return {
        "data_sha256": list(identity.data_sha256),  # of each of data_files, in order
        "data_format": config.data.format,
        "strategy_source_sha256": identity.strategy_sha256,
        "strategy_source": identity.strategy_source,
        "engine_version": engine_version(),
    }


def run_backtest(
    config: Config,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    monitor: Monitor | None = None,
    on_bus: Callable[[Bus], None] | None = None,
) -> BacktestResult:
    """Run one backtest and write summary.json, fills.csv, orders.csv and equity.csv."""
    configure_logging(check_config(config).log_level)
    config = with_sample_data(config)
    data = config.data
    stream = open_stream(
        list(data.paths), format=data.format, columns=data.columns or None, skip_bad=data.skip_bad,
        instrument=data.instrument, delimiter=data.delimiter, adjust=data.adjust, sort=data.sort,
    )
    files = [str(f) for f in stream.files]
    identity = run_identity(config, files)
    run_id = identity.run_id
    out_dir = Path(config.output.dir) if config.output.dir else Path("results") / run_id
    with staging_dir(out_dir) as staging:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            summary = runner.run(run_pipeline(config, staging, run_id, stream, monitor=monitor, on_bus=on_bus))
        report = stream.report
        summary["data_files"] = files
        summary.update(left_out.counts(report))
        left_out.write_skipped(staging, report, files)
        summary.update(provenance(config, identity, files))
        strict_json.write(staging / "summary.json", summary)
        if config.output.report:
            write_report(staging)
    return BacktestResult(summary=summary, out_dir=out_dir, skipped=list(report.skipped))
