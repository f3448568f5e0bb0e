"""Against the real StatsD daemon (npm statsd, tools/statsd): a backtest and an accelerated replay.

The fixture starts the daemon on loopback ports and stops it by PID; without
node or the installed package these tests are skipped and say why. The
daemon's admin port is read back: counters, timers (sample counts) and gauges.
"""

import asyncio
from dataclasses import replace

from benchmarks.datagen import ohlcv_file
from engine.backtest.driver import run_backtest
from engine.config import Config, DaemonConfig, DataConfig, MetricsConfig, OutputConfig, StrategyConfig
from engine.daemon.daemon import Daemon
from engine.daemon.run import loop_for
from engine.runtime.health import metrics_for
from engine.runtime.loops import DilatedLoop
from tests.metrics import statsd_server


def test_sample_backtest_to_a_real_statsd(tmp_path, statsd_daemon):
    config = replace(Config(), output=OutputConfig(dir=str(tmp_path / "out")),
                     metrics=MetricsConfig(statsd=statsd_daemon.address, prefix="mx"))
    with metrics_for(config) as metrics:
        summary = run_backtest(config, monitor=metrics.monitor, on_bus=metrics.attach).summary
    counters = statsd_daemon.wait_for_counter("mx.md.bars", summary["bars"])
    assert counters["mx.md.bars"] == summary["bars"] == 608
    assert counters["mx.orders.submitted"] == summary["orders_submitted"]
    assert counters["mx.orders.rejected"] == summary["orders_rejected"] == 290
    assert counters["mx.orders.fills"] == summary["fills"] == 6
    assert counters["mx.orders.filled"] == 6  # every sample order fills completely
    assert counters.get("mx.orders.cancelled", 0) == summary["orders_canceled"]
    assert counters.get("mx.agent.broker.errors", 0) == summary["agent_errors"] == 0
    for agent in ("broker", "model_state", "strategy", "recorder", "metrics"):
        assert counters[f"mx.agent.{agent}.handled"] > 0
    assert counters["statsd.bad_lines_seen"] == 0  # every line we sent parsed
    timers = statsd_daemon.timer_counts()
    assert 0 < timers["mx.orders.latency"] <= summary["orders_submitted"]
    assert timers["mx.agent.broker.handler.on_bar"] == summary["bars"] // 64  # sampled: one call in 64
    gauges = statsd_daemon.gauges()
    assert gauges["mx.account.equity"] > 0 and "mx.account.cash" in gauges


def test_accelerated_replay_to_a_real_statsd(tmp_path, statsd_daemon):
    """The daemon replaying minute bars as live on engine.runtime.loops' dilated loop, 30,000x: loop lag, flushes, counts."""
    bars = 500
    config = replace(
        Config(),
        data=DataConfig(format="ohlcv"),
        strategy=StrategyConfig(name="sma_cross", params={"fast": 10, "slow": 30, "size": 100}),
        output=OutputConfig(dir=str(tmp_path / "out")),
        metrics=MetricsConfig(statsd=statsd_daemon.address, prefix="replay"),
        daemon=DaemonConfig(replay=(str(ohlcv_file(bars, directory=tmp_path)),), time_dilation=30_000.0),
    )
    factory = loop_for(config)
    with metrics_for(config, loop_lag_interval_s=0.01, flush_interval_s=0.05) as metrics:
        daemon = Daemon(config, out_dir=config.output.dir, monitor=metrics.monitor, on_bus=metrics.attach)
        with asyncio.Runner(loop_factory=factory) as runner:
            assert isinstance(runner.get_loop(), DilatedLoop)
            result = runner.run(daemon.run())
    assert result.reason == "end of replay"
    counters = statsd_daemon.wait_for_counter("replay.md.bars", bars)
    assert counters["replay.md.bars"] == bars
    assert counters["replay.orders.fills"] == result.status["fills"] > 0
    assert counters["replay.orders.submitted"] >= result.status["fills"]
    assert counters["statsd.bad_lines_seen"] == 0
    timers = statsd_daemon.timer_counts()
    assert timers["replay.loop.lag"] >= 1
    assert timers["replay.orders.latency"] >= 1


def test_without_node_or_the_package_the_daemon_tests_skip_and_say_why(monkeypatch, tmp_path):
    monkeypatch.setattr(statsd_server.shutil, "which", lambda name: None)
    assert "node is not installed" in statsd_server.why_no_daemon()
    monkeypatch.setattr(statsd_server.shutil, "which", lambda name: "/usr/bin/node")
    monkeypatch.setattr(statsd_server, "STATS_JS", tmp_path / "missing" / "stats.js")
    monkeypatch.setattr(statsd_server, "ROOT", tmp_path)
    assert "run `make statsd-server`" in statsd_server.why_no_daemon()


def test_reads_the_admin_answers_node_prints():
    counters = "{\n  'statsd.bad_lines_seen': 0,\n  'mx.md.bars': 608,\n  foo: 2\n}\nEND\n\n"
    assert statsd_server.parse_numbers(counters) == {"statsd.bad_lines_seen": 0, "mx.md.bars": 608, "foo": 2}
    assert statsd_server.parse_numbers("{ 'g.z': -5, 'g.w': 3.25, 'g.e': 1.5e-7 }\nEND") == {"g.z": -5, "g.w": 3.25, "g.e": 1.5e-7}
    timers = "{\n  't.x': [ 1.5 ],\n  't.y': [\n     0,  1,  2,\n    ... 147 more items\n  ]\n}\nEND\n"
    assert statsd_server.parse_timer_counts(timers) == {"t.x": 1, "t.y": 150}
