"""aiodebug's slow-callback report on stdlib loops, installed at most once per process.

``aiodebug.log_slow_callbacks.enable`` monkey-patches ``asyncio.events.Handle._run``
for the whole process: it has no disable, and a second call wraps the patch
again, so every slow callback would be reported once per call ever made. So
this module keeps the one piece of process-wide state in the package: the
patch, installed on first use, which dispatches each report to the sessions
registered for the thread it happens on (a session registers for its loop's
thread and unregisters when it closes). It does nothing on uvloop, whose
handles are Cython: the stall watchdog covers hub handlers there.

aiodebug's threshold is fixed when the patch goes in, so it is installed at
:data:`FLOOR_S` (or lower if the first session asks for less) and each session
filters by its own threshold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from aiodebug import log_slow_callbacks

FLOOR_S = 0.010

Sink = Callable[[str, float], None]


class _ProcessWidePatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.installed_at: float | None = None
        self._sinks: dict[int, list[tuple[float, Sink]]] = {}

    def register(self, threshold_s: float, sink: Sink) -> Callable[[], None]:
        """Send this thread's callbacks of ``threshold_s`` or more to ``sink(name, seconds)``; returns the unregister."""
        entry = (threshold_s, sink)
        thread = threading.get_ident()
        with self._lock:
            if self.installed_at is None:
                self.installed_at = min(threshold_s, FLOOR_S)
                log_slow_callbacks.enable(self.installed_at, on_slow_callback=self._dispatch)
            self._sinks = {**self._sinks, thread: [*self._sinks.get(thread, ()), entry]}

        def unregister() -> None:
            with self._lock:
                sinks = dict(self._sinks)
                remaining = [e for e in sinks.pop(thread, ()) if e is not entry]
                if remaining:
                    sinks[thread] = remaining
                self._sinks = sinks

        return unregister

    def _dispatch(self, name: str, seconds: float) -> None:
        # Runs on the loop's thread inside Handle._run; ``_sinks`` is replaced, never mutated, so no lock.
        for threshold, sink in self._sinks.get(threading.get_ident(), ()):
            if seconds >= threshold:
                try:
                    sink(name, seconds)
                except Exception:  # raising here would escape Handle._run and break the loop
                    pass


_PATCH = _ProcessWidePatch()  # the process-wide patch; see the module docstring for why it is global


def register(threshold_s: float, sink: Sink) -> Callable[[], None]:
    return _PATCH.register(threshold_s, sink)


def installed_threshold() -> float | None:
    """The threshold aiodebug was installed with, or None before the first session."""
    return _PATCH.installed_at
