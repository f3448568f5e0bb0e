"""The bus's hot path alone: one key, H trivial handlers, ``bus.publish(key, msg)`` against ``bus.publisher(key)``.

Wall clock on a shared 2-core machine swings by more than the differences
measured here, so the default figure is CPU instructions, counted by
valgrind's callgrind (deterministic): each case runs in a child process that
publishes N and then 2N messages; the difference divided by N, less the same
for the bare ``for`` loop, is the cost of one publish (start-up, imports, the
bus's set-up and the loop cancel out). The handlers
are bound methods that return at once, as cheap as a handler can be, so the
figure is the bus's own cost: per publish, and per delivery (divided by H).
Without valgrind, or with ``--wall``, it prints nanoseconds per publish
(best of ``--rounds``) instead.

``python -m benchmarks.bench_hub [--publishes N] [--handlers 1,2,3] [--wall] [--rounds R]``
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

MODES = ("publish", "publisher")
LOOP = "loop"  # the benchmark's loop alone, to subtract


class _Agent:
    def on(self, msg: object) -> None:
        pass


def _bus(handlers: int, monitored: bool):
    from engine.runtime.logs import configure_logging
    from hub import keys as K
    from hub.bus import Bus, Monitor

    configure_logging("warning")
    monitor = Monitor() if monitored else None
    if monitor is not None:
        monitor.sample_every = 64  # the metrics default
    bus = Bus(monitor=monitor)
    for i in range(handlers):
        bus.subscribe(f"agent{i}", K.BAR, _Agent().on)
    return bus, K.BAR


def _message():
    from hub.messages import Bar

    return Bar(ts=1, instrument="SYN", open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


def child(mode: str, handlers: int, monitored: bool, publishes: int) -> float:
    """Publish ``publishes`` messages the ``mode`` way; returns the seconds the loop took."""
    bus, key = _bus(handlers, monitored)
    msg = _message()
    t0 = time.perf_counter()
    if mode == "publisher":
        publish = bus.publisher(key)
        for _ in range(publishes):
            publish(msg)
    elif mode == LOOP:
        for _ in range(publishes):
            pass
        return time.perf_counter() - t0
    else:
        publish_key = bus.publish
        for _ in range(publishes):
            publish_key(key, msg)
    seconds = time.perf_counter() - t0
    assert bus.subscriptions[0].handled == publishes  # counted exactly
    return seconds


def _instructions(mode: str, handlers: int, monitored: bool, publishes: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               "-m", "benchmarks.bench_hub", "--child", mode, "--handlers", str(handlers),
               "--publishes", str(publishes)] + (["--monitored"] if monitored else [])
    out = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {out.stderr[-500:]}")
    return int(match.group(1))


def instructions(handler_counts: list[int], publishes: int) -> None:
    cases = [(mode, h, monitored) for monitored in (False, True) for h in handler_counts for mode in MODES]
    loop = (LOOP, 1, False)
    jobs = [(case, n) for case in [loop, *cases] for n in (publishes, 2 * publishes)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _instructions(*job[0], job[1]), jobs), strict=True))

    def per_iteration(case: tuple[str, int, bool]) -> float:
        return (counts[(case, 2 * publishes)] - counts[(case, publishes)]) / publishes

    print(f"== bus publish cost in CPU instructions (callgrind, {publishes:,} vs {2 * publishes:,} publishes, "
          f"less the loop's own {per_iteration(loop):,.0f} an iteration)")
    print(f"  {'monitor':8} {'handlers':>8} {'mode':10} {'per publish':>12} {'per delivery':>13}")
    for mode, h, monitored in cases:
        per = per_iteration((mode, h, monitored)) - per_iteration(loop)
        print(f"  {'on' if monitored else 'off':8} {h:8d} {mode:10} {per:12,.0f} {per / h:13,.0f}")


def wall(handler_counts: list[int], publishes: int, rounds: int) -> None:
    print(f"== bus publish cost in wall-clock ns (best of {rounds}, {publishes:,} publishes; noisy on a shared machine)")
    for monitored in (False, True):
        for h in handler_counts:
            for mode in MODES:
                best = min(child(mode, h, monitored, publishes) for _ in range(rounds))
                print(f"  monitor {'on ' if monitored else 'off'} handlers {h} {mode:10} {best / publishes * 1e9:8.0f} ns")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--publishes", type=int, default=100_000)
    parser.add_argument("--handlers", default="1,2,3", help="comma-separated handler counts")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock instead of callgrind")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=(*MODES, LOOP), help=argparse.SUPPRESS)
    parser.add_argument("--monitored", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    handler_counts = [int(h) for h in args.handlers.split(",")]
    if args.child:
        child(args.child, handler_counts[0], args.monitored, args.publishes)
    elif args.wall or shutil.which("valgrind") is None:
        wall(handler_counts, args.publishes, args.rounds)
    else:
        instructions(handler_counts, args.publishes)


if __name__ == "__main__":
    main()
