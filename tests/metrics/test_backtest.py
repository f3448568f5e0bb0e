"""Metrics on a real backtest of the bundled sample: exact counts, same results, and a dead server changes nothing."""

import json
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from engine.backtest.driver import run_backtest
from engine.config import Config, MetricsConfig, OutputConfig
from engine.runtime.health import metrics_for
from tests.metrics.statsd_server import free_port
from tests.paths import ROOT as REPO_ROOT

ROOT = REPO_ROOT


def sample_config(out: Path, statsd: str | None = None, prefix: str = "engine") -> Config:
    return replace(Config(), output=OutputConfig(dir=str(out)), metrics=MetricsConfig(statsd=statsd, prefix=prefix))


def backtest(config: Config) -> dict:
    with metrics_for(config) as metrics:
        result = run_backtest(config, monitor=metrics.monitor if metrics else None, on_bus=metrics.attach if metrics else None)
    return result.summary


def counters(lines: list[str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        name, _, rest = line.partition(":")
        value, _, kind = rest.partition("|")
        if kind == "c":
            totals[name] = totals.get(name, 0) + int(value)
    return totals


def test_sample_backtest_counts_match_its_summary_and_results_are_unchanged(tmp_path, udp_receiver):
    summary = backtest(sample_config(tmp_path / "on", udp_receiver.address, prefix="bt"))
    lines = udp_receiver.lines()
    sent = counters(lines)
    assert sent["bt.md.bars"] == summary["bars"] == 608
    assert sent["bt.orders.submitted"] == summary["orders_submitted"]
    assert sent["bt.orders.rejected"] == summary["orders_rejected"] == 290
    assert sent["bt.orders.fills"] == summary["fills"] == 6
    assert sent.get("bt.orders.cancelled", 0) == summary["orders_canceled"]
    assert sent.get("bt.agent.broker.errors", 0) == summary["agent_errors"] == 0
    assert sent["bt.agent.strategy.handled"] >= summary["bars"]
    assert {"bt.agent.broker.handled", "bt.agent.model_state.handled", "bt.agent.recorder.handled"} <= set(sent)
    assert any(line.startswith("bt.account.equity:") for line in lines)
    assert any(line.startswith("bt.orders.latency:") for line in lines)
    assert any(line.startswith("bt.agent.broker.handler.on_bar:") for line in lines)

    off = backtest(sample_config(tmp_path / "off"))
    assert summary == off  # metrics observe: they never change a result (nor the run id)
    for name in ("fills.csv", "orders.csv", "equity.csv"):
        assert (tmp_path / "on" / name).read_bytes() == (tmp_path / "off" / name).read_bytes()


def test_a_statsd_server_that_is_down_changes_nothing(tmp_path):
    nobody = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    assert backtest(sample_config(tmp_path / "down", nobody)) == backtest(sample_config(tmp_path / "off"))


def test_cli_rejects_a_bad_statsd_address_before_running(tmp_path):
    run = subprocess.run([sys.executable, "-m", "engine", "backtest", "--statsd", "localhost", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2
    assert "error: statsd address 'localhost': expected HOST:PORT" in run.stderr
    assert not (tmp_path / "summary.json").exists()


def test_cli_sends_metrics_with_statsd_and_prefix_flags(tmp_path, udp_receiver):
    run = subprocess.run([sys.executable, "-m", "engine", "backtest", "--statsd", udp_receiver.address,
                          "--statsd-prefix", "cli", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert counters(udp_receiver.lines())["cli.md.bars"] == summary["bars"]
