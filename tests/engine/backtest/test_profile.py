"""``backtest --profile FILE``: a speedscope profile of the whole run, sampled from outside the process."""

from __future__ import annotations

import json

from benchmarks.datagen import ohlcv_file
from engine.cli.main import main as cli_main


def test_backtest_profile_writes_speedscope_json_of_the_run(tmp_path):
    data = ohlcv_file(300_000, directory=tmp_path)  # a run long enough to be sampled many times
    path = tmp_path / "run.speedscope.json"
    argv = ["backtest", "--data", str(data), "--strategy", "sma_cross", "--profile", str(path), "--out", str(tmp_path / "out")]
    assert cli_main(argv) == 0
    profile = json.loads(path.read_text())
    assert "speedscope" in profile["$schema"] and profile["profiles"]
    names = {frame["name"] for frame in profile["shared"]["frames"]}
    assert "run_backtest" in names  # the engine's own frames, not only the profiler's
    assert (tmp_path / "out" / "summary.json").exists()
