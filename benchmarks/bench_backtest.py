"""Backtest speed and memory: `sma_cross` (10/30) on seeded minute bars, through the full agent pipeline.

Each measurement runs in a fresh child process so peak RSS belongs to that
run alone. Printed in one run: replay bars/s from loaded data, end-to-end
seconds including CSV parsing, peak RSS, the plain-Python loop on the same
data, and the ratios against the targets of issue 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.datagen import ohlcv_file

TARGETS = {"bars_per_s": 300_000, "plain_ratio": 8.0, "e2e_s": 4.0, "rss_mb": 300.0, "growth": 1.20,
           "results_s": 1.0, "report_mb": 10.0}


def _config(path: str, out: str):
    from agents.broker import BrokerSettings
    from engine.config import Config, DataConfig, OutputConfig, StrategyConfig

    config = Config()
    return replace(
        config,
        data=DataConfig(paths=(path,), format="ohlcv"),
        strategy=StrategyConfig(name="sma_cross", params={"fast": 10, "slow": 30, "size": 100}),
        broker=BrokerSettings(cash=1_000_000.0),
        output=OutputConfig(dir=out),
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_end_to_end(path: str, report: bool = False) -> dict:
    """One backtest (report.html off: it is timed on its own in ``child_results``)."""
    from engine.backtest.driver import run_backtest

    with tempfile.TemporaryDirectory() as out:
        config = _config(path, out)
        config = replace(config, output=replace(config.output, report=report))
        t0 = time.perf_counter()
        result = run_backtest(config)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "bars": result.summary["bars"], "fills": result.summary["fills"],
            "final_value": result.summary["final_value"], "peak_rss_mb": _peak_rss_mb()}


def child_results(path: str) -> dict:
    """What the statistics and the report cost on top of the backtest (issue 13), timed by wrapping their functions.

    During the run: the equity figures a chunk of marks at a time, the price tape a column chunk at a
    time (with the round trips it settles into trades.csv). After it: the last chunk, prices.csv, the
    statistics; then report.html made from the files.
    """
    from engine.backtest import driver
    from engine.report.run_report import build_run_report
    from engine.results.equity_stats import EquityStats
    from engine.results.prices import PriceTape
    from engine.results.recorder import Recorder

    spent = {"during": 0.0, "after": 0.0, "sync": 0.0}

    def timed(owner, name, phase):
        """CPU time of this thread in ``owner.name``: the replay's thread, not the writer's or the parser's waits."""
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t0 = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] += time.thread_time() - t0

        setattr(owner, name, wrapper)

    timed(Recorder, "sync_fills", "sync")  # the tape hands the fills on: formatting them is the recorder's work
    timed(EquityStats, "add", "during")
    timed(PriceTape, "observe", "during")
    for name in ("statistics", "write_prices"):
        timed(driver, name, "after")
    timed(PriceTape, "finish", "after")
    with tempfile.TemporaryDirectory() as out:
        config = _config(path, out)
        result = driver.run_backtest(replace(config, output=replace(config.output, report=False)))
        t0 = time.perf_counter()
        report = build_run_report(Path(out))
        report_s = time.perf_counter() - t0
        size = report.stat().st_size
    return {"during_s": spent["during"] - spent["sync"], "after_s": spent["after"], "report_s": report_s, "report_mb": size / 1e6,
            "round_trips": result.summary["round_trips"]}


def child_replay(path: str, repeats: int = 5) -> dict:
    """Parse once, then replay ``repeats`` times on fresh agents, each followed by the plain loop.

    The machine is shared: a single timing swings by a third. The best of
    several runs of each, interleaved so both see the same conditions, is
    the figure least disturbed by other work (timeit's rule).
    """
    from benchmarks.plain_loop import crossover_loop
    from engine.backtest.driver import run_pipeline
    from engine.data import open_stream
    from engine.runtime.logs import configure_logging

    configure_logging("warning")
    t0 = time.perf_counter()
    bars = list(open_stream([path], format="ohlcv"))
    load_s = time.perf_counter() - t0
    config = _config(path, "")
    opens = [b.open for b in bars]
    closes = [b.close for b in bars]
    replays, plains = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            summary = asyncio.run(run_pipeline(config, Path(out), "bench", bars))
            replays.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        trades, final = crossover_loop(opens, closes)
        plains.append(time.perf_counter() - t0)
    return {"bars": len(bars), "load_s": load_s, "replay_s": min(replays), "plain_s": min(plains),
            "replay_runs": replays, "plain_runs": plains,
            "engine_fills": summary["fills"], "plain_trades": trades,
            "engine_final": summary["final_value"], "plain_final": final}


