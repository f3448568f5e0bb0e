"""The backtest driver: replays historical files through the agents as fast as the CPU allows.

Deterministic by construction: one stream in time order, synchronous
delivery in wiring order, a simulated clock set from each bar, no wall-clock
read on this path. The replay yields to the event loop every few thousand
bars so loop-lag monitors and other tasks keep running during long replays.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import Any

from agents.market_data import open_stream

from engine.clock import SimClock
from engine.config import SAMPLE_CONFIG, Config, load_config
from engine.logs import configure_logging
from engine.pipeline import Pipeline, build_pipeline
from engine.results.recorder import Recorder
from engine.results.summary import sharpe_ratio, total_return
from engine.results.timefmt import format_one
from engine.run_id import make_run_id
from hub import keys as K
from hub.bus import Bus, Monitor
from hub.messages import Bar, EndOfData

YIELD_EVERY = 4096


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


async def replay(bus: Bus, clock: SimClock, bars: Iterable[Bar], yield_every: int = YIELD_EVERY) -> int:
    """Publish every bar on ``md.bar`` in order; returns how many."""
    publish = bus.publish
    key = K.BAR
    count = 0
    iterator = iter(bars)
    while True:
        n = 0
        for bar in islice(iterator, yield_every):
            clock.ts = bar.ts
            publish(key, bar)
            n += 1
        if n == 0:
            return count
        count += n
        await asyncio.sleep(0)


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
    recorder = Recorder(bus, out_dir)
    pipeline: Pipeline = build_pipeline(bus, clock, config)
    recorder.attach()
    if on_bus is not None:
        on_bus(bus)
    for agent in pipeline.agents:
        agent.start()
    iterator = iter(stream)
    first = next(iterator, None)
    try:
        count = await replay(bus, clock, chain([first], iterator) if first is not None else ())
        bus.publish(K.END_OF_DATA, EndOfData(ts=clock.ts))
        for agent in pipeline.agents:
            agent.stop()
    finally:
        recorder.close()
        bus.unsubscribe_all()
    equity = recorder.equity
    initial = config.broker.cash
    final = equity.last if equity.last is not None else initial
    return {
        "run_id": run_id,
        "strategy": config.strategy.name,
        "params": dict(pipeline.host.strategy.p.__dict__),
        "bars": count,
        "first_bar": format_one(first.ts) if first is not None else None,
        "last_bar": format_one(clock.ts) if count else None,
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
        "max_drawdown": equity.max_drawdown,
        "sharpe": sharpe_ratio(equity.daily),
        "agent_errors": len(recorder.errors),
    }


def run_backtest(
    config: Config,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    monitor: Monitor | None = None,
    on_bus: Callable[[Bus], None] | None = None,
) -> BacktestResult:
    """Run one backtest and write summary.json, fills.csv, orders.csv and equity.csv."""
    configure_logging(config.log_level)
    config = with_sample_data(config)
    stream = open_stream(
        list(config.data.paths), format=config.data.format, columns=config.data.columns or None,
        skip_bad=config.data.skip_bad, instrument=config.data.instrument,
    )
    files = [str(f) for f in stream.files]
    run_id = make_run_id(config, files)
    out_dir = Path(config.output.dir) if config.output.dir else Path("results") / run_id
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        summary = runner.run(run_pipeline(config, out_dir, run_id, stream, monitor=monitor, on_bus=on_bus))
    report = stream.report
    summary["data_files"] = files
    summary["rows_skipped"] = len(report.skipped) if hasattr(report, "skipped") else 0
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    return BacktestResult(summary=summary, out_dir=out_dir, skipped=list(getattr(report, "skipped", [])))
