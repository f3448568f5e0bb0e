"""End to end: the bundled sample reproduces backtrader to the cent, reruns are byte-identical,
no order fills before the next bar, and a failing strategy never stops the run."""

import csv
import datetime
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from engine.backtest.driver import run_backtest
from engine.config import Config, DataConfig, OutputConfig, StrategyConfig
from tests.paths import ROOT as REPO_ROOT

# shared/data/README.md: backtrader 1.9.78.123, default broker, SMA trend (15), cash 100000, commission 0.0002.
REFERENCE_FILLS = [
    ("2020-12-09", "BUY", 4438, 22.259158009, 19.757228649, 1194.099527),
    ("2021-01-14", "SELL", 4438, 30.583963752, 27.146326227, 136898.584334),
    ("2021-06-08", "BUY", 4229, 32.225054490, 27.255951088, 591.572944),
    ("2021-06-11", "SELL", 4229, 26.85, 22.70973, 114117.513214),
    ("2021-07-02", "BUY", 4210, 26.85, 22.6077, 1056.405514),
    ("2021-07-05", "SELL", 4210, 25.0, 21.05, 106285.355514),
]


def sample(tmp_path, name="out"):
    return run_backtest(replace(Config(), output=OutputConfig(dir=str(tmp_path / name))))


def test_bundled_sample_matches_backtrader_to_the_cent(tmp_path):
    result = sample(tmp_path)
    s = result.summary
    assert s["final_value"] == pytest.approx(106285.355514, abs=1e-6)
    assert round(s["final_value"], 2) == 106285.36
    assert s["fills"] == 6
    assert s["orders_rejected"] == 290
    assert s["total_commission"] == pytest.approx(140.526936, abs=1e-6)
    assert s["round_trips"] == 3
    assert s["total_return"] == pytest.approx(0.0629, abs=5e-5)
    with open(result.out_dir / "fills.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(REFERENCE_FILLS)
    for row, (day, side, size, price, commission, cash) in zip(rows, REFERENCE_FILLS, strict=True):
        assert row["ts"] == day and row["side"] == side and float(row["size"]) == size
        assert float(row["price"]) == pytest.approx(price, abs=1e-6)
        assert float(row["commission"]) == pytest.approx(commission, abs=1e-6)
        assert float(row["cash"]) == pytest.approx(cash, abs=1e-6)


def test_rerun_is_byte_identical(tmp_path):
    first, second = sample(tmp_path, "a"), sample(tmp_path, "b")
    assert first.summary["run_id"] == second.summary["run_id"]
    for name in ("summary.json", "fills.csv", "orders.csv", "equity.csv", "trades.csv", "prices.csv", "equity_chart.csv",
                 "report.html"):
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_outputs_are_complete(tmp_path):
    result = sample(tmp_path)
    summary = json.loads((result.out_dir / "summary.json").read_text())
    for key in ("run_id", "bars", "fills", "orders_rejected", "round_trips", "final_value",
                "total_return", "max_drawdown", "sharpe"):
        assert key in summary
    with open(result.out_dir / "equity.csv") as f:
        equity = list(csv.DictReader(f))
    assert len(equity) == summary["bars"]
    assert float(equity[-1]["equity"]) == summary["final_value"]
    with open(result.out_dir / "orders.csv") as f:
        orders = list(csv.DictReader(f))
    rejected = [o for o in orders if o["status"] == "rejected"]
    assert len(rejected) == 290 and all(o["reason"].startswith("margin") for o in rejected)
    assert sum(o["status"] == "filled" for o in orders) == 6
    assert 0 < summary["max_drawdown"] < 1


def write_bars(path: Path, closes: list[float]) -> Path:
    lines = ["date,open,high,low,close,volume"]
    start = datetime.date(2021, 1, 1)
    for i, close in enumerate(closes):
        open_ = close - 0.5
        lines.append(f"{start + datetime.timedelta(days=i)},{open_},{close + 1},{open_ - 1},{close},1000")
    path.write_text("\n".join(lines) + "\n")
    return path


def config_for(tmp_path, data: Path, strategy: str, **params) -> Config:
    return replace(Config(), data=DataConfig(paths=(str(data),)), output=OutputConfig(dir=str(tmp_path / "out")),
                   strategy=StrategyConfig(name=strategy, params=params))


def test_an_order_decided_on_a_bar_fills_at_the_next_open_never_earlier(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0, 11.0, 12.0, 13.0, 14.0])
    result = run_backtest(config_for(tmp_path, data, "tests.engine.example_strategies:BuyOnBar", bar=2))
    with open(result.out_dir / "fills.csv") as f:
        (fill,) = list(csv.DictReader(f))
    # decided on the 2nd bar's close (11.0): fills on the 3rd bar at its open (12.0 - 0.5)
    assert fill["ts"] == "2021-01-03" and float(fill["price"]) == 11.5


