"""A bounded stop under a flood with a slow strategy, and a control plane that answers meanwhile (as processes)."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from engine.daemon.daemon import EXIT_STOP_DEADLINE
from engine.daemon.recovery import read_records, recover
from tests.engine.daemon.test_daemon import ThreadFeed, free_port, start_daemon, wait_for_fills


def get(port: int, path: str, timeout: float = 5.0) -> tuple[float, dict]:
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
        body = json.loads(answer.read())
    return time.monotonic() - t0, body


def test_sigterm_under_a_flood_with_a_slow_strategy_stops_at_once_and_health_answers_meanwhile(tmp_path):
    feed = ThreadFeed(rate=2000.0)  # each trade closes a 100 ms bar: 2,000 bars/s for a 5 bars/s strategy
    port = free_port()
    journal = tmp_path / "j"
    child = start_daemon(["--feed", f"tcp://127.0.0.1:{feed.port}", "--strategy", "tests.engine.daemon.strategies:SlowBar",
                          "--bar-interval", "100ms", "--journal", str(journal), "--out", str(tmp_path / "out"),
                          "--control", f"127.0.0.1:{port}"])
    try:
        wait_for_fills(journal, 3, child)
        health = [get(port, "/health", timeout=1.0) for _ in range(10)]  # while on_bar sleeps 200 ms at a time
        _, before = get(port, "/status")
        t0 = time.monotonic()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        if child.poll() is None:
            child.kill()
        feed.stop()
    print(f"health answered in at most {max(s for s, _ in health) * 1000:.1f} ms; stopped in {elapsed:.2f} s")
    assert child.returncode == 0, err.decode()
    assert all(body["ok"] for _, body in health)
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert status["stop_reason"] == "SIGTERM"
    # the backlog was dropped, not fed to the strategy: it finished the bar it was on, at most one more
    handled = status["agents"]["strategy"]["handled"] - before["agents"]["strategy"]["handled"]
    assert handled <= 3, handled  # model state, and the bar under way
    assert status["stop"]["dropped_market_data"] > 0 or status["queues"]["pipeline"]["conflated"] > 0
    records = list(read_records(journal / "journal.ndjson"))
    snapshot = records[-1]
    assert type(snapshot).__name__ == "Snapshot" and snapshot.open_orders == ()
    cancels = {r.order_id for r in records if type(r).__name__ == "CancelOrder"}
    assert cancels == set(status["stop"]["cancelled_orders"])  # the open orders were cancelled, journaled


def test_a_strategy_that_never_returns_cannot_hold_the_stop(tmp_path):
    feed = ThreadFeed(rate=50.0)
    journal = tmp_path / "j"
    child = start_daemon(["--feed", f"tcp://127.0.0.1:{feed.port}", "--strategy", "tests.engine.daemon.strategies:Stuck",
                          "--bar-interval", "100ms", "--journal", str(journal), "--out", str(tmp_path / "out")])
    try:
        wait_for_fills(journal, 1, child)
        time.sleep(0.5)  # it is stuck in its third bar by now
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
        feed.stop()
    assert child.returncode == EXIT_STOP_DEADLINE, err.decode()
    assert b"Stop deadline of 2.5 s passed" in err
    state = recover(journal)  # nothing torn: every record was written whole before the exit
    assert state.fills >= 1 and not state.corrupt


def test_after_kill_9_the_results_are_marked_incomplete_and_a_restart_rebuilds_them_from_the_journal(tmp_path):
    from hub.messages import Fill

    journal, out = tmp_path / "j", tmp_path / "out"
    feed = ThreadFeed(rate=400.0)
    args = ["--feed", f"tcp://127.0.0.1:{feed.port}", "--strategy", "tests.engine.daemon.strategies:EveryBar",
            "--bar-interval", "100ms", "--journal", str(journal), "--out", str(out)]
    try:
        child = start_daemon(args)
        wait_for_fills(journal, 30, child)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
        assert (out / "INCOMPLETE").exists()  # the folder a killed daemon left says so
        again = start_daemon(args)
        wait_for_fills(journal, recover(journal).fills + 5, again)
        again.send_signal(signal.SIGTERM)
        _, err = again.communicate(timeout=15)
    finally:
        feed.stop()
    assert again.returncode == 0, err.decode()
    journaled = [f.order_id for f in read_records(journal / "journal.ndjson") if isinstance(f, Fill)]
    rows = (out / "fills.csv").read_text().splitlines()[1:]
    assert [row.split(",")[1] for row in rows] == journaled  # every fill of both sessions, in order
    assert not (out / "INCOMPLETE").exists()
