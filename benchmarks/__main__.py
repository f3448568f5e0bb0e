"""`make bench`: every benchmark in one run, each printing its figures and ratios."""

from benchmarks import bench_backtest, bench_daemon

SUITES = [bench_backtest.main, bench_daemon.main]

for suite in SUITES:
    suite([])
