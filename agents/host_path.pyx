# cython: language_level=3, binding=False
"""The strategy host's books and hot path, compiled: the strategy's context, and the hub handlers that feed it.

:class:`HostPath` is what a strategy's ``self._ctx`` is (it implements
:class:`strategies.api.StrategyContext`): ``submit``, ``position`` and the
rest are C calls from the strategy's Python. It owns what every bar and
every order touches (the event time, the current instrument, the last close
per instrument, the mirrored cash and positions, the open order ids) and
handles MarketState, Fill, OrderRejected, OrderCanceled and EndOfData. The
agent (:mod:`agents.strategy_host`) wires it. As Python, the per-bar step
was a tenth of a backtest's cost, and the host's share of an order (submit,
publish, fill) a quarter of the order flow. The strategy's own hooks stay
user Python.
"""

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_SET_ITEM

from hub.fields cimport field, offset_of

from hub import marking
from hub.messages import (
    BUY, LIMIT, MARKET, SELL, STOP, STOP_LIMIT, Bar, CancelOrder, Fill, MarketState, SubmitOrder,
)
from strategies.api import Position

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
cdef Py_ssize_t FILL_TS = offset_of(Fill, "ts")
cdef Py_ssize_t FILL_ORDER_ID = offset_of(Fill, "order_id")
cdef Py_ssize_t FILL_INSTRUMENT = offset_of(Fill, "instrument")
cdef Py_ssize_t FILL_REMAINING = offset_of(Fill, "remaining")
cdef Py_ssize_t FILL_POSITION = offset_of(Fill, "position")
cdef Py_ssize_t FILL_CASH = offset_of(Fill, "cash")
cdef Py_ssize_t FILL_AVG_PRICE = offset_of(Fill, "avg_price")

cdef object FLAT = Position(size=0.0, avg_price=0.0)


cdef class HostPath:
    """One strategy's context and handlers; ``bind`` gives it the strategy once the strategy exists.

    ``outbox`` holds ``(publish, message)`` made by a hook until the hook
    returns (even if it raised): the broker never answers while the strategy
    is still deciding. ``positions`` is the account's, from the fills (each
    carries cash, position and average price after it), in first-trade
    order; flat ones stay (that order).
    """

    cdef public str name
    cdef public object now  # int nanoseconds of the event being handled
    cdef public str instrument
    cdef public dict last_price
    cdef public list outbox
    cdef public double balance  # the account's cash, after the last fill
    cdef public dict positions
    cdef public dict open  # order id -> instrument
    cdef public long long seq  # the number of the last order id issued
    cdef object _strategy
    cdef object _on_bar
    cdef type _ind_type
    cdef object _submit
    cdef object _cancel

    def __init__(self, str name, double cash, submit, cancel):
        """``submit``/``cancel``: the publishers of SubmitOrder and CancelOrder."""
        self.name = name
        self.now = 0
        self.instrument = ""
        self.last_price = {}
        self.outbox = []
        self.balance = cash
        self.positions = {}
        self.open = {}
        self.seq = 0
        self._submit = submit
        self._cancel = cancel

    def bind(self, strategy, type ind_type):
        """The strategy this context serves, and the namedtuple type its ``ind`` comes in."""
        if not (issubclass(ind_type, tuple) and ind_type.__basicsize__ == tuple.__basicsize__ and not ind_type.__dictoffset__):
            raise TypeError(f"{ind_type!r} is not a namedtuple-like tuple subclass")
        self._strategy = strategy
        self._on_bar = strategy.on_bar
        self._ind_type = ind_type

    # ------------------------------------------------------------ hub handlers

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
                self.flush()

    def on_fill(self, fill):
        """Every fill updates the mirrored books (the account is shared); only our own orders' reach the strategy."""
        if type(fill) is not Fill:
            fill = Fill(fill.ts, fill.order_id, fill.instrument, fill.side, fill.size, fill.price, fill.commission,
                        fill.remaining, fill.position, fill.cash, fill.avg_price)
        self.balance = field(fill, FILL_CASH)
        self.positions[field(fill, FILL_INSTRUMENT)] = Position(field(fill, FILL_POSITION), field(fill, FILL_AVG_PRICE))
        order_id = field(fill, FILL_ORDER_ID)
        if order_id not in self.open:
            return
        if field(fill, FILL_REMAINING) <= 0:
            del self.open[order_id]
        self.now = field(fill, FILL_TS)
        self.call(self._strategy.on_fill, fill)

    def on_reject(self, msg):
        if self.open.pop(msg.order_id, None) is None:
            return
        self.now = msg.ts
        self.call(self._strategy.on_reject, msg)

    def on_cancel(self, msg):
        if self.open.pop(msg.order_id, None) is None:
            return
        self.now = msg.ts
        self.call(self._strategy.on_cancel, msg)

    def on_end(self, msg):
        self.now = msg.ts
        self.call(self._strategy.on_stop)

    def call(self, hook, *args):
        """Run a strategy hook, then publish the orders it made, even if it raised."""
        try:
            hook(*args)
        finally:
            if self.outbox:
                self.flush()

    cpdef flush(self):
        outbox = self.outbox[:]  # orders made while these publish are flushed by the hook that made them
        del self.outbox[:]
        for publish, msg in outbox:
            publish(msg)

    # ------------------------------------------------------------ StrategyContext

    def submit(self, side, size, instrument, limit, stop):
        if side != BUY and side != SELL:
            raise ValueError(f"side must be BUY or SELL, got {side!r}")
        instrument = instrument or self.instrument
        if not instrument:
            raise ValueError("no instrument given and no bar seen yet")
        if limit is not None and stop is not None:
            order_type = STOP_LIMIT
        elif limit is not None:
            order_type = LIMIT
        elif stop is not None:
            order_type = STOP
        else:
            order_type = MARKET
        self.seq += 1
        order_id = f"{self.name}-{self.seq}"
        self.open[order_id] = instrument
        self.outbox.append((self._submit, SubmitOrder(
            self.now, order_id, self.name, instrument, side, float(size),
            order_type, limit, stop, self.last_price.get(instrument, 0.0),
        )))
        return order_id

    def cancel(self, order_id):
        if order_id in self.open:
            self.outbox.append((self._cancel, CancelOrder(ts=self.now, order_id=order_id)))

    def position(self, instrument=None):
        return self.positions.get(instrument or self.instrument, FLAT)

    def open_orders(self, instrument=None):
        instrument = instrument or self.instrument
        if not self.open:
            return []
        return [oid for oid, inst in self.open.items() if inst == instrument]

    def cash(self):
        return self.balance

    def value(self):
        last = self.last_price
        return marking.equity(self.balance, [
            (p.size, p.avg_price, last.get(i, p.avg_price)) for i, p in self.positions.items() if p.size
        ])
