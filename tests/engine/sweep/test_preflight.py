"""Sweeps check before they spend: an unwritable --out fails before any backtest, a second sweep into the
same --out is refused (while one runs: always; after one finished: unless --force), and an unusable cache
folder means running uncached, said out loud."""

import subprocess
import sys

from engine.cli.main import main
from tests.engine.sweep.test_cli import sweep_args
from tests.paths import ROOT


def entries(folder):
    return list(folder.rglob("*.npz")) if folder.exists() else []


def test_an_unwritable_out_fails_before_any_backtest(tmp_path, data_files, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    args = sweep_args(tmp_path, data_files[:1], "--grid", "fast=5,10", "--workers", "0")
    args[args.index("--out") + 1] = str(blocker / "out")
    assert main(args) == 2
    assert f"error: --out {blocker / 'out'}: cannot write there (Not a directory)" in capsys.readouterr().err
    assert entries(tmp_path / "cache") == []  # nothing was parsed, so nothing ran


def test_a_second_sweep_into_the_same_out_needs_force(tmp_path, data_files, capsys):
    args = sweep_args(tmp_path, data_files[:1], "--grid", "fast=5", "--workers", "0")
    assert main(args) == 0
    before = (tmp_path / "out" / "sweep.csv").read_bytes()
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path / 'out'} already holds a sweep's results (sweep.csv, sweep.parquet); --force" in err
    assert (tmp_path / "out" / "sweep.csv").read_bytes() == before
    assert main([*args, "--force"]) == 0


def test_a_sweep_still_writing_an_out_keeps_it(tmp_path, data_files, capsys):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from engine.runtime.owners import FolderLock;"
         f"lock = FolderLock(Path({str(out / '.sweep.lock')!r})); print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        args = sweep_args(tmp_path, data_files[:1], "--grid", "fast=5", "--workers", "0", "--force")
        assert main(args) == 2
        assert f"is being written by process {holder.pid} (a sweep still running)" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert main(args) == 0  # the kernel dropped the dead holder's lock


def test_an_unusable_cache_folder_means_running_uncached_and_saying_so(tmp_path, data_files, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    args = sweep_args(tmp_path, data_files[:2], "--grid", "fast=5,10", "--workers", "1")
    args[args.index("--cache-dir") + 1] = str(blocker / "cache")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (f"note: cache folder {blocker / 'cache'} is not usable (Not a directory): running uncached, "
            "each worker parses its files") in out
    assert "sweep: 4 of 4 backtests" in out and "0 failed" in out