def _run_child(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_backtest", "--child", kind, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _runs(seconds: list[float]) -> str:
    return "/".join(f"{s:.2f}" for s in seconds)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=["e2e", "replay", "results"])
    parser.add_argument("path", nargs="?")
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=10_000_000, help="bars for the memory-growth run (0 to skip)")
    args = parser.parse_args(argv)
    if args.child:
        fn = {"e2e": child_end_to_end, "replay": child_replay, "results": child_results}[args.child]
        print(json.dumps(fn(args.path)))
        return

    path = ohlcv_file(args.bars)
    replay = _run_child("replay", path)
    runs = [_run_child("e2e", path) for _ in range(3)]
    e2e = {"seconds": min(r["seconds"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    bars_per_s = replay["bars"] / replay["replay_s"]
    plain_per_s = replay["bars"] / replay["plain_s"]
    ratio = replay["replay_s"] / replay["plain_s"]
    print(f"\n== backtest: sma_cross 10/30 on {replay['bars']:,} seeded minute bars (full agent pipeline)")
    print(f"  (best of {len(replay['replay_runs'])} interleaved runs each: replay {_runs(replay['replay_runs'])} s, "
          f"plain loop {_runs(replay['plain_runs'])} s; end to end best of {len(runs)})")
    print(f"  replay from loaded data  {bars_per_s:12,.0f} bars/s   target >= {TARGETS['bars_per_s']:,}  {_verdict(bars_per_s >= TARGETS['bars_per_s'])}")
    print(f"  plain-Python loop        {plain_per_s:12,.0f} bars/s   engine/plain time ratio {ratio:.1f}x  target <= {TARGETS['plain_ratio']}x  {_verdict(ratio <= TARGETS['plain_ratio'])}")
    print(f"  trades agree             engine fills {replay['engine_fills']:,} vs plain loop {replay['plain_trades']:,}; "
          f"final {replay['engine_final']:.2f} vs {replay['plain_final']:.2f}")
    print(f"  parse into messages      {replay['load_s']:.2f} s")
    print(f"  end to end (parse+run)   {e2e['seconds']:.2f} s   target < {TARGETS['e2e_s']} s  {_verdict(e2e['seconds'] < TARGETS['e2e_s'])}")
    print(f"  peak RSS end to end      {e2e['peak_rss_mb']:.0f} MB   target < {TARGETS['rss_mb']:.0f} MB  {_verdict(e2e['peak_rss_mb'] < TARGETS['rss_mb'])}")
    results = _run_child("results", path)
    built = results["after_s"] + results["report_s"]
    print(f"  statistics and report    {built:.2f} s after the run (statistics {results['after_s']:.2f} s CPU, report.html "
          f"{results['report_s']:.2f} s, {results['report_mb']:.1f} MB, {results['round_trips']:,} round trips); "
          f"{results['during_s']:.2f} s CPU accumulated during it   target < {TARGETS['results_s']} s, "
          f"< {TARGETS['report_mb']:.0f} MB  {_verdict(built < TARGETS['results_s'] and results['report_mb'] < TARGETS['report_mb'])}")
    if args.big:
        big = _run_child("e2e", ohlcv_file(args.big))
        growth = big["peak_rss_mb"] / e2e["peak_rss_mb"]
        print(f"  {args.big:,} bars end to end {big['seconds']:.1f} s, peak RSS {big['peak_rss_mb']:.0f} MB: "
              f"{growth:.2f}x the {args.bars:,}-bar run   target <= {TARGETS['growth']}x  {_verdict(growth <= TARGETS['growth'])}")


if __name__ == "__main__":
    main()
