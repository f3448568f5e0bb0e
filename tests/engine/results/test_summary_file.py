"""summary.json is strict JSON with the reason for every null, and records what reproduces the run."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import pytest

from engine.backtest.driver import run_backtest
from engine.config import BrokerSettings, Config, DataConfig, OutputConfig, StrategyConfig
from tests.paths import SAMPLE_600559


def strict_load(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_a_run_without_trades_has_nulls_with_reasons_and_no_nan(tmp_path):
    config = replace(Config(), data=DataConfig(paths=(str(SAMPLE_600559),), format="ashare"),
                     strategy=StrategyConfig("sma_cross", {"fast": 5, "slow": 600}),
                     output=OutputConfig(dir=str(tmp_path / "o"), report=False))
    result = run_backtest(config)
    summary = strict_load((result.out_dir / "summary.json").read_text())
    assert summary["round_trips"] == 0 and summary["trades"]["all"]["count"] == 0
    assert summary["sharpe"] is None and summary["null_reasons"]["sharpe"] == "no variance in the returns"
    assert summary["trades"]["all"]["win_rate"] is None and summary["null_reasons"]["trades.all.win_rate"] == "no closed trades"
    assert summary["max_drawdown_duration_days"] is None and "no drawdown" in summary["null_reasons"]["max_drawdown_duration_days"]
    for key, value in summary["null_reasons"].items():
        assert value, key


def test_the_summary_records_what_reproduces_the_run(tmp_path):
    result = run_backtest(replace(Config(), broker=BrokerSettings(cash=50_000.0, commission=0.001, slippage_perc=0.001),
                                  data=DataConfig(paths=(str(SAMPLE_600559),), format="ashare"),
                                  strategy=StrategyConfig("sma_trend", {"period": 20}),
                                  output=OutputConfig(dir=str(tmp_path / "o"), report=False)))
    s = strict_load((result.out_dir / "summary.json").read_text())
    assert s["broker"]["cash"] == 50_000.0 and s["broker"]["slippage_perc"] == 0.001 and "allow_short" in s["broker"]
    assert s["data_files"] == [str(SAMPLE_600559)] and len(s["data_sha256"][0]) == 64 and s["data_format"] == "ashare"
    assert s["strategy"] == "sma_trend" and s["params"] == {"period": 20}
    assert len(s["strategy_source_sha256"]) == 64 and "sma_trend.py" in s["strategy_source"]
    assert s["engine_version"]


def test_editing_the_strategy_source_gives_a_new_run_id(tmp_path, monkeypatch):
    package = tmp_path / "mystrats"
    package.mkdir()
    source = "from strategies.sma_trend import SmaTrend\n\n\nclass Mine(SmaTrend):\n    pass\n"
    (package / "mine.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = replace(Config(), data=DataConfig(paths=(str(SAMPLE_600559),), format="ashare"),
                     strategy=StrategyConfig("mine:Mine"), output=OutputConfig(report=False))
    monkeypatch.syspath_prepend(str(package))
    from engine.backtest.run_id import make_run_id

    first = make_run_id(config, [str(SAMPLE_600559)])
    assert make_run_id(config, [str(SAMPLE_600559)]) == first
    (package / "mine.py").write_text(source + "# a changed line\n")
    assert make_run_id(config, [str(SAMPLE_600559)]) != first
    sys.modules.pop("mine", None)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_any_non_finite_number_left_becomes_null_with_a_reason(tmp_path, value):
    from engine.results import strict_json

    strict_json.write(tmp_path / "s.json", {"a": {"b": [1.0, value]}, "null_reasons": {"c": "why"}})
    written = strict_load((tmp_path / "s.json").read_text())
    assert written["a"]["b"] == [1.0, None] and "not a finite number" in written["null_reasons"]["a.b[1]"]
    assert written["null_reasons"]["c"] == "why"


def test_the_down_sampled_curve_keeps_the_deepest_drawdown_and_the_last_equity(tmp_path):
    import csv

    config = replace(Config(), output=OutputConfig(dir=str(tmp_path / "o"), report=False))
    result = run_backtest(config)
    with open(result.out_dir / "equity_chart.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert 0 < len(rows) <= 4001
    assert min(float(r["drawdown"]) for r in rows) == -result.summary["max_drawdown"]
    assert float(rows[-1]["equity"]) == result.summary["final_value"]
