"""The writer process: the bytes of inline writing, failures raised from close(), and no process left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from engine.results import recorder as rec_mod
from engine.results.recorder import Recorder
from engine.results.writer import WriteError
from hub.bus import Bus
from hub.messages import EquityMarks, Fill, OrderCanceled, OrderRejected, SubmitOrder
from tests.paths import ROOT as REPO_ROOT

SECOND = 1_000_000_000
DAY = 86_400 * SECOND
NAMES = ("equity.csv", "fills.csv", "orders.csv")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Many chunks and batches from a few hundred events."""
    monkeypatch.setattr(rec_mod, "_CHUNK", 16)
    monkeypatch.setattr(rec_mod, "_BATCH", 5)


@pytest.fixture(autouse=True)
def no_child_left():
    yield
    assert multiprocessing.active_children() == []


def stamps() -> list[int]:
    """Daily stamps, then whole seconds, then nanoseconds: the run's resolution rises twice, mid-chunk."""
    days = [i * DAY for i in range(40)]
    seconds = [40 * DAY + i * 61 * SECOND for i in range(40)]
    nanos = [41 * DAY + i * 1_234_567 for i in range(40)]
    return days + seconds + nanos


def drive(recorder: Recorder, between=None) -> None:
    """Marks in blocks, and per block an order: filled, rejected (a reason to quote), canceled or left open."""
    ts_all = stamps()
    cash = 100_000.0
    for k in range(0, len(ts_all), 3):
        block = ts_all[k:k + 3]
        recorder._on_marks(EquityMarks(
            ts=block[-1], stamps=tuple(block), cash=tuple(cash for _ in block),
            equity=tuple(cash + 0.1 * (k + i) for i in range(len(block)))))
        ts = block[-1]
        oid = f"o{k}"
        recorder._on_submit(SubmitOrder(ts=ts, order_id=oid, strategy="s", instrument="ABC", side="BUY", size=3.0,
                                        order_type="LIMIT" if k % 2 else "MARKET", limit_price=10.5 if k % 2 else None))
        if k % 12 == 0:
            recorder._on_reject(OrderRejected(ts=ts, order_id=oid, instrument="ABC", side="BUY", size=3.0,
                                              reason='margin: needs 1,234.5, has "0.1"'))
        elif k % 12 == 3:
            recorder._on_cancel(OrderCanceled(ts=ts, order_id=oid, instrument="ABC"))
        else:  # filled (6), or partly and left open to the end (9)
            cash -= 31.5 + 1e-17 * k
            remaining = 0.0 if k % 12 == 6 else 1.0
            recorder._on_fill(Fill(ts=ts, order_id=oid, instrument="ABC", side="BUY", size=3.0 - remaining,
                                   price=10.5 + k / 7, commission=0.0063, remaining=remaining, position=3.0 * k,
                                   cash=cash))
        if between is not None:
            between(recorder, k)


def run(out: Path, writer: str, between=None) -> dict[str, bytes]:
    recorder = Recorder(Bus(), out, writer=writer)
    drive(recorder, between)
    recorder.close()
    assert recorder.equity.rows == len(stamps())
    return {name: (out / name).read_bytes() for name in NAMES}


def test_process_mode_writes_the_bytes_of_inline_mode(tmp_path):
    inline = run(tmp_path / "inline", "inline")
    assert inline["orders.csv"].count(b'"margin: needs 1,234.5, has ""0.1"""') > 1
    equity = inline["equity.csv"].decode().splitlines()
    assert equity[1].startswith("1970-01-01,") and equity[-1].count(".") >= 2  # dates first, nanoseconds last
    assert run(tmp_path / "process", "process") == inline


def test_auto_mode_hands_the_files_over_mid_run_and_writes_the_same_bytes(tmp_path):
    """Written here until a first full chunk, then appended to by the process once it is ready."""
    seen = {}

    def wait_until_handed_over(recorder: Recorder, k: int) -> None:
        output = recorder.output
        if k == 30:
            assert output.process is not None and output.process.is_alive()
            deadline = time.monotonic() + 60
            while not output._is_ready():
                assert time.monotonic() < deadline
                time.sleep(0.01)
        if k == 33:
            seen["handed over"] = output._files is None

    assert run(tmp_path / "auto", "auto", wait_until_handed_over) == run(tmp_path / "inline", "inline")
    assert seen["handed over"]


def test_a_short_run_starts_no_process(tmp_path, monkeypatch):
    monkeypatch.setattr(rec_mod, "_CHUNK", 65_536)
    monkeypatch.setattr(rec_mod, "_BATCH", 4096)
    recorder = Recorder(Bus(), tmp_path, writer="auto")
    drive(recorder)
    recorder.close()
    assert recorder.output.process is None


def test_a_write_failing_in_the_process_is_raised_by_close_naming_the_file(tmp_path):
    (tmp_path / "fills.csv").symlink_to("/dev/full")  # every write: ENOSPC
    recorder = Recorder(Bus(), tmp_path, writer="process")
    process = recorder.output.process
    drive(recorder)
    with pytest.raises(WriteError, match="No space left on device") as err:
        recorder.close()
    assert err.value.path == str(tmp_path / "fills.csv")
    assert "fills.csv" in str(err.value)
    assert process is not None and not process.is_alive()


def test_a_process_that_dies_is_raised_by_close(tmp_path):
    def kill_it(recorder: Recorder, k: int) -> None:
        if k == 30:
            os.kill(recorder.output.process.pid, signal.SIGKILL)
            recorder.output.process.join()

    recorder = Recorder(Bus(), tmp_path, writer="process")
    with pytest.raises(WriteError, match=r"died \(exit code -9\)") as err:
        drive(recorder, kill_it)
        recorder.close()
    assert "equity.csv" in str(err.value)


