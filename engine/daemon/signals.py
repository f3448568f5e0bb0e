"""SIGTERM and SIGINT heard by a thread, so a stop starts even while a strategy holds the event loop.

A handler installed with ``loop.add_signal_handler`` runs only when the loop
next turns: behind a strategy taking 200 ms a bar, or one that never returns,
the stop would wait for it. The watcher blocks both signals in every thread
(it must be entered before any other thread starts) and waits for them with
``sigwait`` on its own thread, then calls ``on_signal(name)`` there -- the
daemon's ``request_stop_threadsafe``, which cuts the backlog at once, arms the
stop deadline and posts the stop to the loop.

A thread started before the watcher keeps the signals unblocked, and the
kernel may hand one to it (the default action then ends the process):
``python -m engine run`` blocks them before its first import
(``engine/__main__.py``), since importing numpy starts BLAS threads.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

SIGNALS = {signal.SIGTERM, signal.SIGINT}


class SignalWatcher:
    def __init__(self, on_signal: Callable[[str], None]) -> None:
        self.on_signal = on_signal
        self._thread: threading.Thread | None = None
        self._closing = False
        self._old_mask: set[Any] = set()

    def __enter__(self) -> SignalWatcher:
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        self._thread = threading.Thread(target=self._run, name="signals", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            number = signal.sigwait(SIGNALS)
            if self._closing:
                return
            self.on_signal(signal.Signals(number).name)

    def __exit__(self, *exc: Any) -> None:
        self._closing = True
        if self._thread is not None:
            signal.pthread_kill(self._thread.ident, signal.SIGTERM)  # wakes its sigwait; blocked everywhere else
            self._thread.join(timeout=5.0)
        signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)
