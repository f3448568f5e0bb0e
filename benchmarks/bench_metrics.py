"""Metrics overhead: the same backtest with StatsD off and on. Target (issue 3): on costs <= 10% more.

``sma_cross`` 10/30 on seeded minute bars, replayed from loaded bars through
the full agent pipeline, as in bench_backtest. Each run is a fresh child
process (aiodebug's slow-callback patch is process-wide and cannot be
removed), off and on run back to back ``--rounds`` times. "On" is the real
thing: ``metrics_for`` with every metric, sending to a local UDP socket that
receives and discards, so every datagram is really sent. Printed: the best
replay seconds off and on (wall, and CPU including the metrics threads), the
median of the rounds' on/off ratios (each round's two runs share the
machine's load of the moment, so this is the steadier figure on a busy
machine), and the datagrams one run sent.

Timings on a shared machine swing by more than the 10% being measured.
``--instructions`` counts CPU instructions per bar instead, with valgrind's
callgrind (deterministic; ~2 minutes): each mode runs N and 2N bars, and the
difference divided by N is the per-bar cost, start-up and loading cancelled.
The metrics' real-time cadences (flush, loop lag, watchdog) are stretched by
valgrind's slowdown (:data:`VALGRIND_SLOWDOWN`), so they happen as often per
bar as they do natively; the printed figure includes them.

``python -m benchmarks.bench_metrics [--bars N] [--rounds R] [--instructions]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.datagen import ohlcv_file

TARGET_RATIO = 1.10
VALGRIND_SLOWDOWN = 50.0  # callgrind ran this replay ~70x slower than natively: 50 errs towards more metrics work per bar


class DiscardingUdpSink:
    """A UDP socket on 127.0.0.1 that receives and drops everything, counting datagrams and bytes."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.datagrams = 0
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="bench-udp-sink", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            self.datagrams += 1
            self.bytes += len(data)

    def take_counts(self) -> tuple[int, int]:
        time.sleep(0.2)  # the final flush's datagrams
        counts = (self.datagrams, self.bytes)
        self.datagrams = self.bytes = 0
        return counts

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


def _config(path: str, statsd: str | None) -> Any:
    """The backtest benchmark's workload, with StatsD on or off."""
    from benchmarks.bench_backtest import _config as workload
    from engine.config import MetricsConfig

    return replace(workload(path, ""), metrics=MetricsConfig(statsd=statsd))


def child(path: str, statsd: str | None, limit: int | None = None, stretch: float = 1.0) -> dict[str, Any]:
    """One replay from loaded bars (the first ``limit``), metrics on when ``statsd`` is an address.

    ``stretch`` multiplies every real-time cadence of the metrics (for runs under valgrind).
    """
    from engine.backtest.driver import run_pipeline
    from engine.data import open_stream
    from engine.runtime.health import metrics_for
    from engine.runtime.logs import configure_logging

    configure_logging("warning")
    bars = list(open_stream([path], format="ohlcv"))[:limit]
    config = _config(path, statsd)
    config = replace(config, metrics=replace(config.metrics, slow_callback_ms=config.metrics.slow_callback_ms * stretch))
    tuning = {"flush_interval_s": 1.0 * stretch, "loop_lag_interval_s": 0.25 * stretch, "hang_after_s": 1.0 * stretch}
    with tempfile.TemporaryDirectory() as out, metrics_for(config, **tuning) as metrics:
        wall, cpu = time.perf_counter(), time.process_time()
        summary = asyncio.run(run_pipeline(
            config, Path(out), "bench-metrics", bars,
            monitor=metrics.monitor if metrics else None, on_bus=metrics.attach if metrics else None,
        ))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "bars": summary["bars"], "fills": summary["fills"]}


def _run_child(path: Path, statsd: str | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_metrics", "--child", str(path)]
    if statsd:
        command += ["--statsd", statsd]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _instructions(path: Path, statsd: str | None, bars: int) -> int:
    """Instructions callgrind counts for a child replaying the first ``bars`` bars of ``path``."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               "-m", "benchmarks.bench_metrics", "--child", str(path), "--limit", str(bars),
               "--stretch", str(VALGRIND_SLOWDOWN)]
    if statsd:
        command += ["--statsd", statsd]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {out.stderr[-500:]}")
    return int(match.group(1))


def instructions_per_bar(bars: int, statsd: str) -> None:
    if shutil.which("valgrind") is None:
        print("\n== metrics overhead in instructions: valgrind is not installed, skipped")
        return
    path = ohlcv_file(2 * bars)
    jobs = [(mode, n) for mode in ("off", "on") for n in (bars, 2 * bars)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _instructions(path, statsd if job[0] == "on" else None, job[1]), jobs),
                          strict=True))
    per_bar = {mode: (counts[(mode, 2 * bars)] - counts[(mode, bars)]) / bars for mode in ("off", "on")}
    ratio = per_bar["on"] / per_bar["off"]
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(f"\n== metrics overhead in CPU instructions per bar (callgrind, {bars:,} vs {2 * bars:,} bars, "
          f"real-time cadences x{VALGRIND_SLOWDOWN:.0f})")
    print(f"  metrics off {per_bar['off']:10,.0f}   metrics on {per_bar['on']:10,.0f}   "
          f"on / off {ratio:.3f}x   target <= {TARGET_RATIO}x  {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5, help="off/on pairs; the best of each is kept")
    parser.add_argument("--instructions", action="store_true", help="count CPU instructions per bar with callgrind")
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--statsd", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stretch", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.statsd, args.limit, args.stretch)))
        return
    if args.instructions:
        sink = DiscardingUdpSink()
        try:
            instructions_per_bar(min(args.bars, 20_000), sink.address)
        finally:
            sink.close()
        return

    path = ohlcv_file(args.bars)
    sink = DiscardingUdpSink()
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    datagrams = sent_bytes = 0
    try:
        for _ in range(args.rounds):
            runs["off"].append(_run_child(path, None))
            runs["on"].append(_run_child(path, sink.address))
            datagrams, sent_bytes = sink.take_counts()
    finally:
        sink.close()
    best = {mode: {key: min(r[key] for r in results) for key in ("wall_s", "cpu_s")} for mode, results in runs.items()}
    ratio = {key: statistics.median(on[key] / off[key] for off, on in zip(runs["off"], runs["on"], strict=True))
             for key in ("wall_s", "cpu_s")}
    bars = runs["off"][0]["bars"]
    verdict = "ok" if ratio["cpu_s"] <= TARGET_RATIO else "MISSED"
    print(f"\n== metrics overhead: sma_cross 10/30 on {bars:,} seeded minute bars, StatsD off vs on, {args.rounds} rounds")
    print(f"  replay, metrics off      {best['off']['wall_s']:7.2f} s wall  {best['off']['cpu_s']:7.2f} s CPU   (best)")
    print(f"  replay, metrics on       {best['on']['wall_s']:7.2f} s wall  {best['on']['cpu_s']:7.2f} s CPU   (best)")
    print(f"  on / off                 {ratio['wall_s']:7.3f}x wall  {ratio['cpu_s']:7.3f}x CPU   (median of rounds)"
          f"  target <= {TARGET_RATIO}x  {verdict}")
    print(f"  sent by one run          {datagrams:,} datagrams, {sent_bytes:,} bytes ({bars / max(datagrams, 1):,.0f} bars per datagram)")


if __name__ == "__main__":
    main()
