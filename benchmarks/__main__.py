"""`make bench`: every benchmark in one run, each printing its figures and ratios."""

from benchmarks import (
    bench_backtest,
    bench_broker,
    bench_daemon,
    bench_host,
    bench_hub,
    bench_metrics,
    bench_sweep,
)

SUITES = [bench_backtest.main, bench_metrics.main, bench_hub.main, bench_broker.main, bench_host.main, bench_daemon.main,
          bench_sweep.main]

for suite in SUITES:
    suite([])
