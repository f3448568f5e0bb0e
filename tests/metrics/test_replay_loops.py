"""Metrics on the daemon's replays: loop time is not real time, and the metrics must not care.

On the virtual-time loop any periodic loop timer would fire back to back
between two events (its clock jumps to the next timer when idle): flushes run
on real time instead, and loop lag, which cannot exist there, is not measured.
"""

import asyncio
from dataclasses import replace

from benchmarks.datagen import ohlcv_file
from engine.config import Config, DaemonConfig, DataConfig, MetricsConfig, OutputConfig, StrategyConfig
from engine.daemon.daemon import Daemon
from engine.daemon.run import loop_for
from engine.runtime.health import loop_time_dilation, metrics_for
from engine.runtime.loops import VirtualTimeLoop


def replay_config(tmp_path, statsd, dilation, bars=300):
    return replace(
        Config(),
        data=DataConfig(format="ohlcv"),
        strategy=StrategyConfig(name="sma_cross", params={"fast": 10, "slow": 30, "size": 100}),
        output=OutputConfig(dir=str(tmp_path / "out")),
        metrics=MetricsConfig(statsd=statsd, prefix="v"),
        daemon=DaemonConfig(replay=(str(ohlcv_file(bars, directory=tmp_path)),), time_dilation=dilation),
    )


def run_daemon_with_metrics(config, **tuning):
    with metrics_for(config, **tuning) as metrics:
        daemon = Daemon(config, out_dir=config.output.dir, monitor=metrics.monitor, on_bus=metrics.attach)
        with asyncio.Runner(loop_factory=loop_for(config)) as runner:
            loop_type = type(runner.get_loop())
            return runner.run(daemon.run()), loop_type


def test_virtual_time_replay_sends_counts_without_a_flood_of_timers(tmp_path, udp_receiver):
    config = replay_config(tmp_path, udp_receiver.address, "virtual")
    result, loop_type = run_daemon_with_metrics(config, loop_lag_interval_s=0.01, flush_interval_s=0.05)
    assert loop_type is VirtualTimeLoop and result.reason == "end of replay"
    lines = udp_receiver.lines()
    assert sum(int(line.split(":")[1].split("|")[0]) for line in lines if line.startswith("v.md.bars:")) == 300
    assert not [line for line in lines if line.startswith("v.loop.lag:")]
    assert len(lines) < 2_000  # 300 minute bars = 18,000 loop seconds: a loop-time flush timer would fire 360,000 times


def test_engine_loops_report_their_time_dilation():
    for factory, expected in ((loop_for(replace(Config(), daemon=DaemonConfig(replay=("x",), time_dilation=40.0))), 40.0),
                              (loop_for(replace(Config(), daemon=DaemonConfig(replay=("x",), time_dilation="virtual"))), None),
                              (asyncio.new_event_loop, 1.0)):
        loop = factory()
        try:
            assert loop_time_dilation(loop) == expected
        finally:
            loop.close()


def test_run_daemon_reports_the_ingress_inbox_without_counting_bars_twice(tmp_path, udp_receiver):
    from engine.daemon.run import run_daemon

    result = run_daemon(replay_config(tmp_path, udp_receiver.address, "virtual"))
    assert result.reason == "end of replay"
    lines = udp_receiver.lines()
    assert sum(int(line.split(":")[1].split("|")[0]) for line in lines if line.startswith("v.md.bars:")) == 300
    assert [line for line in lines if line.startswith("v.agent.pipeline.inbox.depth:")]
