"""Messages to the writer process, written to the pipe by a thread a few messages ahead.

Sent from the replay's thread, a chunk waited whenever the writer process
was still formatting the previous one (fills and orders batches come in
pairs) or waiting for the scheduler to run it: ~10 ms a batch, a third of
what moving the formatting saved. Here the replay's thread only pickles;
the write (one system call, the GIL released) waits on its own thread. At
most ``depth`` messages wait in memory: then :meth:`Sender.put` blocks, so
the replay slows to the writer's pace rather than queueing without bound.
"""

from __future__ import annotations

import pickle
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

DEPTH = 4  # messages queued: a burst of fills, orders and equity chunks (~1.5 MB each at most)


class Sender:
    """Pickles messages here and sends them in order from a daemon thread; ``error`` holds a failed send's error."""

    def __init__(self, conn: Connection, depth: int = DEPTH) -> None:
        self._conn = conn
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="results-sender", daemon=True)
        self._thread.start()

    def put(self, message: tuple[Any, ...]) -> None:
        """Queue a message (blocks while ``depth`` wait); a no-op once a send has failed."""
        if self.error is None:
            self._queue.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued and end the thread; False if it is still sending after ``timeout`` seconds."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            if self.error is None:  # after a failure the rest is drained unsent: put() never blocks for ever
                try:
                    self._conn.send_bytes(payload)
                except Exception as exc:  # OSError when the process is gone
                    self.error = exc
