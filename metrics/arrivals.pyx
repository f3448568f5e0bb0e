# cython: language_level=3, binding=False
"""Arrival stamps of market events, for the event -> order latency: compiled, because it runs on every bar.

As a Python closure the stamp cost ~1,600 CPU instructions a bar (a third
handler on ``md.bar``, a ``perf_counter`` call, a float and a dict store):
two thirds of what metrics added to a backtest. Here the handler is a C
method and the clock is read with ``clock_gettime(CLOCK_MONOTONIC)``, the
clock behind ``time.perf_counter`` on Linux; both stamps of a latency come
from it.
"""

from hub.fields cimport field, offset_of

from hub.messages import Bar

cdef extern from "<time.h>" nogil:
    ctypedef long time_t
    cdef struct timespec:
        time_t tv_sec
        long tv_nsec
    int clock_gettime(int clock_id, timespec* tp)
    int CLOCK_MONOTONIC

cdef Py_ssize_t BAR_INSTRUMENT = offset_of(Bar, "instrument")


cdef inline double now():
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)
    return t.tv_sec + t.tv_nsec * 1e-9


cdef class Arrivals:
    """``on_market(msg)`` stamps the latest arrival per instrument; ``on_submit(order)`` records a latency.

    The latest instrument's stamp is kept in a C field and goes into the
    dict only when another instrument's event arrives: a single-instrument
    stream never touches the dict (a store was a third of the stamp's cost).
    """

    cdef dict _at  # instrument -> monotonic seconds of its latest market event (but the current one's)
    cdef object _current  # the instrument of the latest event, whose stamp is ``_current_at``
    cdef double _current_at
    cdef list latencies_ms  # the probe's list: appended to, never replaced

    def __init__(self, list latencies_ms):
        self._at = {}
        self._current = None
        self._current_at = 0.0
        self.latencies_ms = latencies_ms

    def on_market(self, msg):
        instrument = field(msg, BAR_INSTRUMENT) if type(msg) is Bar else msg.instrument
        current = self._current
        if instrument is not current and instrument != current:
            if current is not None:
                self._at[current] = self._current_at
            self._current = instrument
        self._current_at = now()

    def on_submit(self, msg):
        cdef double arrived
        instrument = msg.instrument
        if self._current is not None and (instrument is self._current or instrument == self._current):
            arrived = self._current_at
        else:
            found = self._at.get(instrument)
            if found is None:
                return
            arrived = found
        self.latencies_ms.append((now() - arrived) * 1000.0)
