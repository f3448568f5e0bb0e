"""Formatting and writing the result files, in this process or in the writer process: one code path for both.

:class:`Files` turns a chunk of raw data (marks as numpy arrays, or a batch
of rows) into bytes with :mod:`texts` and appends them to its file.
:func:`serve` is the writer process: the same ``Files`` driven by messages
from :class:`~engine.results.output.Output`, so either way the bytes are
the same. This module imports no more than numpy and msgspec: it is all
the writer process loads.
"""

from __future__ import annotations

import signal
import traceback
from multiprocessing.connection import Connection
from typing import IO, Any

import msgspec
import numpy as np

from .texts import csv_rows, line_writer, stamp_bytes, stamp_cells, write_rows

_decode = msgspec.msgpack.Decoder().decode


class WriteError(Exception):
    """Writing a result file failed (here or in the writer process); ``path`` names the file."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


class Files:
    """Open result files by path, each chunk formatted and appended as it comes."""

    def __init__(self) -> None:
        self._files: dict[str, IO[Any]] = {}
        self._lines: dict[str, Any] = {}
        self._specs: dict[str, tuple[bool, str]] = {}

    def open(self, path: str, binary: bool, append: bool, encoding: str, header: bytes = b"") -> None:
        """Create (or, handed over part-written, append to) ``path``; ``header`` starts a new binary file."""
        mode = ("a" if append else "w") + ("b" if binary else "")
        file = open(path, mode) if binary else open(path, mode, newline="", encoding=encoding)  # noqa: SIM115
        self._files[path] = file
        self._specs[path] = (binary, encoding)
        if binary:
            file.write(header)
        else:
            self._lines[path] = line_writer(file)

    def marks(self, path: str, unit: int, ts: np.ndarray, cash: np.ndarray, equity: np.ndarray) -> None:
        """``ts,cash,equity`` rows, timestamps at resolution ``unit`` (the parent decides it: it sees every row)."""
        self._files[path].write(csv_rows(stamp_bytes(ts, unit), cash, equity))

    def rows(self, path: str, unit: int, rows: list[list[Any]], stamp_columns: tuple[int, ...]) -> None:
        """A batch of fills or orders: see :func:`~engine.results.texts.write_rows`."""
        texts = stamp_bytes(stamp_cells(rows, stamp_columns), unit) if stamp_columns else []
        write_rows(rows, stamp_columns, texts, self._lines[path])

    def packed_rows(self, path: str, unit: int, packed: bytes, stamp_columns: tuple[int, ...]) -> None:
        """:meth:`rows`, the rows msgpack-encoded by the parent (output._packed)."""
        self.rows(path, unit, _decode(packed), stamp_columns)

    def detach(self) -> list[tuple[str, bool, str]]:
        """Close every file (all written so far is on disk) and return how to reopen each for appending."""
        specs = [(path, *self._specs[path]) for path in self._files]
        self.close()
        return specs

    def close(self) -> None:
        """Close every file; the first that fails raises :class:`WriteError` once all are closed."""
        failed: WriteError | None = None
        for path, file in self._files.items():
            try:
                file.close()
            except Exception as exc:
                failed = failed or WriteError(path, describe(exc))
        self._files.clear()
        self._lines.clear()
        self._specs.clear()
        if failed is not None:
            raise failed


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def serve(conn: Connection) -> None:
    """The writer process: apply each message to :class:`Files` until ``close``; report how it ended.

    Replies ``("ready",)`` once loaded, then at the end ``("done",)`` or
    ``("failed", path, detail)`` and stops at the first failure. It ignores
    SIGINT and SIGTERM: a Ctrl-C or a service stop goes to the whole process
    group, and the parent (which handles it) still sends the last chunks.
    It ends when the parent closes the pipe, whatever happened to the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    files = Files()
    handlers = {"open": files.open, "marks": files.marks, "rows": files.rows, "packed_rows": files.packed_rows}
    path = ""
    try:
        conn.send(("ready",))
        while True:
            path = ""
            message = conn.recv()
            if message[0] == "close":
                break
            kind, path, *args = message
            handlers[kind](path, *args)
        files.close()
        reply: tuple[str, ...] = ("done",)
    except EOFError:  # the parent is gone without closing: nobody to report to or write for
        return
    except WriteError as exc:
        reply = ("failed", exc.path, exc.detail)
    except BaseException as exc:
        reply = ("failed", path, describe(exc))
    try:
        conn.send(reply)
    except OSError:  # the parent is gone
        pass
    finally:
        conn.close()
