"""The strategy host's per-bar step alone: one ``MarketState`` published, to the strategy's ``on_bar``.

On every bar of a backtest the model state publishes a MarketState and the
host hands the strategy its bar and an immutable ``ind``: one of the hottest
steps. Wall clock on the shared 2-core machine swings by more than the
differences measured here, so the figure is CPU instructions counted by
valgrind's callgrind (deterministic): each case runs in a child process that
publishes N and then 2N states; the difference divided by N, less the same
for the bare loop, is one step's cost (start-up, imports and set-up cancel
out). The strategies read their two indicators (``sma_cross``'s shape) and
do nothing else, or do nothing at all, so the figure is the host's and the
bus's; ``value`` adds one ``self.value`` a bar, answered by a broker. Without valgrind, or with ``--wall``, it prints nanoseconds instead.

``python -m benchmarks.bench_host [--bars N] [--wall] [--rounds R]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from strategies.api import Strategy

LOOP = "loop"  # the benchmark's loop alone, to subtract


class Idle(Strategy):
    """Asks for two indicators and ignores them: the host's own cost."""

    def indicators(self):
        from strategies.api import sma

        return {"fast": sma(10), "slow": sma(30)}


class Reads(Idle):
    """Reads both indicators and the bar's close, as every real strategy does."""

    def on_bar(self, bar, ind):
        bar.close > ind.fast - ind.slow  # noqa: B015 - the reads are the point


class Values(Idle):
    """Asks for ``value`` every bar: a question to the broker and its answer, both through the bus."""

    def on_bar(self, bar, ind):
        self.value  # noqa: B018 - the question is the point


CASES = {"idle": Idle, "reads": Reads, "value": Values}


def child(case: str, bars: int) -> float:
    """Publish ``bars`` MarketStates to a host running ``case``; returns the loop's seconds."""
    from agents.broker import BrokerAgent
    from agents.strategy_host import StrategyHost
    from engine.runtime.logs import configure_logging
    from hub import keys as K
    from hub.bus import Bus
    from hub.messages import Bar, MarketState

    configure_logging("warning")
    bus = Bus()
    if case == LOOP:
        t0 = time.perf_counter()
        for _ in range(bars):
            pass
        return time.perf_counter() - t0
    BrokerAgent(bus, lambda: 0).attach()  # only ever asked for the account's value here
    host = StrategyHost(bus, lambda: 0, CASES[case], name="strategy", initial_cash=100_000.0)
    host.attach()
    host.start()
    bar = Bar(ts=1, instrument="SYN", open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)
    state = MarketState(ts=1, bar=bar, requester="strategy", names=("fast", "slow"), values=(1.0, 2.0))
    publish = bus.publisher(K.MARKET_STATE)
    t0 = time.perf_counter()
    for _ in range(bars):
        publish(state)
    seconds = time.perf_counter() - t0
    assert bus.errors == 0
    return seconds


def _instructions(case: str, bars: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               "-m", "benchmarks.bench_host", "--child", case, "--bars", str(bars)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {out.stderr[-500:]}")
    return int(match.group(1))


def instructions(bars: int) -> None:
    jobs = [(case, n) for case in (LOOP, *CASES) for n in (bars, 2 * bars)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _instructions(*job), jobs), strict=True))

    def per_bar(case: str) -> float:
        return (counts[(case, 2 * bars)] - counts[(case, bars)]) / bars

    print(f"== strategy host step in CPU instructions (callgrind, {bars:,} vs {2 * bars:,} states, "
          f"less the loop's own {per_bar(LOOP):,.0f} an iteration)")
    for case in CASES:
        print(f"  {case:8} {per_bar(case) - per_bar(LOOP):8,.0f} a bar")


def wall(bars: int, rounds: int) -> None:
    print(f"== strategy host step in wall-clock ns (best of {rounds}, {bars:,} states; noisy on a shared machine)")
    loop = min(child(LOOP, bars) for _ in range(rounds))
    for case in CASES:
        best = min(child(case, bars) for _ in range(rounds))
        print(f"  {case:8} {(best - loop) / bars * 1e9:8.0f} ns a bar")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--wall", action="store_true", help="time with the wall clock instead of callgrind")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=(*CASES, LOOP), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.bars)
    elif args.wall or shutil.which("valgrind") is None:
        wall(args.bars, args.rounds)
    else:
        instructions(args.bars)


if __name__ == "__main__":
    main()
