# cython: language_level=3, binding=False
"""The broker's open orders, and only those.

Completed, rejected and canceled orders are dropped at once: the broker's
per-event cost must not grow with history (results are recorded by another
agent from the published events). Orders are grouped per instrument so a bar
only touches its own instrument's orders, and a bar of an instrument with no
orders costs one dict lookup.
"""

from hub.fields cimport field, offset_of

from hub.messages import BUY, LIMIT, MARKET, STOP, STOP_LIMIT, SubmitOrder

cdef Py_ssize_t TS = offset_of(SubmitOrder, "ts")
cdef Py_ssize_t ORDER_ID = offset_of(SubmitOrder, "order_id")
cdef Py_ssize_t STRATEGY = offset_of(SubmitOrder, "strategy")
cdef Py_ssize_t INSTRUMENT = offset_of(SubmitOrder, "instrument")
cdef Py_ssize_t SIDE = offset_of(SubmitOrder, "side")
cdef Py_ssize_t SIZE = offset_of(SubmitOrder, "size")
cdef Py_ssize_t ORDER_TYPE = offset_of(SubmitOrder, "order_type")
cdef Py_ssize_t LIMIT_PRICE = offset_of(SubmitOrder, "limit_price")
cdef Py_ssize_t STOP_PRICE = offset_of(SubmitOrder, "stop_price")
cdef Py_ssize_t SIGNAL_PRICE = offset_of(SubmitOrder, "signal_price")


cdef class OpenOrder:
    """A live order: its request, what is left to fill, and the stop-limit trigger state.

    ``created_price`` is what backtrader calls ``order.created.price`` and
    prices the submit-time cash check: the signal close for market orders,
    the limit for limits, the stop for stops and stop-limits.

    Compiled with typed fields: the broker's order work (compiled too, in
    :mod:`agents.broker.bar_path`) reads them on every order event.
    """

    def __init__(self, msg):
        if type(msg) is not SubmitOrder:  # a subclass: its fields may sit elsewhere
            msg = SubmitOrder(msg.ts, msg.order_id, msg.strategy, msg.instrument, msg.side, msg.size,
                              msg.order_type, msg.limit_price, msg.stop_price, msg.signal_price)
        self.order_id = field(msg, ORDER_ID)
        self.strategy = field(msg, STRATEGY)
        self.instrument = field(msg, INSTRUMENT)
        self.side = field(msg, SIDE)
        self.is_buy = self.side == BUY
        self.order_type = field(msg, ORDER_TYPE)
        self.limit_price = field(msg, LIMIT_PRICE)
        self.stop_price = field(msg, STOP_PRICE)
        self.signal_price = field(msg, SIGNAL_PRICE)
        self.ts = field(msg, TS)
        self.size = field(msg, SIZE)
        self.remaining = self.size
        self.triggered = False
        self.invalid = invalid_reason(msg)
        if self.order_type == LIMIT:
            self.created_price = self.limit_price
        elif self.order_type == STOP or self.order_type == STOP_LIMIT:
            self.created_price = self.stop_price
        else:
            self.created_price = self.signal_price

    @property
    def signed_remaining(self):
        return self.remaining if self.is_buy else -self.remaining


cpdef invalid_reason(msg):
    """Why an order cannot be taken at all, or None. Checked before any cash check."""
    size = msg.size
    if not (size > 0 and size != float("inf")):
        return f"invalid size: {size!r} (must be a finite number > 0)"
    if msg.side not in ("BUY", "SELL"):
        return f"invalid side: {msg.side!r}"
    kind = msg.order_type
    if kind == MARKET:
        if not msg.signal_price > 0:
            return f"invalid order: market order needs signal_price > 0, got {msg.signal_price!r}"
        return None
    if kind == LIMIT:
        return _price_reason("limit_price", msg.limit_price)
    if kind == STOP:
        return _price_reason("stop_price", msg.stop_price)
    if kind == STOP_LIMIT:
        return _price_reason("stop_price", msg.stop_price) or _price_reason("limit_price", msg.limit_price)
    return f"invalid order: unknown order type {kind!r}"


cdef _price_reason(name, value):
    if value is None or not value > 0 or value == float("inf"):
        return f"invalid order: {name} must be a finite price > 0, got {value!r}"
    return None
