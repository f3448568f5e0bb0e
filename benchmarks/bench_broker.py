"""Per-bar cost of the simulated broker alone (not collected by pytest).

CPU instructions counted by valgrind's callgrind (deterministic on a shared
machine): each step runs in a child process over N and then 2N bars, and the
difference divided by N, less the same for a no-op subscriber on the bus, is
the broker's cost of one bar. Steps, all published through the bus as in the
pipeline:

- ``quiet``: bars of one instrument, no orders, no position;
- ``holding``: the same with one open position (each bar marks it);
- ``sma``: the backtest benchmark's order flow: the bars of the seeded
  minute file and the orders and cancels ``sma_cross`` 10/30 made on them in
  the full pipeline, recorded once beforehand (an order every ~25 bars).

``ENGINE_PURE_PYTHON=1`` measures the Python sources.

``python -m benchmarks.bench_broker [--bars N]``
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STEPS = ("quiet", "holding", "sma")
BUS = "bus"  # the same publishes to a no-op subscriber, to subtract


def record(bars: int, out: Path) -> None:
    """The broker's inputs in the benchmark's pipeline (sma_cross 10/30, cash 1e6): bars, orders, cancels."""
    from itertools import islice

    from benchmarks.bench_backtest import _config
    from benchmarks.datagen import ohlcv_file
    from engine.data import open_stream
    from engine.pipeline import build_pipeline
    from engine.runtime.clocks import SimClock
    from hub import keys as K
    from hub.bus import Bus

    path = str(ohlcv_file(1_000_000))
    clock = SimClock()
    bus = Bus(clock=clock)
    pipeline = build_pipeline(bus, clock, _config(path, ""))
    for agent in pipeline.agents:
        agent.start()
    events: list = []
    bus.subscribe("tap", K.SUBMIT_ORDER, events.append)
    bus.subscribe("tap", K.CANCEL_ORDER, events.append)
    for bar in islice(open_stream([path], format="ohlcv"), bars):
        clock.ts = bar.ts
        events.append(bar)
        bus.publish(K.BAR, bar)
    out.write_bytes(pickle.dumps(events))


def _inputs(step: str, built: int, recorded: Path) -> list:
    from hub.messages import Bar, SubmitOrder

    if step in ("sma", BUS):
        return pickle.loads(recorded.read_bytes())
    bars = [Bar(i, "X", 10.0, 10.5, 9.5, 10.0 + (i % 7) * 0.01, 1000.0) for i in range(2, built + 2)]
    if step == "holding":
        return [Bar(0, "X", 10.0, 10.5, 9.5, 10.0, 1000.0), SubmitOrder(0, "o1", "s", "X", "BUY", 10.0, signal_price=10.0),
                Bar(1, "X", 10.0, 10.5, 9.5, 10.0, 1000.0), *bars]
    return bars


def child(step: str, bars: int, built: int, recorded: Path) -> None:
    """Publish the first ``bars`` bars (and the orders among them) of inputs built for ``built`` bars."""
    from agents.broker import BrokerAgent, BrokerSettings
    from engine.runtime.logs import configure_logging
    from hub import keys as K
    from hub.bus import Bus
    from hub.messages import Bar, SubmitOrder

    configure_logging("warning")
    events = _inputs(step, built, recorded)
    bus = Bus()
    if step == BUS:
        for key in (K.BAR, K.SUBMIT_ORDER, K.CANCEL_ORDER):
            bus.subscribe("sink", key, id)  # a C function: the call costs what a compiled handler's does
    else:
        BrokerAgent(bus, lambda: 0, BrokerSettings(cash=1_000_000.0)).attach()
    bar, submit, cancel = bus.publisher(K.BAR), bus.publisher(K.SUBMIT_ORDER), bus.publisher(K.CANCEL_ORDER)
    seen = 0
    for event in events:
        kind = type(event)
        if kind is Bar:
            if seen == bars:
                break
            seen += 1
            bar(event)
        elif kind is SubmitOrder:
            submit(event)
        else:
            cancel(event)


def _instructions(step: str, bars: int, built: int, recorded: Path) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               "-m", "benchmarks.bench_broker", "--child", step, "--bars", str(bars), "--built", str(built),
               "--recorded", str(recorded)]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {out.stderr[-500:]}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=50_000, help="bars per run (N; 2N is the second run)")
    parser.add_argument("--child", choices=(*STEPS, BUS), help=argparse.SUPPRESS)
    parser.add_argument("--built", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--recorded", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.bars, max(args.built, args.bars), args.recorded)
        return
    from engine.runtime.logs import configure_logging
    from hub.compiled import describe

    if shutil.which("valgrind") is None:
        print("== broker alone: skipped (counts CPU instructions with valgrind, which is not installed)")
        return
    configure_logging("warning")
    bars = args.bars
    with tempfile.TemporaryDirectory() as tmp:
        recorded = Path(tmp) / "sma.pickle"
        record(2 * bars, recorded)
        orders = sum(type(e).__name__ == "SubmitOrder" for e in pickle.loads(recorded.read_bytes()))
        jobs = [(step, n) for step in (BUS, *STEPS) for n in (bars, 2 * bars)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(jobs, pool.map(lambda job: _instructions(job[0], job[1], 2 * bars, recorded), jobs),
                              strict=True))

    def per_bar(step: str) -> float:
        return (counts[(step, 2 * bars)] - counts[(step, bars)]) / bars

    print(f"== broker alone, CPU instructions a bar (callgrind, {bars:,} vs {2 * bars:,} bars, less the bus's own "
          f"{per_bar(BUS):,.0f}; sma: {orders:,} orders in {2 * bars:,} bars; {describe()})")
    for step in STEPS:
        print(f"  {step:8} {per_bar(step) - per_bar(BUS):8,.0f}")


if __name__ == "__main__":
    main()
