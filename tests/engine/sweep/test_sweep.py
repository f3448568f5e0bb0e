"""A whole sweep with real backtests: every cell equals `run_backtest` on the same settings, failures
are rows, a killed worker changes nothing, each file is parsed once, outputs agree, and the Dask
cluster gives the same rows as local processes."""

import csv
import json
import random
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from engine.backtest.driver import run_backtest
from engine.backtest.outcome import error_text
from engine.config import Config, DataConfig, OutputConfig, StrategyConfig, SweepConfig
from engine.sweep.runner import run_sweep
from engine.sweep.tasks import Cell, cell_config

FIGURES_SKIPPED = {"data_files"}  # the path as given vs as the stream resolved it


def sweep_config(tmp_path, files, grid, strategy="sma_cross", **sweep):
    return Config(
        data=DataConfig(paths=tuple(str(f) for f in files), format="ohlcv"),
        strategy=StrategyConfig(name=strategy, params={"size": 10}),
        output=OutputConfig(dir=str(tmp_path / "sweep")),
        sweep=SweepConfig(grid=grid, quiet=True, **{"workers": 2, "cache_dir": str(tmp_path / "cache"), **sweep}),
    )


def assert_cell_equals_backtest(config, row, tmp_path):
    cell = Cell(row["cell"], row["data"], row["grid"])
    plain = run_backtest(cell_config(config, cell, str(tmp_path / f"plain-{row['cell']}")))
    assert row["error"] is None
    for key, value in plain.summary.items():
        if key not in FIGURES_SKIPPED:
            assert row[key] == value, (key, row["cell"])


def test_cells_equal_plain_backtests_and_files_are_parsed_once(tmp_path, data_files):
    config = sweep_config(tmp_path, data_files, {"fast": [5, 10], "slow": [20, 40]})
    result = run_sweep(config)
    rows = result.rows
    assert [r["cell"] for r in rows] == list(range(12)) and not result.failed
    assert {r["instrument"] for r in rows} == {"AAA_1500_1", "BBB_1500_2", "CCC_1500_3"}
    for row in random.Random(5).sample(rows, 3):
        assert_cell_equals_backtest(config, row, tmp_path)
    parsed = [r["data"] for r in rows if r["data_source"] == "parsed"]
    assert sorted(parsed) == sorted(str(f) for f in data_files)  # a cold cache: each file parsed exactly once
    assert len({r["worker"] for r in rows}) == 2


def test_outputs_csv_parquet_heatmap(tmp_path, data_files):
    result = run_sweep(sweep_config(tmp_path, data_files[:2], {"fast": [5, 10], "slow": [20, 40]}))
    out = tmp_path / "sweep"
    assert sorted(p.name for p in result.outputs) == ["heatmap-AAA_1500_1.png", "heatmap-BBB_1500_2.png", "heatmap.png",
                                                      "report.html", "sweep.csv", "sweep.json", "sweep.parquet"]
    assert (out / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "sweep.csv") as handle:
        table = list(csv.DictReader(handle))
    parquet = pq.read_table(out / "sweep.parquet").to_pylist()
    assert len(table) == len(parquet) == 8
    for text, typed, row in zip(table, parquet, result.rows, strict=True):
        assert int(text["fast"]) == typed["fast"] == row["grid"]["fast"]
        assert float(text["final_value"]) == typed["final_value"] == row["final_value"]
        assert json.loads(text["params"]) == json.loads(typed["params"]) == row["params"]
        assert text["run_id"] == typed["run_id"] == row["run_id"] and text["error"] == "" and typed["error"] is None
    one_key = run_sweep(replace(sweep_config(tmp_path, data_files[:1], {"fast": [5, 10]}),
                                output=OutputConfig(dir=str(tmp_path / "one"))))
    assert [p.name for p in one_key.outputs] == ["sweep.csv", "sweep.parquet", "sweep.json", "report.html"]


def test_failures_are_rows_and_the_batch_completes(tmp_path, data_files):
    bad = tmp_path / "data" / "BAD.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2020-01-01T00:00:00,1,2,0.5,1,10\n2020-01-01T00:01:00,1,2,0.5,oops,10\n")
    missing = tmp_path / "data" / "MISSING.csv"
    config = sweep_config(tmp_path, [data_files[0], bad, missing], {"fast": [5, 50], "slow": [20]})
    result = run_sweep(config)
    rows = {(r["instrument"], r["grid"]["fast"]): r for r in result.rows}
    assert len(rows) == 6
    assert rows[("AAA_1500_1", 5)]["error"] is None
    assert "fast < slow" in rows[("AAA_1500_1", 50)]["error"]  # the strategy refuses its parameters
    assert "BAD.csv:3" in rows[("BAD", 5)]["error"] and "'close'" in rows[("BAD", 5)]["error"]
    assert rows[("MISSING", 5)]["error"] == f"DataError: {missing}: no such file or directory"
    assert len(result.failed) == 5 and not result.stopped


