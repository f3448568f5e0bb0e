"""The child process that parses ahead: chunks and report entries to the parent, in order.

The first message is ``("started",)``, once the imports are done; every
other is ``(kind, index, payload, news)``: ``kind`` is ``"chunk"`` (payload:
the column chunk), ``"end"`` or ``"error"`` (payload: the exception, raised
again in the parent); ``index`` counts the chunks before it; ``news`` is what
the report gained since the previous message, so the parent's report at each
chunk is the one an inline parse would have then.

The main thread parses and pickles; a thread writes to the pipe, at most
``DEPTH`` messages behind: so the parse runs a few chunks ahead of the
parent, and blocks (memory stays flat) when the parent falls further behind.
"""

from __future__ import annotations

import pickle
import queue
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

from engine.data.errors import Report
from engine.data.parse import ParseSpec, merged, open_sources

DEPTH = 4  # pickled chunks waiting for the pipe (~1 MB each)


def serve(conn: Connection, spec: ParseSpec, skip: Any) -> None:
    """Parse ``spec`` and send every chunk, then ``end`` or the ``error`` that stopped it.

    ``skip`` (a shared int) counts the chunks the parent parsed itself while
    this process started: they are parsed here too (the parse's state needs
    them) but neither pickled nor sent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's to handle: it stops us
    report = Report()
    news = News(report)
    outbox = Outbox(conn)
    outbox.put(("started",))
    index = 0
    try:
        for chunk in merged(spec.files, open_sources(spec, report)):
            if index >= skip.value:
                outbox.put(("chunk", index, chunk, news()))
            else:
                news()  # the parent has these entries: its own parse found them
            index += 1
        last: tuple[Any, ...] = ("end", index, None, news())
    except ParentGone:  # it stopped reading: nobody to tell
        return
    except BaseException as exc:
        last = ("error", index, portable(exc), news())
    try:
        outbox.put(last)
    except ParentGone:
        return
    outbox.close()


class ParentGone(Exception):
    """The parent closed the pipe (it finished early or ended): stop parsing."""


class News:
    """Calling it returns the report entries added since the last call, and ``rows_read`` as it stands."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.skipped = 0
        self.filtered = 0
        self.notes = 0

    def __call__(self) -> tuple[list, list, dict[str, int], list[str]]:
        report = self.report
        skipped, filtered = report.skipped[self.skipped :], report.filtered[self.filtered :]
        notes = report.notes[self.notes :]
        self.skipped, self.filtered, self.notes = len(report.skipped), len(report.filtered), len(report.notes)
        return skipped, filtered, dict(report.rows_read), notes


def portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class Outbox:
    """Pickles here, writes to the pipe from a thread; :meth:`put` blocks while ``depth`` messages wait."""

    def __init__(self, conn: Connection, depth: int = DEPTH) -> None:
        self._conn = conn
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="market-data-outbox", daemon=True)
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> None:
        """Queue a message; :class:`ParentGone` once a write failed (so the parse stops)."""
        if self._failed:
            raise ParentGone
        self._queue.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """Send what is queued, then return."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            if not self._failed:  # after a failure the rest is drained unsent: put() never blocks for ever
                try:
                    self._conn.send_bytes(payload)
                except OSError:
                    self._failed = True
