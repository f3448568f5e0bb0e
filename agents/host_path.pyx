# cython: language_level=3
"""The strategy host's per-bar hot path, compiled: hand one MarketState to the strategy, then send its orders.

It owns what that path writes every bar (the event time, the current
instrument, the last close per instrument) as typed fields; the host's
Python methods read them from here. As Python this step was a tenth of a
backtest's cost. The strategy's own ``on_bar`` stays user Python.
"""

_new_tuple = tuple.__new__


cdef class HostPath:
    """``on_state(msg)``: the host's MarketState handler; ``outbox`` holds ``(key, message)`` until it returns."""

    cdef public str name
    cdef public object now  # int nanoseconds of the event being handled
    cdef public str instrument
    cdef public dict last_price
    cdef public list outbox
    cdef object _on_bar
    cdef object _ind_type
    cdef object _flush

    def __init__(self, str name, on_bar, ind_type, flush):
        self.name = name
        self.now = 0
        self.instrument = ""
        self.last_price = {}
        self.outbox = []
        self._on_bar = on_bar
        self._ind_type = ind_type
        self._flush = flush

    def on_state(self, msg):
        requester = msg.requester
        if requester is not self.name and requester != self.name:
            return
        bar = msg.bar
        self.now = msg.ts
        instrument = bar.instrument
        self.instrument = instrument
        self.last_price[instrument] = bar.close
        try:
            self._on_bar(bar, _new_tuple(self._ind_type, msg.values))
        finally:
            if self.outbox:
                self._flush()
