# cython: language_level=3, boundscheck=False, wraparound=False, binding=False
"""One instrument's per-bar update, compiled: push the bar's fields, return every indicator's value.

Built by :meth:`InstrumentState._wire` whenever its sources or indicators
change. An SMA on its source's exact path is read here directly
(``Source.window_mean``); any other indicator, and an SMA off that path
(warming up, a value outside the exact range), runs its own ``update()``.
"""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

from agents.model_state.source cimport Source
from hub.fields cimport field, offset_of

from hub.messages import Bar

cdef Py_ssize_t BAR_TS = offset_of(Bar, "ts")
cdef Py_ssize_t BAR_INSTRUMENT = offset_of(Bar, "instrument")


cdef class Kernel:
    """``update(bar)``: push the bar's fields into the sources, return every indicator's value."""

    def __init__(self, fields, sources, updates, sma_sources, periods):
        self._fields = tuple(fields)
        self._offsets = tuple([offset_of(Bar, name) for name in self._fields])
        self._sources = tuple(sources)
        self._updates = tuple(updates)
        self._sma_sources = tuple(sma_sources)
        self._periods = tuple(periods)

    def update(self, bar):
        """Push ``bar``'s fields into the sources; every indicator's value, in order."""
        return self.compute(bar)

    cdef tuple compute(self, bar):
        cdef Py_ssize_t i, n = len(self._sources)
        cdef Py_ssize_t period
        cdef Source src
        cdef object value
        cdef bint exact = type(bar) is Bar
        for i in range(n):
            src = <Source> self._sources[i]
            if exact:
                src.push(field(bar, <Py_ssize_t> self._offsets[i]))
            else:
                src.push(getattr(bar, <str> self._fields[i]))
        n = len(self._updates)
        cdef tuple out = PyTuple_New(n)
        for i in range(n):
            candidate = self._sma_sources[i]
            if candidate is not None:
                src = <Source> candidate
                period = <Py_ssize_t> self._periods[i]
                if src.run >= period:
                    value = src.window_mean(period)
                else:
                    value = self._updates[i]()
            else:
                value = self._updates[i]()
            Py_INCREF(value)
            PyTuple_SET_ITEM(out, i, value)
        return out


cdef class StatePublisher:
    """The model state agent's bar handler: update the bar's instrument, publish a MarketState per requester.

    ``routes`` holds ``(requester, names, pick)``: ``pick`` cuts a requester's
    values out of the shared tuple (None: all of them, in order).
    """

    cdef dict _states
    cdef object _new_state
    cdef object _publish
    cdef object _make
    cdef public tuple routes

    def __init__(self, dict states, new_state, publish, make):
        self._states = states
        self._new_state = new_state
        self._publish = publish
        self._make = make
        self.routes = ()

    def on_bar(self, bar):
        if type(bar) is Bar:
            instrument = field(bar, BAR_INSTRUMENT)
            ts = field(bar, BAR_TS)
        else:
            instrument = bar.instrument
            ts = bar.ts
        state = self._states.get(instrument)
        if state is None:
            state = self._new_state(instrument)
        cdef tuple values = (<Kernel> state.kernel).compute(bar)
        publish = self._publish
        make = self._make
        for route in self.routes:  # positional: keyword construction costs more
            requester, names, pick = <tuple> route
            publish(make(ts, bar, requester, names, values if pick is None else pick(values)))
