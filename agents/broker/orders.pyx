# cython: language_level=3
"""The broker's open orders, and only those.

Completed, rejected and canceled orders are dropped at once: the broker's
per-event cost must not grow with history (results are recorded by another
agent from the published events). Orders are grouped per instrument so a bar
only touches its own instrument's orders, and a bar of an instrument with no
orders costs one dict lookup.
"""

from hub.messages import BUY, LIMIT, MARKET, STOP, STOP_LIMIT


cdef class OpenOrder:
    """A live order: its request, what is left to fill, and the stop-limit trigger state.

    ``created_price`` is what backtrader calls ``order.created.price`` and
    prices the submit-time cash check: the signal close for market orders,
    the limit for limits, the stop for stops and stop-limits.

    Compiled with typed fields: the broker's order work (compiled too, in
    :mod:`agents.broker.bar_path`) reads them on every order event.
    """

    def __init__(self, msg):
        self.order_id = msg.order_id
        self.strategy = msg.strategy
        self.instrument = msg.instrument
        self.side = msg.side
        self.is_buy = msg.side == BUY
        self.order_type = msg.order_type
        self.limit_price = msg.limit_price
        self.stop_price = msg.stop_price
        self.signal_price = msg.signal_price
        self.ts = msg.ts
        self.size = msg.size
        self.remaining = msg.size
        self.triggered = False
        self.invalid = invalid_reason(msg)
        if msg.order_type == LIMIT:
            self.created_price = msg.limit_price
        elif msg.order_type in (STOP, STOP_LIMIT):
            self.created_price = msg.stop_price
        else:
            self.created_price = msg.signal_price

    @property
    def signed_remaining(self):
        return self.remaining if self.is_buy else -self.remaining


def invalid_reason(msg):
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


def _price_reason(name, value):
    if value is None or not value > 0 or value == float("inf"):
        return f"invalid order: {name} must be a finite price > 0, got {value!r}"
    return None
