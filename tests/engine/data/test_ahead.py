"""Parsing ahead in a child process: inline mode's bars, report and errors, bounded, and no process left."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.data import DataError, ahead, open_stream
from tests.paths import ROOT as REPO_ROOT

ROOT = REPO_ROOT
HEADER = "timestamp,open,high,low,close,volume\n"
ASHARE = '"ticker","secid","tradedate","openprice","highestprice","lowestprice","closeprice","turnovervol","turnovervalue","accumadjfactor","isopen"\n'


@pytest.fixture(autouse=True)
def no_child_left():
    yield
    assert multiprocessing.active_children() == []


@pytest.fixture
def warnings(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(ahead, "_warn", said.append)
    return said


def ohlcv(directory: Path, name: str, rows: int, step: int, bad_every: int = 0, offset: int = 0) -> str:
    """Minute-ish bars; every ``bad_every``-th row has an unparsable close."""
    lines = []
    for i in range(rows):
        close = "abc" if bad_every and i % bad_every == bad_every - 1 else f"{10 + i % 7}.5"
        lines.append(f"{offset + i * step},10,20,1,{close},{i % 5}\n")
    path = directory / name
    path.write_text(HEADER + "".join(lines))
    return str(path)


def ashare(directory: Path) -> str:
    rows = []
    for d in range(1, 29):
        isopen = "false" if d % 9 == 0 else "true"
        rows.append(f'"000001","000001.SZ","2020-02-{d:02d}","10.0","11.0","9.0","10.5","100.0","1.0E3","2.0","{isopen}"\n')
    path = directory / "000001.csv"
    path.write_text(ASHARE + "".join(rows))
    return str(path)


@pytest.fixture
def many_files(tmp_path) -> list[str]:
    """Four files (one A-share), many 512-byte chunks each, bad rows spread through them."""
    day = 86_400
    start = 1_580_515_200  # 2020-02-01
    return [
        ohlcv(tmp_path, "B.csv", 900, 3_000, bad_every=97, offset=start),
        ohlcv(tmp_path, "A.csv", 700, 4_000, bad_every=61, offset=start),
        ashare(tmp_path),
        ohlcv(tmp_path, "C.csv", 300, day // 10, offset=start),
    ]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> str:
    """~6 MB: far more than the pipe and the child's queue hold in 64 kB chunks."""
    return ohlcv(tmp_path_factory.mktemp("big"), "BIG.csv", 300_000, 60)


def read(files, mode, **kw):
    stream = open_stream(files, skip_bad=True, chunk_bytes=512, ahead=mode, **kw)
    batches = list(stream.batches())
    return batches, stream.report


@pytest.mark.parametrize("hand_over_at", [0, 5, None])
def test_process_mode_gives_the_bars_batches_and_report_of_inline_mode(many_files, monkeypatch, hand_over_at):
    """From the first chunk, after five parsed here, or wherever the child catches up: the same stream."""
    monkeypatch.setattr(ahead, "HAND_OVER_AT", hand_over_at)
    inline, inline_report = read(many_files, "inline")
    ahead_, report = read(many_files, "process")
    assert len(inline) > 20 and inline_report.skipped and inline_report.filtered
    assert [len(b) for b in ahead_] == [len(b) for b in inline]
    assert ahead_ == inline
    assert report.skipped == inline_report.skipped
    assert report.filtered == inline_report.filtered
    assert report.rows_read == inline_report.rows_read


def test_one_file_comes_as_the_same_column_chunks(many_files, monkeypatch):
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    path = many_files[0]
    mine = list(open_stream(path, skip_bad=True, chunk_bytes=512, ahead="inline").chunks())
    theirs = list(open_stream(path, skip_bad=True, chunk_bytes=512, ahead="process").chunks())
    assert len(theirs) == len(mine) > 10
    for a, b in zip(theirs, mine, strict=True):
        assert type(a) is type(b) and a.instrument == b.instrument
        for field in ("ts", "open", "high", "low", "close", "volume"):
            assert getattr(a, field).tolist() == getattr(b, field).tolist()
            assert getattr(a, field).flags.writeable


