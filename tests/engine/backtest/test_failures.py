"""A strategy error fails the run: non-zero exit, one traceback at the strategy's line, summary.json marked
failed; ``--on-error continue`` is the opt-in to go on; a strategy that never reached on_bar says why;
summary.json is strict JSON."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from engine.backtest.driver import run_backtest
from engine.config import Config, DataConfig, OutputConfig, StrategyConfig
from engine.results import strict_json
from tests.engine.backtest.test_backtest import write_bars
from tests.paths import ROOT

STRATEGIES = "tests.engine.example_strategies"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_strategy_error_stops_the_run_with_exit_1_one_traceback_and_a_failed_summary(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0 + i for i in range(30)])
    out = tmp_path / "out"
    proc = run_cli("backtest", "--data", str(data), "--strategy", f"{STRATEGIES}:RaisesOnEveryBar", "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.count("Traceback") == 1
    assert 'example_strategies.py", line' in proc.stderr and "return 1 / 0" in proc.stderr  # the strategy's own line
    assert ("error: the run failed: strategy.HostContext.on_state on model.state: ZeroDivisionError: division by zero "
            "(bar 2021-01-01)") in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["bars"] == 1 and summary["agent_errors"] == 1
    assert summary["error"] == {"agent": "strategy", "handler": "HostContext.on_state", "key": "model.state",
                                "type": "ZeroDivisionError", "message": "division by zero", "at": "2021-01-01"}
    assert sorted(p.name for p in out.iterdir()) == ["equity.csv", "equity_chart.csv", "fills.csv", "orders.csv", "prices.csv", "report.html",
                                                   "skipped.csv", "summary.json", "trades.csv"]


def test_on_error_continue_is_the_opt_in_with_the_count_in_the_summary(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0 + i for i in range(30)])
    config = tmp_path / "run.toml"
    config.write_text(f'on_error = "continue"\n[data]\npaths = ["{data}"]\n[strategy]\nname = "{STRATEGIES}:RaisesOnEveryBar"\n')
    proc = run_cli("backtest", "--config", str(config), "--out", str(tmp_path / "toml"))
    assert proc.returncode == 0 and proc.stderr.count("Traceback") == 30
    assert "--on-error continue: 30 agent error(s); the first: strategy.HostContext.on_state" in proc.stdout
    summary = json.loads((tmp_path / "toml" / "summary.json").read_text())
    assert (summary["status"], summary["bars"], summary["agent_errors"], summary["error"]) == ("ok", 30, 30, None)
    flag = run_cli("backtest", "--data", str(data), "--strategy", f"{STRATEGIES}:RaisesOnEveryBar",
                   "--on-error", "continue", "--out", str(tmp_path / "flag"))
    assert flag.returncode == 0
    assert json.loads((tmp_path / "flag" / "summary.json").read_text())["agent_errors"] == 30


def test_a_strategy_that_never_reaches_on_bar_fails_and_says_why(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0 + i for i in range(30)])
    for on_error in ("fail", "continue"):
        config = replace(Config(), data=DataConfig(paths=(str(data),)), on_error=on_error,
                         strategy=StrategyConfig(name=f"{STRATEGIES}:BadIndicatorSource"),
                         output=OutputConfig(dir=str(tmp_path / on_error)))
        summary = run_backtest(config).summary
        assert summary["status"] == "failed", on_error
        assert summary["error"]["agent"] == "model_state" and summary["error"]["at"] is None
        assert summary["error"]["message"].startswith("bad source 'adj_close' for sma indicator 'sma'")
        assert summary["error"]["message"].endswith("; the strategy never reached on_bar")
        assert summary["fills"] == 0
    assert run_backtest(replace(config, on_error="fail")).summary["bars"] == 0  # failed before the first bar
    proc = run_cli("backtest", "--data", str(data), "--strategy", f"{STRATEGIES}:BadIndicatorSource",
                   "--out", str(tmp_path / "cli"))
    assert proc.returncode == 1 and "the strategy never reached on_bar" in proc.stderr


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the overflowed equity's Sharpe
def test_summary_json_is_strict_json_with_a_reason_for_each_null(tmp_path):
    text = strict_json.dumps({"final_value": float("inf"), "nested": {"x": float("nan")}, "ok": 1.5})
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"final_value": None, "nested": {"x": None}, "ok": 1.5,
                                "null_reasons": {"final_value": "not a finite number: inf",
                                                 "nested.x": "not a finite number: nan"}}
    # a run whose figures overflow: a short sale of 1e300 shares makes cash infinite, equity inf - inf
    data = tmp_path / "HUGE.csv"
    data.write_text("date,open,high,low,close,volume\n" + "".join(
        f"2021-01-0{d},1e12,1e12,1e12,1e12,1\n" for d in (1, 2, 3)))
    config = replace(Config(), data=DataConfig(paths=(str(data),)), output=OutputConfig(dir=str(tmp_path / "o")),
                     strategy=StrategyConfig(name=f"{STRATEGIES}:SellOnBar", params={"bar": 1, "size": 1e300}))
    assert run_backtest(config).summary["fills"] == 1
    written = (tmp_path / "o" / "summary.json").read_text()

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    summary = json.loads(written, parse_constant=refuse)
    assert summary["final_value"] is None and summary["null_reasons"]["final_value"] == "not a finite number: nan"
