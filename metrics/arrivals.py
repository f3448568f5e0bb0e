"""Arrival stamps of market events, for the event -> order latency: on every bar, so compiled where it can be.

Both stamps of a latency come from ``time.perf_counter`` (monotonic). Plain
Python, compiled by Cython when a C compiler is there (``arrivals.pxd``).
"""

from time import perf_counter


class Arrivals:
    """``on_market(msg)`` stamps the latest arrival per instrument; ``on_submit(order)`` records a latency.

    The latest instrument's stamp is kept in a field of its own and goes
    into the dict only when another instrument's event arrives: a
    single-instrument stream never touches the dict (a store was a third of
    the stamp's cost).
    """

    def __init__(self, latencies_ms):
        self._at = {}  # instrument -> perf_counter seconds of its latest market event (but the current one's)
        self._current = None  # the instrument of the latest event, whose stamp is ``_current_at``
        self._current_at = 0.0
        self.latencies_ms = latencies_ms  # the probe's list: appended to, never replaced

    def on_market(self, msg):
        instrument = msg.instrument
        current = self._current
        if instrument is not current and instrument != current:
            if current is not None:
                self._at[current] = self._current_at
            self._current = instrument
        self._current_at = perf_counter()

    def on_submit(self, msg):
        instrument = msg.instrument
        if self._current is not None and (instrument is self._current or instrument == self._current):
            arrived = self._current_at
        else:
            arrived = self._at.get(instrument)
            if arrived is None:
                return
        self.latencies_ms.append((perf_counter() - arrived) * 1000.0)
