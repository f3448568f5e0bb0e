"""Sweep throughput: 10 instruments x 100 parameter sets of `sma_cross` on 20,000-bar seeded files, 1 and 2 workers.

Prints backtests/s for each worker count, the speed-up (target >= 1.8x on 2
cores) and the share of the workers' time spent parsing CSV (target < 5%),
next to what parsing would cost if every backtest parsed its own file. The
1-worker run covers as many instruments as fit in ``--budget`` seconds (all
of them once a backtest is fast enough) so the benchmark stays within a
few minutes; the speed-up compares backtests/s, counted from the moment the
workers are ready (their start-up is printed apart), and how much of their
cores the workers got (a shared machine can starve them). Each run starts
from an empty cache, so parsing is counted, not hidden by an earlier run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.datagen import ohlcv_file

TARGETS = {"speedup": 1.8, "parse_share": 0.05}


def sweep_config(files: list[Path], sets: int, workers: int, out: Path, cache: Path):
    from engine.config import Config, DataConfig, OutputConfig, StrategyConfig, SweepConfig

    fast = [2 * (i + 1) for i in range(10)]  # 2..20
    slow = [25 + 5 * i for i in range(max(1, sets // 10))]  # 25.., always above fast
    return Config(
        data=DataConfig(paths=tuple(str(f) for f in files), format="ohlcv"),
        strategy=StrategyConfig(name="sma_cross", params={"size": 100}),
        output=OutputConfig(dir=str(out)),
        sweep=SweepConfig(grid={"fast": fast[:min(10, sets)], "slow": slow}, workers=workers,
                          cache_dir=str(cache), quiet=True),
    )


def one_parse_seconds(path: Path) -> float:
    """What one backtest pays to parse its file when nothing is cached (best of 3)."""
    from engine.data import load_columns

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        load_columns(str(path), format="ohlcv")
        best = min(best, time.perf_counter() - t0)
    return best


def run(files: list[Path], sets: int, workers: int) -> dict:
    from engine.sweep.runner import make_executor, plan_sweep, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        config = sweep_config(files, sets, workers, Path(tmp) / "out", Path(tmp) / "cache")
        executor, _ = make_executor(plan_sweep(config))
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        result = run_sweep(config, executor=executor)
        total = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
    rows = result.rows
    busy = sum(r.get("seconds") or 0.0 for r in rows)
    startup = executor.startup_seconds or 0.0
    return {
        "workers": workers, "backtests": len(rows), "failed": len(result.failed), "busy": busy, "cpu": cpu,
        "startup": startup,  # spawning the workers and importing the engine
        "wall": result.seconds - startup,  # first worker ready to last row
        "total": total,  # plus planning and writing the tables and heatmap
        "parse": sum(r.get("load_seconds") or 0.0 for r in rows if r.get("data_source") == "parsed"),
        "loading": sum(r.get("load_seconds") or 0.0 for r in rows),
        "parsed_files": sum(1 for r in rows if r.get("data_source") == "parsed"),
        "bars": sum(r.get("bars") or 0 for r in rows),
    }


def _children_cpu() -> float:
    """CPU seconds of the worker processes that have ended (they are joined when a sweep ends)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _used(r: dict) -> float:
    """Share of its cores the workers got: well under 1 means other processes competed for them."""
    return r["cpu"] / ((r["wall"] + r["startup"]) * r["workers"])


def _workers(r: dict) -> str:
    return f"{r['workers']} worker{'s' if r['workers'] > 1 else ' '}"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=10)
    parser.add_argument("--sets", type=int, default=100, help="parameter sets per instrument (multiple of 10)")
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--budget", type=float, default=40.0, metavar="S",
                        help="seconds the 1-worker run may take: it covers as many instruments as fit (at least 1)")
    parser.add_argument("--quick", action="store_true", help="4 instruments x 20 sets x 5,000 bars: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.instruments, args.sets, args.bars, args.budget = 4, 20, 5_000, 1e9

    files = [ohlcv_file(args.bars, seed=100 + i, instrument=f"SW{i:02d}") for i in range(args.instruments)]
    two = run(files, args.sets, 2)
    per_instrument = two["busy"] / len(files)  # seconds one worker spends on one instrument's sets
    fit = max(1, min(len(files), int(args.budget // max(per_instrument, 1e-9))))
    one = run(files[:fit], args.sets, 1)
    sets = two["backtests"] // max(1, len(files))
    print(f"\n== sweep: sma_cross, {len(files)} instruments x {sets} parameter sets = {two['backtests']:,} backtests "
          f"on {args.bars:,}-bar seeded minute files, local worker processes, empty cache")
    for r in (two, one):
        failed = f", {r['failed']} FAILED" if r["failed"] else ""
        print(f"  {_workers(r)} {r['backtests']:6,} backtests  {r['wall']:7.1f} s  {r['backtests'] / r['wall']:7.2f} backtests/s  "
              f"{r['bars'] / r['wall']:10,.0f} bars/s  (+{r['startup']:.1f} s starting workers, {r['total']:.1f} s "
              f"in all with the output files; workers used {_used(r):.0%} of {r['workers']} core(s){failed})")
    speedup = (two["backtests"] / two["wall"]) / (one["backtests"] / one["wall"])
    print(f"  speed-up 1 -> 2 workers  {speedup:.2f}x   target >= {TARGETS['speedup']}x  {_verdict(speedup >= TARGETS['speedup'])}")
    if min(_used(r) for r in (one, two)) < 0.85:
        print("  (other processes took CPU from the workers during this run: read the speed-up with care)")
    print(f"  CPU per backtest  1 worker {one['cpu'] / one['backtests'] * 1000:.0f} ms, 2 workers "
          f"{two['cpu'] / two['backtests'] * 1000:.0f} ms (equal when the second worker costs nothing extra)")
    for r in (two, one):
        share = r["parse"] / r["busy"] if r["busy"] else 0.0
        print(f"  parsing, {_workers(r)}  {r['parse']:.2f} s of {r['busy']:.1f} s worker time = {share:.2%} "
              f"({r['parsed_files']} files parsed once each; with cache and memo reads {r['loading'] / r['busy']:.2%})"
              f"   target < {TARGETS['parse_share']:.0%}  {_verdict(share < TARGETS['parse_share'])}")
    naive = one_parse_seconds(files[0]) * two["backtests"]
    print(f"  without the cache: one parse per backtest would cost ~{naive:.1f} s of CPU, "
          f"{naive / (naive + two['busy']):.0%} of the sweep's worker time")


if __name__ == "__main__":
    main()
