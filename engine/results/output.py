"""Where the result files' chunks go: formatted and written here, or handed to one writer process.

Formatting the CSV text on the replay's thread was 15-20% of a long
backtest; a second core can do it. The ``mode``:

* ``"inline"``: written here.
* ``"process"``: every chunk goes to the writer process, started at once.
* ``"auto"``: written here until a first full chunk, so a short run pays no
  process start; then the process is started and, once it says it is ready,
  the files are closed here and handed over (it appends to them). The replay
  never waits for the start-up. Never from a daemonic process (a sweep's
  worker: it may not have children, and the cores are taken) nor on one CPU.

Chunks go through the pipe from a thread a few chunks ahead (sender.py):
when the writer falls further behind, the replay blocks, so memory stays
flat. A write failure is sticky: later chunks are dropped and
:meth:`Output.close` raises :class:`WriteError` naming the file. The writer
process is gone once ``close`` returns or raises (and at exit if ``close``
was never called). It is started with ``spawn``: the parent runs an event
loop and threads, which ``fork`` would copy mid-flight. Like every spawned
child it first imports the parent's main script, if it was run as a file
(not ``-m``): such a script must keep its run under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import locale
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from engine.runtime import children

from .sender import Sender
from .writer import Files, WriteError, describe, serve

_encode = msgspec.msgpack.Encoder().encode

MODES = ("auto", "inline", "process")


class Output:
    """The result files of one run, by path: :meth:`create`, then chunks of :meth:`marks` or :meth:`rows`, then :meth:`close`."""

    def __init__(self, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"writer mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self._encoding = locale.getpreferredencoding(False)  # open()'s default, fixed here for the writer process too
        self._files: Files | None = Files()  # None once the files are handed over
        self._paths: list[str] = []
        self.process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._sender: Sender | None = None
        self._ready = False
        self._answered = False  # the process said done or failed: it is exiting by itself
        self._ending = False
        self._closed = False
        self._failed: WriteError | None = None
        self._may_start = mode == "auto" and children.may_spawn()
        if mode == "process":
            self._start()
            self._hand_over()

    def create(self, path: Path, binary: bool, header: bytes = b"") -> None:
        """A new file; ``binary`` ones start with ``header``, text ones get lines of CSV."""
        self._paths.append(str(path))
        self._write(("open", str(path), binary, False, self._encoding, header))

    def marks(self, path: Path, unit: int, ts: np.ndarray, cash: np.ndarray, equity: np.ndarray) -> None:
        self._write(("marks", str(path), unit, ts, cash, equity))

    def rows(self, path: Path, unit: int, rows: list[list[Any]], stamp_columns: tuple[int, ...]) -> None:
        self._write(("rows", str(path), unit, rows, stamp_columns))

    def ending(self) -> None:
        """The chunks that follow are the run's last, partial ones: no process is started or handed over for them."""
        self._ending = True

    def close(self) -> None:
        """Finish every file and stop the writer process; raises :class:`WriteError` if a file could not be written."""
        if self._closed:
            if self._failed is not None:
                raise self._failed
            return
        self._ending = self._closed = True
        try:
            if self._files is not None:
                try:
                    self._files.close()
                except WriteError as exc:
                    self._failed = self._failed or exc
            elif self._failed is None:
                self._finish()
        finally:
            self._stop()
        if self._failed is not None:
            raise self._failed

    # ------------------------------------------------------------ here or there

    def _write(self, message: tuple[Any, ...]) -> None:
        if self._closed:
            raise ValueError(f"{message[1]}: written after the results were closed")
        if self._failed is not None:
            return
        if self._files is not None and self.process is not None and not self._ending and self._is_ready():
            self._hand_over()
        if self._files is None:
            self._send(_packed(message) if message[0] == "rows" else message)
            return
        kind, path, *args = message
        try:
            getattr(self._files, kind)(path, *args)
        except Exception as exc:
            self._failed = WriteError(path, describe(exc))
            raise self._failed from exc
        if self._may_start and kind != "open" and not self._ending:
            self._may_start = False
            try:
                self._start()
            except Exception as exc:
                if children.bootstrapping():
                    raise  # a spawned child re-running an unguarded script: fail, do not run it here
                _warn(f"results writer process not started ({describe(exc)}); writing here")

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        conn, child = context.Pipe()
        process = context.Process(target=serve, args=(child,), name="results-writer", daemon=True)
        try:
            process.start()
        except BaseException:
            conn.close()
            raise
        finally:
            child.close()
        self.process, self._conn = process, conn
        children.live.add(process)
        self._sender = Sender(conn)

    def _hand_over(self) -> None:
        """Close the files here (all written so far is on disk) and have the process reopen them to append."""
        files, self._files = self._files, None
        assert files is not None
        try:
            specs = files.detach()
        except WriteError as exc:
            self._failed = exc
            raise
        for path, binary, encoding in specs:
            self._send(("open", path, binary, True, encoding, b""))

    def _is_ready(self) -> bool:
        if not self._ready:
            self._poll()
        return self._ready

    def _send(self, message: tuple[Any, ...]) -> None:
        self._poll()  # a failure reported since the last chunk
        if self._failed is not None:
            return
        assert self._sender is not None
        try:
            self._sender.put(message)  # blocks while the writer is a few chunks behind
        except Exception as exc:  # a cell pickle cannot carry: the file would lack the chunk
            self._failed = WriteError(message[1] or ", ".join(self._paths), f"not sent to the writer process: {describe(exc)}")
            raise self._failed from exc
        if self._sender.error is not None:  # it stopped reading: its report, if it left one, says why
            self._poll()
            self._lost()

    def _poll(self) -> None:
        """Read what the process has said: ready, or failed."""
        if self._conn is None or self._answered:
            return
        try:
            while self._conn.poll():
                self._heard(self._conn.recv())
        except (EOFError, OSError):
            self._lost()

    def _heard(self, reply: tuple[Any, ...]) -> None:
        if reply[0] == "ready":
            self._ready = True
        elif reply[0] == "failed":
            self._answered = True
            path = reply[1] or ", ".join(self._paths)  # no path: a message it could not read
            self._failed = self._failed or WriteError(path, f"the results writer process failed: {reply[2]}")
        elif reply[0] == "done":
            self._answered = True

    def _lost(self) -> None:
        """The process is gone without a word: before the hand-over it had nothing, after it everything is incomplete."""
        if self._files is not None:
            _warn("results writer process ended before it was ready; writing here")
            self._stop()
            self.process = None
            return
        if self._failed is None:
            code = self.process.exitcode if self.process is not None else None
            self._failed = WriteError(", ".join(self._paths), f"the results writer process died (exit code {code})")

    def _finish(self) -> None:
        """Tell the process to close the files and wait until it has written everything."""
        self._send(("close",))
        assert self._conn is not None
        try:
            while not self._answered and self._failed is None:
                self._heard(self._conn.recv())
        except (EOFError, OSError):
            self._lost()

    def _stop(self) -> None:
        """The process gone by its own handle: joined if it answered, else killed (it ignores SIGTERM); the sender ended."""
        process, conn, sender = self.process, self._conn, self._sender
        if process is None or conn is None:
            return
        self._conn = self._sender = None
        try:
            children.stop(process, self._answered)
        finally:
            if sender is not None:
                sender.close(timeout=10)  # its pending send, if any, failed when the process went
            conn.close()


def _packed(message: tuple[Any, ...]) -> tuple[Any, ...]:
    """A rows message with its rows as msgpack bytes: pickling lists of cells cost ~6x more, on the replay's thread.

    msgspec encodes exactly int, float, str, None and bool (no subclass, no
    numpy scalar), so the writer decodes the very cells the rows held; a row
    with anything else keeps the pickled message, whose cells round-trip as
    they are.
    """
    kind, path, unit, rows, stamp_columns = message
    try:
        return ("packed_rows", path, unit, _encode(rows), stamp_columns)
    except (TypeError, OverflowError):
        return message


def _warn(message: str) -> None:
    children.warn("recorder", message)


