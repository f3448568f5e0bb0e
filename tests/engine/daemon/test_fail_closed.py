"""The daemon fails closed: a journal that cannot be written halts order flow; one that cannot be read is refused."""

from __future__ import annotations

import csv
import errno
import os
import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from engine.cli.main import main as cli_main
from engine.config import SAMPLE_CONFIG, Config, StrategyConfig, load_config
from engine.daemon.daemon import EXIT_HALTED, Daemon
from engine.daemon.journal import JOURNAL_FILE
from engine.daemon.recovery import JournalUnreadable, read_records, recover
from engine.daemon.run import run_daemon
from hub.messages import Fill, SubmitOrder

EVERY_BAR = "tests.engine.daemon.strategies:EveryBar"


def replay_config(tmp_path: Path, journal: Path, strategy: str = EVERY_BAR, **daemon) -> Config:
    config = load_config(SAMPLE_CONFIG)
    return replace(config, strategy=StrategyConfig(name=strategy),
                   daemon=replace(config.daemon, replay=config.data.paths, time_dilation="virtual",
                                  journal=str(journal), **daemon),
                   output=replace(config.output, dir=str(tmp_path / "out")))


def run(config: Config, **kwargs):
    import asyncio

    from engine.daemon.run import loop_for

    with asyncio.Runner(loop_factory=loop_for(config)) as runner:
        return runner.run(Daemon(config, out_dir=config.output.dir, **kwargs).run())


def journaled_fills(journal: Path) -> int:
    return sum(isinstance(r, Fill) for r in read_records(journal / JOURNAL_FILE))


# ---------------------------------------------------------------- a journal that cannot be written


