"""The journal: records before delivery, batched fsync, recovery of the books, torn tails, kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agents.broker import BrokerAgent, BrokerSettings
from engine.daemon.journal import Journal, OpenOrderState, SessionStart, Snapshot, cut_torn_tail
from engine.daemon.recovery import JournalUnreadable, read_records, recover
from hub import keys as K
from hub.bus import Bus
from hub.messages import (
    AccountState,
    Bar,
    Fill,
    OrderAccepted,
    OrderCanceled,
    PositionState,
    SubmitOrder,
)
from tests.paths import ROOT as REPO_ROOT

REPO = REPO_ROOT
MIN = 60_000_000_000


def order(n, side="BUY", size=10.0, order_type="MARKET", limit=None, strategy="s"):
    return SubmitOrder(ts=n * MIN, order_id=f"{strategy}-{n}", strategy=strategy, instrument="ABC", side=side,
                       size=size, order_type=order_type, limit_price=limit, signal_price=100.0)


def bar(n, price):
    return Bar(ts=n * MIN, instrument="ABC", open=price, high=price + 1, low=price - 1, close=price, volume=1e6)


def journaled_broker(tmp_path, cash=100_000.0, **journal_kwargs):
    bus = Bus()
    journal = Journal(bus, tmp_path, **journal_kwargs)
    journal.attach()
    journal.append(SessionStart(ts=0, mode="test", strategy="s", cash=cash))
    broker = BrokerAgent(bus, lambda: 0, BrokerSettings(cash=cash))
    broker.attach()
    return bus, journal, broker


# ---------------------------------------------------------------- writing


def test_a_record_is_in_the_file_before_later_subscribers_see_the_message(tmp_path):
    bus = Bus()
    journal = Journal(bus, tmp_path)
    journal.attach()
    seen_in_file = []
    bus.subscribe("later", K.FILL, lambda m: seen_in_file.append(m.order_id.encode() in journal.path.read_bytes()))
    bus.publish(K.FILL, Fill(1, "s-1", "ABC", "BUY", 1.0, 10.0, 0.0, 0.0, 1.0, 90.0))
    journal.close()
    assert seen_in_file == [True]


def test_records_round_trip_as_tagged_messages_and_marks_are_not_journaled(tmp_path):
    bus = Bus()
    journal = Journal(bus, tmp_path)
    journal.attach()
    pos = PositionState("ABC", 10.0, 100.0, 101.0, 0.0)
    sent = [
        (K.SUBMIT_ORDER, order(1)),
        (K.ORDER_ACCEPTED, OrderAccepted(2, "s-1", "ABC")),
        (K.FILL, Fill(2, "s-1", "ABC", "BUY", 10.0, 100.0, 1.0, 0.0, 10.0, 98_999.0)),
        (K.ACCOUNT, AccountState(2, 98_999.0, 100_009.0, (pos,))),
        (K.ACCOUNT, AccountState(3, 98_999.0, 100_019.0, (PositionState("ABC", 10.0, 100.0, 102.0, 0.0),))),
        (K.ORDER_CANCELED, OrderCanceled(4, "s-9", "ABC")),
    ]
    for key, msg in sent:
        bus.publish(key, msg)
    journal.close()
    records = list(read_records(journal.path))
    assert records == [msg for _, msg in sent[:4]] + [sent[5][1]]  # the second account state only re-marked
    assert journal.path.read_bytes().startswith(b'{"type":"SubmitOrder"')


def test_fsync_is_batched_by_count_and_by_time(tmp_path):
    async def main():
        journal = Journal(Bus(), tmp_path, fsync_every=32, fsync_interval=0.01)
        for n in range(100):
            journal.append(order(n))
        await asyncio.sleep(0.2)
        burst = (journal.written, journal.synced, journal.syncs)
        journal.append(order(100))  # a lone record: synced by the timer
        await asyncio.sleep(0.2)
        lone = (journal.written, journal.synced)
        journal.close()
        return burst, lone

    with asyncio.Runner() as runner:
        (written, synced, syncs), lone = runner.run(main())
    assert written == synced == 100
    assert 1 <= syncs <= 4  # batches, not one fsync per record
    assert lone == (101, 101)


def test_close_syncs_everything_and_is_idempotent(tmp_path):
    journal = Journal(Bus(), tmp_path, fsync_every=1000)
    for n in range(10):
        journal.append(order(n))
    assert journal.synced == 0  # no loop, below the batch size
    journal.close()
    journal.close()
    assert journal.synced == 10


def test_bad_batch_settings_are_refused(tmp_path):
    with pytest.raises(ValueError):
        Journal(Bus(), tmp_path, fsync_every=0)


# ---------------------------------------------------------------- recovery


def _trade_some(bus):
    prices = [100, 101, 103, 102, 99, 98, 104, 105]
    script = {
        1: [order(1, "BUY", 10)], 2: [order(2, "BUY", 5)], 3: [order(3, "SELL", 12)],
        4: [order(4, "BUY", 3, "LIMIT", limit=50.0)],  # never fills: stays open
        5: [order(5, "SELL", 10)], 6: [order(6, "BUY", 20)],
    }
    for n, price in enumerate(prices, start=1):
        bus.publish(K.BAR, bar(n, price))
        for msg in script.get(n, []):
            bus.publish(K.SUBMIT_ORDER, msg)


def test_recovery_rebuilds_cash_positions_and_open_orders_like_the_broker(tmp_path):
    bus, journal, broker = journaled_broker(tmp_path)
    _trade_some(bus)
    journal.close()
    state = recover(tmp_path)
    assert state.cash == broker.cash
    pos = broker.position("ABC")
    got = state.positions["ABC"]
    assert (got.size, got.price, got.realized) == (pos.size, pos.price, pos.realized)
    assert set(state.open_orders) == {o.order_id for o in broker.open_orders()}
    assert state.open_orders["s-4"].remaining == 3.0
    assert state.order_seq == {"s": 6}
    assert state.fills == 5 and state.mismatches == 0 and state.torn_tail is None and not state.corrupt


def test_positions_replayed_from_fills_alone_match_the_broker(tmp_path):
    """A crash between a fill and its account state: the fills alone give the same books."""
    bus, journal, broker = journaled_broker(tmp_path)
    _trade_some(bus)
    journal.close()
    lines = journal.path.read_bytes().splitlines(keepends=True)
    journal.path.write_bytes(b"".join(line for line in lines if b'"AccountState"' not in line))
    state = recover(tmp_path)
    pos = broker.position("ABC")
    got = state.positions["ABC"]
    assert (state.cash, got.size, got.price, got.realized) == (broker.cash, pos.size, pos.price, pos.realized)


def test_a_torn_last_line_is_ignored_reported_and_cut_before_appending(tmp_path):
    bus, journal, broker = journaled_broker(tmp_path)
    _trade_some(bus)
    journal.close()
    whole = recover(tmp_path)
    with open(journal.path, "ab") as handle:
        handle.write(b'{"type":"Fill","ts":9,"order_id":"s-7","instr')
    torn = recover(tmp_path)
    assert torn.torn_tail is not None and torn.torn_tail.startswith('{"type":"Fill"')
    assert (torn.cash, torn.fills, torn.records) == (whole.cash, whole.fills, whole.records)

    again = Journal(Bus(), tmp_path)  # reopening cuts the torn tail, then appends cleanly
    assert again.torn_bytes_cut > 0
    again.append(OrderCanceled(10 * MIN, "s-4", "ABC"))
    again.close()
    after = recover(tmp_path)
    assert after.torn_tail is None and not after.corrupt and "s-4" not in after.open_orders


def test_a_complete_but_undecodable_last_line_counts_as_torn_and_a_middle_one_as_corrupt(tmp_path):
    bus, journal, _ = journaled_broker(tmp_path)
    _trade_some(bus)
    journal.close()
    lines = journal.path.read_bytes().splitlines(keepends=True)
    lines.insert(3, b'{"type":"Fill","garbage"\n')
    journal.path.write_bytes(b"".join(lines) + b'{"type":"Fil\n')
    with pytest.raises(JournalUnreadable, match="line 4"):
        recover(tmp_path)
    state = recover(tmp_path, accept_corrupt=True)
    assert state.torn_tail == '{"type":"Fil'
    assert [n for n, _ in state.corrupt] == [4]


def test_cut_torn_tail_on_clean_and_missing_files(tmp_path):
    assert cut_torn_tail(tmp_path / "nothing") == 0
    path = tmp_path / "j"
    path.write_bytes(b"a\nb\n")
    assert cut_torn_tail(path) == 0
    path.write_bytes(b"no newline at all")
    assert cut_torn_tail(path) == 17 and path.read_bytes() == b""


def test_a_snapshot_replaces_what_came_before(tmp_path):
    bus, journal, _ = journaled_broker(tmp_path)
    _trade_some(bus)
    snap = Snapshot(ts=99 * MIN, cash=5.0, positions=(PositionState("XYZ", 3.0, 7.0, 8.0, 1.0),),
                    open_orders=(OpenOrderState(order=order(42), remaining=4.0),))
    journal.append(snap)
    journal.close()
    state = recover(tmp_path)
    assert state.cash == 5.0 and list(state.positions) == ["XYZ"] and list(state.open_orders) == ["s-42"]
    assert state.position_states() == snap.positions


def test_no_journal_recovers_nothing(tmp_path):
    state = recover(tmp_path)
    assert state.empty and state.cash is None and state.summary()["records"] == 0


# ---------------------------------------------------------------- kill -9


def test_kill_9_mid_run_loses_no_acknowledged_fill(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("journal_child.py")), str(tmp_path)],
                             stdout=subprocess.PIPE, cwd=REPO, env=env)
    acked: list[tuple[str, float, float]] = []
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"READY\n"
        while len(acked) < 2000:
            line = child.stdout.readline()
            assert line, "child died early"
            _, order_id, remaining, cash = line.split()
            acked.append((order_id.decode(), float(remaining), float(cash)))
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    for line in rest.splitlines():  # printed before the kill: acknowledged too
        if line.count(b" ") == 3:
            _, order_id, remaining, cash = line.split()
            acked.append((order_id.decode(), float(remaining), float(cash)))

    report = recover(tmp_path)
    journaled = {(f.order_id, f.remaining, f.cash) for f in read_records(report.path) if isinstance(f, Fill)}
    missing = [a for a in acked if a not in journaled]
    assert missing == []
    assert report.fills >= len(acked) and not report.corrupt and report.mismatches == 0
    fills = [f for f in read_records(report.path) if isinstance(f, Fill)]
    assert report.cash == fills[-1].cash
    assert report.positions["ABC"].size == fills[-1].position
