"""`make bench`: every benchmark in one run, each printing its figures and ratios."""

from benchmarks import bench_backtest

SUITES = [bench_backtest.main]

for suite in SUITES:
    suite([])