def test_a_strategy_that_raises_keeps_running_only_when_asked(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0 + i for i in range(25)])
    config = config_for(tmp_path, data, "tests.engine.example_strategies:RaisesEveryTenth")
    result = run_backtest(replace(config, on_error="continue"))
    assert result.summary["status"] == "ok" and result.summary["bars"] == 25
    assert result.summary["agent_errors"] == 2  # bars 10 and 20
    assert result.summary["first_agent_error"]["message"] == "deliberate failure on bar 10"
    assert result.summary["fills"] == 3  # bought on bars 1, 11 and 21 (after each error), each filled at the next open
    failed = run_backtest(config)  # the default: the first error ends the run
    assert failed.summary["status"] == "failed" and failed.summary["bars"] == 10
    assert failed.summary["error"]["message"] == "deliberate failure on bar 10"


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_backtest_with_no_arguments_prints_the_summary(tmp_path):
    proc = run_cli("backtest", "--out", str(tmp_path / "cli"), cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "106,285.36" in proc.stdout and "290" in proc.stdout
    assert (tmp_path / "cli" / "summary.json").exists()


def test_cli_bad_data_exits_2_naming_file_line_and_field(tmp_path):
    bad = tmp_path / "BAD.csv"
    bad.write_text("date,open,high,low,close,volume\n2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1,2,0.5,abc,10\n")
    proc = run_cli("backtest", "--data", str(bad), "--out", str(tmp_path / "o"), cwd=REPO_ROOT)
    assert proc.returncode == 2
    assert "BAD.csv:3" in proc.stderr and "close" in proc.stderr


def test_cli_without_a_command_prints_help():
    proc = run_cli(cwd=REPO_ROOT)
    assert proc.returncode == 0 and "backtest" in proc.stdout


def test_bad_row_mid_file_leaves_no_half_written_results(tmp_path):
    from engine.data import DataError

    closes = [10.0 + i for i in range(40)]
    data = write_bars(tmp_path / "ABC.csv", closes)
    lines = data.read_text().splitlines()
    lines[30] = lines[30].replace(",1000", ",-5")  # negative volume on line 31
    data.write_text("\n".join(lines) + "\n")
    config = config_for(tmp_path, data, "sma_cross", fast=2, slow=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("earlier complete run\n")
    with pytest.raises(DataError) as err:
        run_backtest(config)
    assert (err.value.line, err.value.field) == (31, "volume")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ABC.csv", "out"]  # no staging left behind
    assert (out / "summary.json").read_text() == "earlier complete run\n"  # the earlier result survives
    skipped = run_backtest(replace(config, data=replace(config.data, skip_bad=True)))
    assert skipped.summary["rows_skipped"] == 1 and skipped.summary["bars"] == 39
    assert "ABC.csv" in str(skipped.skipped[0]) and "31" in str(skipped.skipped[0])


def test_timestamps_use_one_lossless_resolution_per_run(tmp_path):
    # minute bars starting at midnight: the first bar alone looks daily; nothing may print as a bare date
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(6):
        lines.append(f"2021-03-01T00:{i:02d}:00,{10 + i},{11 + i},{9 + i},{10.5 + i},100")
    data = tmp_path / "XYZ.csv"
    data.write_text("\n".join(lines) + "\n")
    result = run_backtest(config_for(tmp_path, data, "tests.engine.example_strategies:BuyOnBar", bar=1))
    fills = (result.out_dir / "fills.csv").read_text().splitlines()
    assert fills[1].startswith("2021-03-01T00:01:00,")
    equity = (result.out_dir / "equity.csv").read_text().splitlines()
    assert equity[1].startswith("2021-03-01T00:00:00,") and equity[2].startswith("2021-03-01T00:01:00,")
    assert result.summary["first_bar"] == "2021-03-01T00:00:00"