@pytest.mark.parametrize("hand_over_at", [0, 3])
def test_a_bad_row_raises_the_inline_error_after_the_same_bars(tmp_path, monkeypatch, hand_over_at):
    monkeypatch.setattr(ahead, "HAND_OVER_AT", hand_over_at)
    path = ohlcv(tmp_path, "X.csv", 400, 60)
    lines = Path(path).read_text().splitlines(keepends=True)
    lines[301] = "18000,10,20,1,10.5,-3\n"  # line 302: negative volume, ~10 chunks in
    Path(path).write_text("".join(lines))

    def until_error(mode):
        got = []
        with pytest.raises(DataError) as err:
            for bar in open_stream(path, chunk_bytes=512, ahead=mode):
                got.append(bar)
        return got, err.value

    inline_bars, inline_err = until_error("inline")
    bars, err = until_error("process")
    assert type(err) is DataError and str(err) == str(inline_err)
    assert (err.path, err.line, err.field) == (path, 302, "volume")
    assert bars == inline_bars and len(bars) > 100


def test_opening_starts_no_process_and_a_header_problem_fails_at_once(tmp_path):
    path = ohlcv(tmp_path, "X.csv", 50, 60)
    stream = open_stream(path, ahead="process")
    assert multiprocessing.active_children() == [] and stream.report.rows_read == {}
    bad = tmp_path / "Y.csv"
    bad.write_text("timestamp,open,high,low,volume\n0,1,1,1,1\n")
    with pytest.raises(DataError) as err:
        open_stream(str(bad), ahead="process")
    assert (err.value.line, err.value.field) == (1, "close")
    with pytest.raises(ValueError, match="ahead must be one of"):
        open_stream(path, ahead="thread")


@pytest.mark.parametrize("how", ["del", "close", "break"])
def test_abandoning_the_iteration_ends_the_child(tmp_path, monkeypatch, how):
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    path = ohlcv(tmp_path, "X.csv", 3000, 60)
    stream = open_stream(path, chunk_bytes=512, ahead="process")
    if how == "break":
        for _ in stream.batches():
            assert len(multiprocessing.active_children()) == 1
            break
    else:
        chunks = stream.chunks()
        next(chunks)
        assert len(multiprocessing.active_children()) == 1
        if how == "close":
            chunks.close()
        else:
            del chunks
    assert multiprocessing.active_children() == []  # at once: no gc.collect() needed


def test_an_exhausted_stream_leaves_no_child(tmp_path, monkeypatch):
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    path = ohlcv(tmp_path, "X.csv", 300, 60)
    it = iter(open_stream(path, chunk_bytes=512, ahead="process"))
    assert sum(1 for _ in it) == 300
    assert multiprocessing.active_children() == []


def _read_position(pid: int, path: str) -> int:
    """Where the process's open file of ``path`` is at (Linux: /proc/<pid>/fdinfo)."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target == os.path.realpath(path):
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                return int(info.readline().split()[1])
    raise AssertionError(f"{path} is not open in {pid}")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fdinfo"), reason="needs Linux /proc")
def test_the_child_waits_when_the_parent_is_a_few_chunks_behind(big_file, monkeypatch):
    """Memory stays flat: a pipe's worth and ``DEPTH`` chunks ahead, however long the file."""
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    chunks = open_stream(big_file, chunk_bytes=1 << 16, ahead="process").chunks()
    first = next(chunks)
    (child,) = multiprocessing.active_children()
    time.sleep(1.0)  # unbounded, the child would read the whole file meanwhile
    assert _read_position(child.pid, big_file) < os.path.getsize(big_file) // 2
    assert len(first) + sum(len(c) for c in chunks) == 300_000


