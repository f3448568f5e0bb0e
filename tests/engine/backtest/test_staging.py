"""Staging folders of a run that died (kill -9) are removed by the next run in the same place; those of a
run still going, and hidden folders that are not ours, are left alone."""

import os
import signal
import subprocess
import sys
import time

from engine.backtest.staging import remove_abandoned, staging_dir
from engine.runtime import owners
from tests.engine.backtest.test_backtest import write_bars
from tests.paths import ROOT


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run_there(tmp_path):
    data = write_bars(tmp_path / "ABC.csv", [10.0 + i for i in range(400)])
    results = tmp_path / "results"
    run = subprocess.Popen([sys.executable, "-m", "engine", "backtest", "--data", str(data), "--strategy",
                            "tests.engine.example_strategies:SlowBars", "--out", str(results / "slow")],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        staged = []
        while not staged and time.monotonic() < deadline and run.poll() is None:
            staged = [p for p in results.glob(".slow.*") if (p / owners.OWNER_FILE).exists()] if results.exists() else []
            time.sleep(0.05)
        assert staged, "the run never staged its results"
        assert owners.owner_of(staged[0]).split()[0] == str(run.pid)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    assert staged[0].exists()  # the killed run left it behind
    done = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(data), "--out",
                           str(results / "next")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not staged[0].exists()
    assert sorted(p.name for p in results.iterdir()) == ["next"]


def test_only_folders_of_dead_owners_are_removed(tmp_path):
    mine = tmp_path / ".out.live"
    mine.mkdir()
    owners.mark(mine)  # this process: alive
    foreign = tmp_path / ".git"
    foreign.mkdir()  # no owner record: not ours
    dead = tmp_path / ".out.dead"
    dead.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (dead / owners.OWNER_FILE).write_text(owners.identity(os.getpid()).replace(str(os.getpid()), str(child.pid), 1))
    assert remove_abandoned(tmp_path) == [dead]
    assert mine.exists() and foreign.exists() and not dead.exists()


def test_a_finished_run_leaves_no_owner_record(tmp_path):
    with staging_dir(tmp_path / "out") as staging:
        (staging / "summary.json").write_text("{}\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.json"]
