"""Parse in a child process ahead of the replay, so parsing and replay use both cores.

The replay is single-threaded Python; parsing (~0.7 s a million rows) ran on
the same thread between its batches. Here a child process (ahead_child.py)
parses and pipes the column chunks over; the parent only builds ``Bar``
lists from them. The ``ahead`` mode of a stream:

* ``"inline"``: parse here.
* ``"process"``: parse in a child process.
* ``"auto"``: a child process when the files total ``AUTO_BYTES`` or more (a
  small input would not repay the start), there is more than one CPU and this
  is not a daemonic process (a sweep's worker: no children, cores taken).

Starting the child takes a few hundred ms (a fresh interpreter importing
numpy), so meanwhile the parent parses here, checking between chunks whether
the child has said it started. From then on it takes the child's chunks,
from the one it needs next: the child parses the earlier ones too (the parse
carries state from chunk to chunk) but does not send them nor their report
entries. Parsing is deterministic: the chunks and the report are the same
either way. (Racing the child instead, parsing here until the child caught
up, parsed those chunks twice at once and lost on a busy machine.) If the
child cannot start, or ends before it said it started (a script without an
``if __name__ == "__main__":`` guard: the child re-runs it and fails there),
the parse goes on here after one warning.

A failure in the child is raised from the iteration as the same exception.
The child ends with the iteration: exhausted, failed, closed or garbage
collected (the generator's ``finally``), and at the latest at exit. It is
started with ``spawn``: the parent runs an event loop and threads, which
``fork`` would copy mid-flight.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from engine.data.ahead_child import serve
from engine.data.errors import Report
from engine.data.parse import ParseSpec
from engine.runtime import children

MODES = ("auto", "inline", "process")
AUTO_BYTES = 8 << 20  # ~150k minute bars: below this, the child would start about when the parse is done
HAND_OVER_AT: int | None = None  # None: parse here until the child has started; n: the first n chunks (tests)
PIPE_BYTES = 1 << 20  # room for a whole chunk: the parent reads it in one go, not as the child writes it


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"ahead must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def runs_ahead(mode: str, files: tuple[str, ...]) -> bool:
    """Whether ``mode`` parses ``files`` in a child process."""
    if mode != "auto":
        return mode == "process"
    return sum(os.path.getsize(f) for f in files) >= AUTO_BYTES and children.may_spawn()


def chunks_ahead(spec: ParseSpec, report: Report, inline: Generator) -> Iterator:
    """The chunks of ``inline`` (this process's own parse of ``spec``), mostly parsed by a child process.

    ``report`` gets the child's entries as its chunks are yielded.
    """
    try:
        child = Child(spec)
    except Exception as exc:
        if children.bootstrapping():
            raise  # we are a spawned child re-running an unguarded script: fail, as multiprocessing means to
        _warn(f"market-data parse process not started ({type(exc).__name__}: {exc}); parsing here")
        yield from inline
        return
    try:
        yield from _hand_over(child, report, inline)
    finally:
        child.stop()


def _hand_over(child: Child, report: Report, inline: Generator) -> Iterator:
    index = 0  # chunks yielded so far
    while True:
        try:
            if _started(child, index):
                break
        except ChildGone as gone:
            _warn(f"{gone} before it started; parsing here")
            yield from inline
            return
        chunk = next(inline, None)
        if chunk is None:  # done here before the child started
            return
        index += 1
        child.skip.value = index  # parsed here: the child need not send it
        yield chunk
    inline.close()  # the files read here
    message = child.message_for(index)
    while True:
        kind, _, payload, news = message
        skipped, filtered, rows_read, notes = news
        report.skipped.extend(skipped)
        report.filtered.extend(filtered)
        report.rows_read.update(rows_read)
        report.notes.extend(notes)
        if kind == "end":
            return
        if kind == "error":
            payload.add_note("(raised in the market-data parse process)")
            raise payload
        yield payload
        message = child.recv()


def _started(child: Child, index: int) -> bool:
    """Whether to take the chunks from the child from chunk ``index`` on."""
    if HAND_OVER_AT is None:
        return child.started(wait=False)
    return index >= HAND_OVER_AT and child.started(wait=True)


class ChildGone(RuntimeError):
    """The child closed the pipe without a last message (killed, or it failed to start)."""


class Child:
    """One parse process and the read end of its pipe."""

    def __init__(self, spec: ParseSpec) -> None:
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        _widen(reader)
        self.skip = context.RawValue("q", 0)  # chunks parsed here meanwhile
        process = context.Process(
            target=serve, args=(writer, spec, self.skip), name="market-data-parse", daemon=True
        )
        try:
            process.start()
        except BaseException:
            reader.close()
            raise
        finally:
            writer.close()
        self.process: BaseProcess = process
        self.conn: Connection = reader
        self.heard = False  # its first message came: it is running
        self.finished = False  # its last message came: it is exiting by itself
        children.live.add(process)

    def started(self, wait: bool) -> bool:
        """Whether it said it is running (its imports done); ChildGone if it ended first."""
        if not self.heard and (wait or self.conn.poll()):
            self.recv()
        return self.heard

    def message_for(self, index: int) -> tuple[Any, ...]:
        """The message for chunk ``index``, dropping earlier chunks (sent before it knew they were parsed here)."""
        while True:
            message = self.recv()
            if message[0] != "chunk" or message[1] >= index:
                return message

    def recv(self) -> tuple[Any, ...]:
        try:
            message = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            self.process.join(timeout=1)
            raise ChildGone(
                f"the market-data parse process ended (exit code {self.process.exitcode})"
            ) from None
        self.heard = True
        self.finished = message[0] in ("end", "error")
        return message

    def stop(self) -> None:
        """Gone, by its own handle: joined if it finished, else killed."""
        self.conn.close()
        try:
            children.stop(self.process, self.finished)
        finally:
            self.process.close()


def _widen(conn: Connection) -> None:
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the system's limit: a smaller pipe
        pass


def _warn(message: str) -> None:
    children.warn("market_data", message)