class FullDisk:
    """``os.write`` until the disk 'fills' at the first SubmitOrder after ``after`` records, then ENOSPC."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0
        self.full = False

    def write(self, fd: int, data) -> int:
        self.calls += 1
        if self.full or (self.calls > self.after and b'"SubmitOrder"' in bytes(data)):
            self.full = True
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


def test_a_journal_write_failure_halts_order_flow_and_the_stop_exits_non_zero(tmp_path):
    journal = tmp_path / "journal"
    disk = FullDisk(after=40)
    told: list[str] = []  # the operator's hook (run_daemon sends the StatsD gauge daemon.halted from it)
    result = run(replay_config(tmp_path, journal), journal_options={"write": disk.write}, on_halt=told.append)
    status = result.status
    assert len(told) == 1 and "No space left on device" in told[0]
    flow = status["order_flow"]
    assert result.exit_code == EXIT_HALTED
    assert status["state"] == "stopped" and "No space left on device" in flow["halted"]
    assert status["journal"]["failed"] and status["journal"]["lost"] >= 1
    # the order whose record failed never reached the broker: its strategy heard a rejection with the reason
    assert flow["rejected"] == 1
    with open(tmp_path / "out" / "orders.csv") as handle:
        rejected = [row for row in csv.DictReader(handle) if "order flow halted" in row.get("reason", "")]
    assert len(rejected) == 1 and "No space left on device" in rejected[0]["reason"]
    # no market data reached the broker after the halt, so no fill happened that the journal does not hold
    assert flow["dropped_market_data"] > 0
    assert status["fills"] == journaled_fills(journal) > 0
    assert recover(journal).fills == status["fills"]  # and a restart recovers all of them


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: a real ENOSPC from the kernel (needs root, as in CI; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_halts_order_flow_and_the_journal_still_recovers(tmp_path, tiny_disk):
    journal = tiny_disk / "journal"
    result = run(replay_config(tmp_path, journal))
    status = result.status
    assert result.exit_code == EXIT_HALTED and "No space left on device" in status["order_flow"]["halted"]
    state = recover(journal)  # at most a torn last line: the record the disk could not hold
    assert state.fills == status["fills"] > 0 and not state.corrupt


def test_the_cli_exits_non_zero_when_order_flow_was_halted(tmp_path, monkeypatch):
    disk = FullDisk(after=40)
    real_init = Daemon.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs, journal_options={"write": disk.write})

    monkeypatch.setattr(Daemon, "__init__", init)
    result = run_daemon(replay_config(tmp_path, tmp_path / "journal"))
    assert result.exit_code == EXIT_HALTED


# ---------------------------------------------------------------- a journal that cannot be read


def good_journal(tmp_path: Path) -> Path:
    journal = tmp_path / "journal"
    config = replay_config(tmp_path, journal)
    result = run(config)
    assert result.exit_code == 0 and journaled_fills(journal) > 0
    return journal


def test_a_journal_of_random_bytes_is_refused_not_a_silent_fresh_start(tmp_path):
    journal = tmp_path / "journal"
    journal.mkdir()
    (journal / JOURNAL_FILE).write_bytes(random.Random(14).randbytes(64 * 1024))
    with pytest.raises(JournalUnreadable, match="cannot be trusted.*--journal-accept-corrupt"):
        run(replay_config(tmp_path, journal))
    one_line = tmp_path / "one"
    one_line.mkdir()
    (one_line / JOURNAL_FILE).write_bytes(bytes(b for b in random.Random(15).randbytes(4096) if b != 10))
    with pytest.raises(JournalUnreadable, match="corrupt line.*at line 1 .unterminated line"):
        recover(one_line)


def test_the_cli_refuses_a_damaged_journal_with_a_clear_error_unless_told(tmp_path, capsys):
    journal = tmp_path / "journal"
    journal.mkdir()
    (journal / JOURNAL_FILE).write_bytes(random.Random(14).randbytes(4096))
    argv = ["run", "--replay", str(load_config(SAMPLE_CONFIG).data.paths[0]), "--format", "ashare",
            "--time-dilation", "virtual", "--journal", str(journal), "--out", str(tmp_path / "out")]
    assert cli_main(argv) == 2
    assert "cannot be trusted" in capsys.readouterr().err
    assert cli_main([*argv, "--journal-accept-corrupt"]) == 0  # the operator's explicit override


def test_a_corrupt_middle_line_is_refused_a_torn_last_line_is_cut_and_said(tmp_path, logwood_handler_mock):
    journal = good_journal(tmp_path)
    path = journal / JOURNAL_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    fills = journaled_fills(journal)

    path.write_bytes(b"".join(lines) + b'{"type":"Fill","ts":9,"order_')  # a crash mid-write
    state = recover(journal)
    assert state.torn_tail.startswith('{"type":"Fill"') and state.fills == fills
    result = run(replay_config(tmp_path, journal))  # starts, cuts the tail, says so
    assert result.exit_code == 0 and result.status["recovered"]["torn_tail"]
    assert any("cut a torn last line" in w for w in logwood_handler_mock["WARNING"])
    assert recover(journal).torn_tail is None

    lines = path.read_bytes().splitlines(keepends=True)
    lines[5] = b'{"type":"Fill","ts":1,"this line": "was damaged"}\n'
    path.write_bytes(b"".join(lines))
    with pytest.raises(JournalUnreadable, match="1 corrupt line.*line 6"):
        recover(journal)
    accepted = recover(journal, accept_corrupt=True)
    assert [n for n, _ in accepted.corrupt] == [6]


def test_a_journal_that_does_not_start_with_a_session_is_refused(tmp_path):
    journal = tmp_path / "journal"
    journal.mkdir()
    order = SubmitOrder(1, "s-1", "s", "ABC", "BUY", 1.0)
    import msgspec

    (journal / JOURNAL_FILE).write_bytes(msgspec.json.encode(order) + b"\n")
    with pytest.raises(JournalUnreadable, match="not a SessionStart"):
        recover(journal)


# ---------------------------------------------------------------- a strategy that keeps failing


def test_a_strategy_past_its_error_limit_is_halted_and_its_open_orders_cancelled(tmp_path):
    journal = tmp_path / "journal"
    config = replay_config(tmp_path, journal, strategy="tests.engine.daemon.strategies:AlwaysRaise",
                           strategy_max_errors=3)
    result = run(config)
    status = result.status
    flow = status["order_flow"]
    assert result.exit_code == 0  # the daemon is fine; the strategy is not
    assert "3 errors (limit 3)" in flow["strategies"]["strategy"] and "RuntimeError: bar 6" in flow["strategies"]["strategy"]
    assert flow["strategy_errors"] == 3 and status["errors"]["count"] == 3  # no data reached it after the halt
    records = list(read_records(journal / JOURNAL_FILE))
    submitted = [r.order_id for r in records if isinstance(r, SubmitOrder)]
    cancels = [r.order_id for r in records if type(r).__name__ == "CancelOrder"]
    canceled = [r.order_id for r in records if type(r).__name__ == "OrderCanceled"]
    assert cancels and set(cancels) <= set(submitted) and set(cancels) == set(canceled)
    assert status["open_orders"]["count"] == 0


def test_the_final_status_is_the_journals_snapshot_every_instrument_ever_traded(tmp_path):
    journal = tmp_path / "journal"
    result = run(replay_config(tmp_path, journal))
    snapshot = [r for r in read_records(journal / JOURNAL_FILE) if type(r).__name__ == "Snapshot"][-1]
    positions = result.status["positions"]
    assert set(positions) == {p.instrument for p in snapshot.positions} and positions
    for p in snapshot.positions:
        assert positions[p.instrument] == {"size": p.size, "avg_price": p.avg_price, "last_price": p.last_price,
                                           "realized_pnl": p.realized_pnl}
    assert result.status["cash"] == snapshot.cash