def test_a_strategy_raising_in_on_bar_fails_its_row_as_backtest_fails_its_run(tmp_path, data_files):
    config = sweep_config(tmp_path, data_files[:1], {"fail": [False, True]}, strategy="tests.engine.sweep.support:RaiseOnBar",
                          workers=0)
    ok, failed = run_sweep(config).rows
    assert ok["error"] is None and ok["agent_errors"] == 0 and ok["status"] == "ok"
    assert failed["status"] == "failed" and failed["agent_errors"] == 1 and failed["bars"] == 1
    assert failed["error"].startswith("strategy.HostContext.on_state on model.state: ZeroDivisionError: strategy blew up")
    plain = run_backtest(cell_config(config, Cell(1, failed["data"], failed["grid"]), str(tmp_path / "plain")))
    assert plain.summary["status"] == "failed" and error_text(plain.summary) == failed["error"]
    going_on = run_sweep(replace(config, on_error="continue", output=OutputConfig(dir=str(tmp_path / "on")))).rows[1]
    assert going_on["error"] is None and going_on["status"] == "ok" and going_on["agent_errors"] == 1500
    assert going_on["bars"] == 1500


def test_fail_fast_stops_at_the_first_failure(tmp_path, data_files):
    config = sweep_config(tmp_path, data_files, {"fast": [50, 5], "slow": [20]}, fail_fast=True, workers=1)
    result = run_sweep(config)
    assert result.stopped and len(result.failed) == 1 and len(result.rows) < 6


def test_a_worker_killed_mid_sweep_is_replaced_and_figures_are_unchanged(tmp_path, data_files):
    marker = tmp_path / "killed-once"
    config = sweep_config(tmp_path, data_files, {"fast": [5, 10], "marker": [str(marker)]},
                          strategy="tests.engine.sweep.support:KillOnce")
    result = run_sweep(config)
    assert marker.exists(), "no worker was killed"
    assert [r["cell"] for r in result.rows] == list(range(6)) and not result.failed
    assert_cell_equals_backtest(config, result.rows[0], tmp_path)
    plain = sweep_config(tmp_path, data_files, {"fast": [5, 10]}, workers=0)
    expected = run_sweep(replace(plain, output=OutputConfig(dir=str(tmp_path / "plain")))).rows
    assert [r["final_value"] for r in result.rows] == [r["final_value"] for r in expected]


def test_the_same_rows_on_a_dask_cluster(tmp_path, data_files, dask_cluster):
    grid = {"fast": [5, 10], "slow": [20, 40]}
    local = run_sweep(sweep_config(tmp_path, data_files[:2], grid, workers=0)).rows
    config = sweep_config(tmp_path, data_files[:2], grid, dask=dask_cluster.address, cache_dir=str(tmp_path / "dask-cache"))
    remote = run_sweep(replace(config, output=OutputConfig(dir=str(tmp_path / "dask")))).rows
    assert len(remote) == 8 and not [r for r in remote if r["error"]]
    for a, b in zip(local, remote, strict=True):
        assert {k: v for k, v in a.items() if k not in ("seconds", "load_seconds", "data_source", "worker")} == \
               {k: v for k, v in b.items() if k not in ("seconds", "load_seconds", "data_source", "worker")}
    parsed = {}
    for row in remote:
        if row["data_source"] == "parsed":
            parsed.setdefault((row["worker"], row["data"]), 0)
            parsed[(row["worker"], row["data"])] += 1
    assert parsed and max(parsed.values()) == 1  # no worker parsed a file twice


@pytest.mark.parametrize("metric", ["total_return", "max_drawdown"])
def test_ranking_is_printed_best_first(tmp_path, data_files, metric, capsys):
    from engine.cli.sweep import print_report

    result = run_sweep(sweep_config(tmp_path, data_files[:2], {"fast": [5, 10]}, workers=0, metric=metric, top=3))
    print_report(result)
    text = capsys.readouterr().out
    assert f"best 3 of 4 by {metric}:" in text and "best per instrument:" in text
    values = [r[metric] for r in result.rows]
    best = max(values) if metric == "total_return" else min(values)
    first_ranked = text.split(f"by {metric}:")[1].splitlines()[2]
    assert first_ranked.split()[0] == "1" and f"{best:.2%}" in first_ranked


def test_kept_runs_are_what_backtest_leaves(tmp_path, data_files):
    config = sweep_config(tmp_path, data_files[:1], {"fast": [5]}, workers=0, keep_runs=True)
    row = run_sweep(config).rows[0]
    kept = tmp_path / "sweep" / "runs" / row["run_id"]
    plain = run_backtest(cell_config(config, Cell(0, row["data"], row["grid"]), str(tmp_path / "plain")))
    for name in ("fills.csv", "orders.csv", "equity.csv"):
        assert (kept / name).read_bytes() == (plain.out_dir / name).read_bytes(), name
    summary = json.loads((kept / "summary.json").read_text())
    assert {k: v for k, v in summary.items() if k != "data_files"} == \
           {k: v for k, v in plain.summary.items() if k != "data_files"}


def test_no_data_sweeps_the_bundled_a_share_sample_like_backtest_does(tmp_path):
    config = Config(output=OutputConfig(dir=str(tmp_path / "sample")),
                    sweep=SweepConfig(grid={"period": [15, 20]}, workers=0, quiet=True, cache_dir=str(tmp_path / "c")))
    result = run_sweep(config)
    row = result.rows[0]
    assert row["strategy"] == "sma_trend" and round(row["final_value"], 2) == 106285.36  # the reference run
    assert_cell_equals_backtest(result.plan.config, row, tmp_path)
