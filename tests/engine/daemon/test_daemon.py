"""The daemon end to end: mode equivalence, live feed faults, a raising strategy, signals, kill -9 and restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.backtest.driver import run_backtest
from engine.config import SAMPLE_CONFIG, Config, DaemonConfig, StrategyConfig, load_config
from engine.daemon.daemon import Daemon
from engine.daemon.recovery import read_records, recover
from engine.daemon.run import loop_for, run_daemon
from engine.runtime.loops import DilatedLoop, VirtualTimeLoop
from hub.messages import Fill
from tests.paths import ROOT as REPO_ROOT

HERE = Path(__file__).resolve().parent
REPO = REPO_ROOT
S = 1_000_000_000
T0 = 1_699_999_980 * S


def sample_config(**daemon) -> Config:
    config = load_config(SAMPLE_CONFIG)
    return replace(config, daemon=replace(config.daemon, replay=config.data.paths, **daemon))


# ---------------------------------------------------------------- mode equivalence


@pytest.mark.parametrize("dilation", ["virtual", 3e8], ids=["virtual", "dilated"])
def test_replay_through_the_daemon_gives_the_backtests_fills(tmp_path, dilation):
    """Same strategy, same data: a backtest and an accelerated replay through the daemon agree row for row."""
    config = sample_config(time_dilation=dilation)
    backtest = run_backtest(replace(config, output=replace(config.output, dir=str(tmp_path / "backtest"))))
    result = run_daemon(replace(config, output=replace(config.output, dir=str(tmp_path / "daemon"))))
    assert result.exit_code == 0 and result.reason == "end of replay"
    fills = (tmp_path / "backtest" / "fills.csv").read_text().splitlines()
    assert len(fills) == backtest.summary["fills"] + 1 > 1
    assert (tmp_path / "daemon" / "fills.csv").read_text().splitlines() == fills
    assert (tmp_path / "daemon" / "orders.csv").read_text() == (tmp_path / "backtest" / "orders.csv").read_text()
    assert result.status["equity"] == pytest.approx(backtest.summary["final_value"], abs=0.0)


def test_loop_choice_follows_the_mode():
    virtual = loop_for(sample_config(time_dilation="virtual"))()
    virtual.close()
    assert type(virtual) is VirtualTimeLoop
    loop = loop_for(sample_config(time_dilation=50.0))()
    assert isinstance(loop, DilatedLoop) and loop.time_dilation == 50.0
    loop.close()
    with pytest.raises(ValueError, match="exactly one input"):
        Daemon(Config())


# ---------------------------------------------------------------- live feed, in process


def trade_line(ts: int, price: float, symbol: str = "ABC") -> bytes:
    return json.dumps({"type": "trade", "symbol": symbol, "ts": ts, "price": price, "size": 10}).encode() + b"\n"


class FeedServer:
    """The market-data source, in the test's loop on 127.0.0.1:0."""

    def __init__(self) -> None:
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader, writer) -> None:
        self.writers.append(writer)

    async def send(self, data: bytes) -> None:
        for w in self.writers:
            w.write(data)
            await w.drain()

    async def kill(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.close()
        self.writers.clear()
        await self.server.wait_closed()


async def until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def live_config(port: int, strategy: str, journal: Path | None = None) -> Config:
    return Config(strategy=StrategyConfig(name=strategy),
                  daemon=DaemonConfig(feed=f"tcp://127.0.0.1:{port}", bar_interval="1s", backoff_base=0.02,
                                      backoff_cap=0.1, journal=str(journal) if journal else None))


def test_live_feed_dies_and_returns_garbage_is_skipped_and_a_raising_strategy_keeps_trading(tmp_path):
    async def main():
        server = FeedServer()
        await server.start()
        daemon = Daemon(live_config(server.port, "tests.engine.daemon.strategies:RaiseEveryTenth", tmp_path / "journal"))
        running = asyncio.get_running_loop().create_task(daemon.run())
        await until(lambda: server.writers)
        for n in range(12):  # a trade per second of data time: each closes the previous bar
            await server.send(trade_line(T0 + n * S, 100.0 + n))
            if n % 4 == 0:
                await server.send(b"garbage line\n{\"type\": \"trade\"}\n")
        await until(lambda: daemon.collector.snapshot()["bars_built"]["bars"] >= 11)
        await server.kill()  # the feed dies ...
        await until(lambda: daemon.feed.stats.connect_failures >= 1)
        await server.start()  # ... and comes back on the same port
        await until(lambda: server.writers)
        for n in range(12, 25):
            await server.send(trade_line(T0 + n * S, 100.0 + n))
        await until(lambda: daemon.collector.snapshot()["bars_built"]["bars"] >= 24)
        await until(lambda: daemon.collector.fills >= 20)
        daemon.request_stop("test over")
        result = await running
        await server.kill()
        return result

    with asyncio.Runner() as runner:
        result = runner.run(asyncio.wait_for(main(), 60))
    status = result.status
    assert result.exit_code == 0 and status["stop_reason"] == "test over"
    assert status["feed"]["malformed"] == 6 and status["feed"]["connects"] == 2
    assert status["errors"]["count"] == 2  # bars 10 and 20 raised ...
    assert all("tenth bar" in e["error"] for e in status["errors"]["recent"])
    assert status["fills"] >= 20  # ... and trading went on
    assert status["agents"]["strategy"]["errors"] == 2
    state = recover(tmp_path / "journal")
    assert state.fills == status["fills"] and state.cash == status["cash"]


def test_a_lagging_strategy_gets_conflated_market_data_but_every_fill():
    async def main():
        server = FeedServer()
        await server.start()
        config = live_config(server.port, "tests.engine.daemon.strategies:EveryBar")
        daemon = Daemon(replace(config, daemon=replace(config.daemon, queue_size=4)))
        running = asyncio.get_running_loop().create_task(daemon.run())
        await until(lambda: server.writers)
        await until(lambda: daemon.feed is not None and daemon.feed.stats.connected)
        inbox = daemon.ingress.inboxes[0]
        original = inbox.deliver

        def slow(key, msg):  # the pipeline lags: 5 ms per bar
            time.sleep(0.005)
            original(key, msg)

        inbox.deliver = slow
        await server.send(b"".join(trade_line(T0 + n * S, 100.0 + n % 7, symbol=f"I{n % 3}") for n in range(300)))
        await until(lambda: daemon.bar_builder.bars >= 290)
        await until(lambda: len(inbox) == 0)
        daemon.request_stop("test over")
        result = await running
        await server.kill()
        return result, inbox.conflated, inbox.max_depth

    with asyncio.Runner() as runner:
        result, conflated, max_depth = runner.run(asyncio.wait_for(main(), 60))
    assert conflated > 0 and max_depth <= 4 + 3  # bounded: full queue plus nothing but replacements
    assert result.status["queues"]["pipeline"]["conflated"] == conflated
    submitted = result.status["agents"]["broker"]["handled"]
    assert submitted > 0 and result.exit_code == 0


# ---------------------------------------------------------------- signals and kill -9, as a process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadFeed:
    """A blocking feed server on a thread: sends trades at a steady pace until stopped."""

    def __init__(self, rate: float = 200.0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.rate = rate
        self.sent = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    while not self._stop.is_set():
                        conn.sendall(trade_line(T0 + self.sent * S // 10, 100.0 + self.sent % 13))
                        self.sent += 1
                        time.sleep(1 / self.rate)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def start_daemon(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    return subprocess.Popen([sys.executable, "-m", "engine", "run", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_fills(journal: Path, count: int, child: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else "daemon died"
        path = journal / "journal.ndjson"
        if path.exists() and path.read_bytes().count(b'"type":"Fill"') >= count:
            return
        time.sleep(0.05)
    raise AssertionError("no fills in time")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_daemon_gracefully_within_two_seconds(tmp_path, sig):
    feed = ThreadFeed()
    port = free_port()
    child = start_daemon(["--feed", f"tcp://127.0.0.1:{feed.port}", "--strategy", "tests.engine.daemon.strategies:EveryBar",
                          "--bar-interval", "100ms", "--journal", str(tmp_path / "j"), "--out", str(tmp_path / "out"),
                          "--control", f"127.0.0.1:{port}"])
    try:
        wait_for_fills(tmp_path / "j", 5, child)
        t0 = time.monotonic()
        child.send_signal(sig)
        out, err = child.communicate(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        if child.poll() is None:
            child.kill()
        feed.stop()
    assert child.returncode == 0, err.decode()
    assert elapsed < 2.0 + 1.5  # 2 s graceful budget plus interpreter teardown on a shared machine
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert status["stop_reason"] == sig.name and status["state"] == "stopped"
    records = list(read_records(tmp_path / "j" / "journal.ndjson"))
    assert type(records[-1]).__name__ == "Snapshot"
    assert records[-1].cash == status["cash"]
    assert b"stopped (" + sig.name.encode() in out


def test_restart_after_kill_9_recovers_the_books_and_loses_no_fill(tmp_path):
    journal = tmp_path / "j"
    feed = ThreadFeed(rate=400.0)
    args = ["--feed", f"tcp://127.0.0.1:{feed.port}", "--strategy", "tests.engine.daemon.strategies:EveryBar",
            "--bar-interval", "100ms", "--journal", str(journal)]
    try:
        child = start_daemon(args)
        wait_for_fills(journal, 30, child)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL
        before = recover(journal)
        fills_before = [f for f in read_records(journal / "journal.ndjson") if isinstance(f, Fill)]
        assert before.fills == len(fills_before) >= 30 and not before.corrupt

        port = free_port()
        again = start_daemon([*args, "--control", f"127.0.0.1:{port}", "--out", str(tmp_path / "out")])
        wait_for_fills(journal, len(fills_before) + 5, again)
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=10)
    finally:
        feed.stop()
    assert again.returncode == 0
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert status["recovered"]["fills"] == before.fills and status["recovered"]["cash"] == before.cash
    after = [f for f in read_records(journal / "journal.ndjson") if isinstance(f, Fill)]
    assert after[:len(fills_before)] == fills_before  # nothing lost or rewritten
    ids = [f.order_id for f in after if f.remaining == 0]
    assert len(ids) == len(set(ids))  # order ids continue after the restart, never reused
    final = recover(journal)
    assert final.cash == status["cash"] and final.mismatches == 0
