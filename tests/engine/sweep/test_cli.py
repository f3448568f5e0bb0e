"""`python -m engine sweep`: flags and TOML, exit codes, the report, the progress bar's manners,
and which executor an address selects."""

import io
import json
import subprocess
import sys

import pytest

from engine.cli.main import main
from engine.config import Config, SweepConfig
from engine.sweep.progress import Progress
from engine.sweep.runner import make_executor, plan_sweep


def sweep_args(tmp_path, files, *extra):
    return ["sweep", "--data", *map(str, files), "--strategy", "sma_cross", "--param", "size=10",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet", *extra]


def test_cli_sweep_prints_the_ranking_and_writes_the_tables(tmp_path, data_files, capsys):
    code = main(sweep_args(tmp_path, data_files[:2], "--grid", "fast=5,10", "--grid", "slow=20", "--workers", "1"))
    out = capsys.readouterr().out
    assert code == 0
    assert "sweep: 4 of 4 backtests (2 instrument file(s) x 2 parameter set(s)) of sma_cross" in out
    assert "best per instrument:" in out and "AAA_1500_1" in out and "BBB_1500_2" in out
    assert (tmp_path / "out" / "sweep.csv").exists() and (tmp_path / "out" / "sweep.parquet").exists()


def test_failures_exit_1_after_every_row_and_fail_fast_stops_early(tmp_path, data_files, capsys):
    args = sweep_args(tmp_path, data_files[:1], "--grid", "fast=5,50", "--grid", "slow=20", "--workers", "0")
    assert main(args) == 1  # as a failed backtest does
    captured = capsys.readouterr()
    assert "error: 1 of 2 backtests failed" in captured.err and "first failure: cell 1" in captured.out
    assert (tmp_path / "out" / "sweep.csv").read_text().count("\n") == 3  # both rows written
    assert main([*args, "--fail-fast", "--force"]) == 1
    assert "--fail-fast: stopped after the first failure" in capsys.readouterr().out


def test_bad_settings_exit_2_before_running_anything(tmp_path, data_files, capsys):
    assert main(sweep_args(tmp_path, data_files[:1], "--grid", "fats=5,10")) == 2
    assert "has no parameter(s) fats" in capsys.readouterr().err
    assert main(sweep_args(tmp_path, [tmp_path / "nothing-*.csv"], "--grid", "fast=5")) == 2
    assert "matches no file" in capsys.readouterr().err


def test_the_whole_sweep_in_toml(tmp_path, data_files, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(
        f'[data]\npaths = ["{data_files[0].parent}/*.csv"]\nformat = "ohlcv"\n'
        '[strategy]\nname = "sma_cross"\nparams = { size = 10 }\n'
        f'[output]\ndir = "{tmp_path / "toml-out"}"\n'
        f'[sweep]\nworkers = 0\nquiet = true\ncache_dir = "{tmp_path / "cache"}"\nmetric = "sharpe"\ntop = 2\n'
        '[sweep.grid]\nfast = [5, 10]\nslow = [20]\n')
    assert main(["sweep", "--config", str(config)]) == 0
    assert "sweep: 6 of 6 backtests (3 instrument file(s) x 2 parameter set(s))" in capsys.readouterr().out
    assert (tmp_path / "toml-out" / "sweep.csv").exists()


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, data_files):
    args = [a for a in sweep_args(tmp_path, data_files[:1], "--grid", "fast=5,10", "--workers", "0") if a != "--quiet"]
    done = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "bt/s" not in done.stderr and "sweep: 2 of 2" in done.stdout


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_bar_shows_count_rate_eta_and_failures_on_a_terminal():
    stream = Terminal()
    with Progress(3, stream=stream) as progress:
        for error in (None, "boom", None):
            progress.update({"error": error})
    text = stream.getvalue()
    assert "3/3" in text and "bt/s" in text and "failed=1" in text and "<" in text  # elapsed<remaining
    quiet = Terminal()
    with Progress(3, quiet=True, stream=quiet) as progress:
        progress.update({"error": None})
    assert quiet.getvalue() == ""


def test_an_address_in_the_environment_selects_dask(tmp_path, data_files, monkeypatch):
    config = Config(sweep=SweepConfig(grid={"fast": [5]}, cache_dir=str(tmp_path / "c")))
    config = config.__class__(**{**config.__dict__, "data": config.data.__class__(paths=(str(data_files[0]),))})
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert make_executor(plan_sweep(config))[1].startswith("local (")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    assert make_executor(plan_sweep(config))[1] == "dask tcp://127.0.0.1:1"


@pytest.mark.parametrize("grid", [{"cell": [1]}, {"fills": [1, 2]}])
def test_a_grid_key_may_not_shadow_a_result_column(tmp_path, data_files, grid):
    config = Config(sweep=SweepConfig(grid=grid))
    with pytest.raises(ValueError, match="clash with result columns"):
        plan_sweep(config.__class__(**{**config.__dict__, "data": config.data.__class__(paths=(str(data_files[0]),))}))


@pytest.mark.parametrize("flag", [["--workers", "-1"], ["--top", "0"], ["--retries", "-2"]])
def test_out_of_range_numbers_are_refused(tmp_path, data_files, flag, capsys):
    assert main(sweep_args(tmp_path, data_files[:1], "--grid", "fast=5", *flag)) == 2
    assert "expected an integer >=" in capsys.readouterr().err


def test_where_skips_impossible_cells_instead_of_failing_them(tmp_path, data_files, capsys):
    args = sweep_args(tmp_path, data_files[:1], "--grid", "fast=5,50", "--grid", "slow=20,60", "--workers", "0",
                      "--where", "fast < slow", "--no-report")
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "sweep: 3 of 3 backtests" in captured.out and "; 0 failed" in captured.out
    assert "1 parameter set(s) skipped by --where 'fast < slow'" in captured.out and "failed" not in captured.err
    manifest = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert manifest["skipped_sets"] == [{"fast": 50, "slow": 20}] and manifest["where"] == "fast < slow"
    assert not (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize("where", ["fats < slow", "__import__('os')", "fast.real < 3", "fast <"])
def test_a_bad_where_exits_2_before_running_anything(tmp_path, data_files, where, capsys):
    assert main(sweep_args(tmp_path, data_files[:1], "--grid", "fast=5,10", "--grid", "slow=20", "--where", where)) == 2
    assert "--where" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