def test_a_child_killed_mid_stream_stops_the_iteration(big_file, monkeypatch):
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    chunks = open_stream(big_file, chunk_bytes=1 << 16, ahead="process").chunks()
    next(chunks)
    (child,) = multiprocessing.active_children()
    os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"parse process ended \(exit code -9\)"):
        for _ in chunks:
            pass


def test_the_outbox_blocks_when_depth_messages_wait():
    import threading

    from engine.data.ahead_child import Outbox

    reader, writer = multiprocessing.Pipe(duplex=False)
    outbox = Outbox(writer, depth=2)
    done = []
    big = b"x" * 4_000_000  # more than a pipe holds: its send waits for the reader

    def put_all():
        for i in range(6):
            outbox.put(("chunk", i, big, None))
            done.append(i)

    thread = threading.Thread(target=put_all)
    thread.start()
    time.sleep(0.5)
    assert len(done) == 3  # one being sent, two queued; the fourth waits
    assert [pickle.loads(reader.recv_bytes())[1] for _ in range(6)] == list(range(6))
    thread.join(10)
    outbox.close()
    assert done == list(range(6))
    reader.close()
    writer.close()


def test_a_process_that_cannot_start_falls_back_to_parsing_here(many_files, monkeypatch, warnings):
    from multiprocessing.context import SpawnProcess

    def refuse(self):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(SpawnProcess, "start", refuse)
    inline, inline_report = read(many_files, "inline")
    batches, report = read(many_files, "process")
    assert batches == inline and report.skipped == inline_report.skipped
    assert len(warnings) == 1 and "not started (AssertionError: daemonic" in warnings[0]


def test_auto_mode_parses_small_inputs_and_daemonic_processes_here(tmp_path, monkeypatch):
    path = ohlcv(tmp_path, "X.csv", 300, 60)
    started = []
    monkeypatch.setattr(ahead, "Child", lambda spec: started.append(spec))
    assert len(list(open_stream(path, chunk_bytes=512))) == 300 and started == []

    class Daemonic:
        daemon = True

    monkeypatch.setattr(ahead, "AUTO_BYTES", 0)
    monkeypatch.setattr(ahead.multiprocessing, "current_process", lambda: Daemonic())
    assert len(list(open_stream(path, chunk_bytes=512))) == 300 and started == []


def test_a_script_without_a_main_guard_parses_here_after_one_warning(tmp_path):
    """Its spawned child re-runs the script, fails to start a process of its own and ends: the parent carries on."""
    path = ohlcv(tmp_path, "X.csv", 2000, 60)
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from engine.data import ahead, open_stream
            ahead.HAND_OVER_AT = 0  # wait for the child from the first chunk
            print(sum(1 for _ in open_stream({path!r}, chunk_bytes=512, ahead="process")))
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # the script runs as a file, outside the repository
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2000"
    assert proc.stderr.count("market-data parse process ended") == 1
    assert "parsing here" in proc.stderr and "bootstrapping phase" in proc.stderr


def test_a_backtest_on_bad_data_in_process_mode_stops_and_keeps_no_results(tmp_path, monkeypatch):
    from dataclasses import replace

    from engine.backtest.driver import run_backtest
    from engine.config import Config, DataConfig, OutputConfig

    monkeypatch.setattr(ahead, "AUTO_BYTES", 0)
    monkeypatch.setattr(ahead, "HAND_OVER_AT", 0)
    path = ohlcv(tmp_path, "X.csv", 3000, 60, offset=1_580_515_200)
    lines = Path(path).read_text().splitlines(keepends=True)
    lines[2500] = lines[2500].replace(",10,20,", ",10,abc,")
    Path(path).write_text("".join(lines))
    out = tmp_path / "out"
    config = replace(Config(), data=DataConfig(paths=(path,), format="ohlcv"), output=OutputConfig(dir=str(out)))
    with pytest.raises(DataError) as err:
        run_backtest(config)
    assert (err.value.line, err.value.field) == (2501, "high")
    assert str(err.value) == f"{path}:2501: field 'high': cannot parse 'abc' as a number"
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["X.csv"]
