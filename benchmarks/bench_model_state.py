"""Per-bar cost of the model state agent: one instrument, SMA 10 + SMA 30 on close (not collected by pytest).

The default figure is CPU instructions, counted by valgrind's callgrind
(deterministic on a shared machine): each step runs in a child process over
N and then 2N bars built beforehand, and the difference divided by N, less
the same for the bare loop, is the cost of one bar. Steps:

- ``handler``: the agent's ``md.bar`` handler, MarketState built and
  published to a no-op subscriber included (the step the pipeline runs);
- ``update``: ``InstrumentState.update`` alone (push the bar, compute both SMAs).

Without valgrind, or with ``--wall``, it prints microseconds per bar (best
of 3 timeit runs) instead. ``ENGINE_PURE_PYTHON=1`` measures the Python sources.

``python -m benchmarks.bench_model_state [--bars N] [--wall]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

STEPS = ("handler", "update")
LOOP = "loop"  # the benchmark's loop alone, to subtract


def _bars(n: int) -> list:
    from hub.messages import Bar

    return [Bar(ts=i, instrument="X", open=10.0, high=10.1, low=9.9, close=10.0 + (i % 97) * 0.01, volume=1e4)
            for i in range(n)]


def _step(step: str) -> Callable[[object], object]:
    """The callable one bar goes through, set up with the benchmark's two SMAs."""
    from agents.model_state import InstrumentState, ModelStateAgent
    from engine.runtime.logs import configure_logging
    from hub import keys as K
    from hub.bus import Bus
    from hub.messages import IndicatorRequest, IndicatorSpec

    configure_logging("warning")
    specs = (IndicatorSpec("fast", "sma", 10), IndicatorSpec("slow", "sma", 30))
    if step == "handler":
        bus = Bus()
        agent = ModelStateAgent(bus, lambda: 0)
        agent.attach()
        bus.subscribe("sink", K.MARKET_STATE, lambda m: None)
        bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=0, requester="s", specs=specs))
        return agent.on_bar
    if step == "update":
        state = InstrumentState(31)
        for s in specs:
            state.add(s)
        return state.update
    return lambda bar: None


def child(step: str, bars: int, built: int) -> None:
    """Run ``bars`` of ``built`` prebuilt bars through the step (``built`` is the same for N and 2N)."""
    messages = _bars(built)
    fn = _step(step)
    if step == LOOP:
        for _bar in messages[:bars]:
            pass
        return
    for bar in messages[:bars]:
        fn(bar)


def _instructions(step: str, bars: int, built: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               "-m", "benchmarks.bench_model_state", "--child", step, "--bars", str(bars), "--built", str(built)]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {out.stderr[-500:]}")
    return int(match.group(1))


def instructions(bars: int) -> None:
    jobs = [(step, n) for step in (LOOP, *STEPS) for n in (bars, 2 * bars)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _instructions(job[0], job[1], 2 * bars), jobs), strict=True))

    def per_bar(step: str) -> float:
        return (counts[(step, 2 * bars)] - counts[(step, bars)]) / bars

    from hub.compiled import describe

    print(f"== model state, SMA 10 + SMA 30 on close, CPU instructions a bar (callgrind, {bars:,} vs {2 * bars:,} "
          f"bars, less the loop's own {per_bar(LOOP):,.0f}; {describe()})")
    for step in STEPS:
        print(f"  {step:8} {per_bar(step) - per_bar(LOOP):8,.0f}")


def wall(bars: int) -> None:
    messages = _bars(bars)
    print(f"== model state, SMA 10 + SMA 30 on close, us a bar (best of 3, {bars:,} bars; noisy on a shared machine)")
    for step in (LOOP, *STEPS):
        fn = _step(step)
        best = min(timeit.repeat(lambda fn=fn: [fn(b) for b in messages], number=1, repeat=3))
        print(f"  {step:8} {best / bars * 1e6:8.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=None, help="bars per run (20,000 counted, 1,000,000 timed)")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock instead of callgrind")
    parser.add_argument("--child", choices=(*STEPS, LOOP), help=argparse.SUPPRESS)
    parser.add_argument("--built", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.bars, max(args.built, args.bars))
    elif args.wall or shutil.which("valgrind") is None:
        wall(args.bars or 1_000_000)
    else:
        instructions(args.bars or 20_000)


if __name__ == "__main__":
    main()
