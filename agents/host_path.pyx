# cython: language_level=3, binding=False
"""The strategy host's per-bar hot path, compiled: hand one MarketState to the strategy, then send its orders.

It owns what that path writes every bar (the event time, the current
instrument, the last close per instrument) as typed fields; the host's
Python methods read them from here. As Python this step was a tenth of a
backtest's cost. The strategy's own ``on_bar`` stays user Python.
"""

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_SET_ITEM

from hub.fields cimport field, offset_of

from hub.messages import Bar, MarketState

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject* cls, Py_ssize_t n)  # a new reference, zero-filled


cdef object new_named(type cls, tuple values):
    """``tuple.__new__(cls, values)`` for a namedtuple class, without its argument parsing and second tuple.

    ``tuple.__new__`` builds a plain tuple from its argument and then copies it
    into a new instance of the subclass: ~235 ns, 5% of a backtest's bar.
    """
    cdef Py_ssize_t i, n = PyTuple_GET_SIZE(values)
    cdef object out = PyType_GenericAlloc(<PyTypeObject*> cls, n)
    for i in range(n):
        item = values[i]
        Py_INCREF(item)
        PyTuple_SET_ITEM(out, i, item)
    return out

cdef Py_ssize_t STATE_TS = offset_of(MarketState, "ts")
cdef Py_ssize_t STATE_BAR = offset_of(MarketState, "bar")
cdef Py_ssize_t STATE_REQUESTER = offset_of(MarketState, "requester")
cdef Py_ssize_t STATE_VALUES = offset_of(MarketState, "values")
cdef Py_ssize_t BAR_INSTRUMENT = offset_of(Bar, "instrument")
cdef Py_ssize_t BAR_CLOSE = offset_of(Bar, "close")


cdef class HostPath:
    """``on_state(msg)``: the host's MarketState handler; ``outbox`` holds ``(key, message)`` until it returns."""

    cdef public str name
    cdef public object now  # int nanoseconds of the event being handled
    cdef public str instrument
    cdef public dict last_price
    cdef public list outbox
    cdef object _on_bar
    cdef type _ind_type
    cdef object _flush

    def __init__(self, str name, on_bar, type ind_type, flush):
        if not (issubclass(ind_type, tuple) and ind_type.__basicsize__ == tuple.__basicsize__ and not ind_type.__dictoffset__):
            raise TypeError(f"{ind_type!r} is not a namedtuple-like tuple subclass")
        self.name = name
        self.now = 0
        self.instrument = ""
        self.last_price = {}
        self.outbox = []
        self._on_bar = on_bar
        self._ind_type = ind_type
        self._flush = flush

    def on_state(self, msg):
        if type(msg) is not MarketState:  # a subclass: its fields may sit elsewhere
            msg = MarketState(msg.ts, msg.bar, msg.requester, msg.names, msg.values)
        requester = field(msg, STATE_REQUESTER)
        if requester is not self.name and requester != self.name:
            return
        bar = field(msg, STATE_BAR)
        self.now = field(msg, STATE_TS)
        if type(bar) is Bar:
            instrument = field(bar, BAR_INSTRUMENT)
            close = field(bar, BAR_CLOSE)
        else:
            instrument = bar.instrument
            close = bar.close
        self.instrument = instrument
        self.last_price[instrument] = close
        try:
            self._on_bar(bar, new_named(self._ind_type, field(msg, STATE_VALUES)))
        finally:
            if self.outbox:
                self._flush()
