"""The stop's deadline, kept by a thread: it holds even when a strategy never gives the loop back.

Armed when a stop is requested; disarmed when the daemon has finished. If
the deadline passes first, the loop is stuck (a strategy in an endless
loop), and no code on it can run: the thread calls ``on_expiry`` itself --
in the command-line daemon, which fsyncs the journal and ends the process
with a non-zero code (every record written so far is already in the file,
so a restart recovers the books).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import logwood


class StopDeadline:
    def __init__(self, seconds: float, on_expiry: Callable[[], None] | None) -> None:
        self.seconds = seconds
        self.on_expiry = on_expiry
        self.expired = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._done = False

    def arm(self) -> None:
        """Start counting (once; from any thread)."""
        with self._lock:
            if self._timer is not None or self._done:
                return
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.name = "stop-deadline"
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
        logwood.get_logger("daemon").error("Stop deadline of %.1f s passed and the loop is still busy", self.seconds)
        if self.on_expiry is not None:
            self.on_expiry()