def test_a_run_that_raises_leaves_no_process(tmp_path, monkeypatch):
    import asyncio
    from dataclasses import replace

    from engine.backtest.driver import run_pipeline
    from engine.config import Config, StrategyConfig
    from hub.messages import Bar

    monkeypatch.setattr(rec_mod, "WRITER", "process")
    alive = []

    def bars():
        for i in range(100):
            if i == 60:
                raise RuntimeError("bad data")
            yield Bar(ts=i * DAY, instrument="ABC", open=10.0, high=11.0, low=9.0, close=10.5 + i % 3, volume=100.0)

    def on_bus(bus):
        alive.extend(p for p in multiprocessing.active_children() if p.is_alive())

    config = replace(Config(), strategy=StrategyConfig(name="tests.engine.example_strategies:BuyOnBar",
                                                       params={"bar": 3}))
    with pytest.raises(RuntimeError, match="bad data"):
        asyncio.run(run_pipeline(config, tmp_path, "t", bars(), on_bus=on_bus))
    assert alive and not any(p.is_alive() for p in alive)


def test_auto_mode_writes_here_in_a_daemonic_process(tmp_path, monkeypatch):
    """A sweep's worker is daemonic: it may not start children (and its cores are taken)."""
    from engine.results import output as output_mod

    class Daemonic:
        daemon = True

    monkeypatch.setattr(output_mod.multiprocessing, "current_process", lambda: Daemonic())
    recorder = Recorder(Bus(), tmp_path, writer="auto")
    drive(recorder)
    recorder.close()
    assert recorder.output.process is None


def test_the_sender_blocks_when_the_writer_is_depth_messages_behind():
    """Memory stays bounded: one message in the pipe, ``depth`` queued, then put() waits for the reader."""
    import threading

    from engine.results.sender import Sender

    reader, writer = multiprocessing.Pipe()
    sender = Sender(writer, depth=2)
    done = []
    big = b"x" * 4_000_000  # more than a socket buffer: its send waits for the reader

    def put_all():
        for i in range(6):
            sender.put(("rows", str(i), big))
            done.append(i)

    thread = threading.Thread(target=put_all)
    thread.start()
    time.sleep(0.5)
    assert len(done) == 3  # one being sent, two queued; the fourth waits
    assert [reader.recv()[1] for _ in range(6)] == [str(i) for i in range(6)]
    thread.join(10)
    assert sender.close(timeout=10) and done == list(range(6))
    reader.close()
    writer.close()


@pytest.mark.parametrize("writer", ["inline", "process"])
def test_close_twice_is_harmless_and_a_late_write_is_refused(tmp_path, writer):
    from engine.results.output import Output

    output = Output(writer)
    output.create(tmp_path / "rows.csv", binary=False)
    output.rows(tmp_path / "rows.csv", 0, [["a", 1.5, None]], ())
    output.close()
    output.close()
    assert (tmp_path / "rows.csv").read_text() == "a,1.5,\n"
    with pytest.raises(ValueError, match="after the results were closed"):
        output.rows(tmp_path / "rows.csv", 0, [["b"]], ())


def test_rows_msgpack_cannot_carry_are_pickled_and_written_as_inline_writes_them(tmp_path):
    """Rows go to the process as msgpack (exact types only); a numpy float or a huge int falls back to pickle."""
    import numpy as np

    from engine.results import output as out_mod
    from engine.results.output import Output

    plain = [[1, "a,b", 2.5, None, True]]
    odd = [[2, "c", np.float64(0.1), 2**70, None]]
    assert out_mod._packed(("rows", "p", 0, plain, (0,)))[0] == "packed_rows"
    assert out_mod._packed(("rows", "p", 0, odd, (0,)))[0] == "rows"
    written = {}
    for mode in ("inline", "process"):
        output = Output(mode)
        path = tmp_path / f"{mode}.csv"
        output.create(path, binary=False)
        output.rows(path, 1, [list(r) for r in plain], (0,))
        output.rows(path, 1, [list(r) for r in odd], (0,))
        output.close()
        written[mode] = path.read_bytes()
    assert written["process"] == written["inline"]
    assert b'"a,b"' in written["inline"] and str(2**70).encode() in written["inline"]


def test_a_script_without_a_main_guard_writes_here_and_its_child_does_not_run_it_again(tmp_path):
    """The spawned writer re-imports an unguarded script; starting its own writer there must fail, not fall back.

    Falling back would run the whole script a second time inside the child.
    """
    import subprocess
    import sys
    import textwrap

    out = tmp_path / "rows.csv"
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        from engine.results.output import Output
        output = Output("auto")
        path = Path({str(out)!r})
        output.create(path, binary=False)
        output.rows(path, 1, [[0, "x", 0.5]], ())  # the first batch starts the writer
        import time
        deadline = time.monotonic() + 60
        while output.process.is_alive() and not output._is_ready() and time.monotonic() < deadline:
            time.sleep(0.02)  # give the child time to re-run this script as far as it will
        for i in range(1, 50):
            output.rows(path, 1, [[i, "x", 0.5]], ())
        output.close()
        print("DONE")
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # the script runs as a file, outside the repository
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("DONE") == 1  # the parent finished; the child did not run the script to its end
    assert "re-running the main script" in proc.stderr and "writing here" in proc.stderr
    assert out.read_text().splitlines() == [f"{i},x,0.5" for i in range(50)]
