"""The broker's live order: what was asked, what is left to fill, and why it cannot be taken (if so).

The broker holds an order only while it is open; finished orders are dropped
at once (results are recorded by another agent from the published events),
so nothing here grows with history.
"""

from __future__ import annotations

import math

from hub.messages import BUY, LIMIT, MARKET, SELL, STOP, STOP_LIMIT, SubmitOrder

INF = math.inf


class Order:
    """One open order, built from the strategy's :class:`SubmitOrder` when it arrives.

    ``created_price`` prices the submit-time cash check (backtrader's
    ``order.created.price``): the signal close for market orders, the limit
    for limits, the stop for stops and stop-limits. ``triggered`` is a
    stop-limit's state once its stop was touched: from then on it is a limit
    order. ``invalid`` says why the order cannot be taken at all (checked on
    the instrument's next bar, before any cash check), or is None.
    """

    def __init__(self, msg: SubmitOrder) -> None:
        self.request = msg
        self.ts = msg.ts
        self.order_id = msg.order_id
        self.strategy = msg.strategy
        self.instrument = msg.instrument
        self.side = msg.side
        self.is_buy = self.side == BUY
        self.order_type = msg.order_type
        self.limit_price = msg.limit_price
        self.stop_price = msg.stop_price
        self.signal_price = msg.signal_price
        size = msg.size
        self.size = float(size) if _is_number(size) else math.nan
        self.remaining = self.size
        self.triggered = False
        self.invalid = invalid_reason(self, size)
        if self.invalid is not None:
            self.created_price = 0.0
        elif self.order_type == LIMIT:
            self.created_price = float(self.limit_price)
        elif self.order_type == STOP or self.order_type == STOP_LIMIT:
            self.created_price = float(self.stop_price)
        else:
            self.created_price = float(self.signal_price)

    def __repr__(self) -> str:
        return (f"Order({self.order_id!r}, {self.instrument!r}, {self.side} {self.size!r} {self.order_type}, "
                f"remaining={self.remaining!r})")

    def signed(self, size: float) -> float:
        """``size`` with the order's sign: positive for a buy, negative for a sell."""
        return size if self.is_buy else -size


def invalid_reason(order: Order, size: object) -> str | None:
    """Why ``order`` (``size`` as requested) cannot be taken at all, or None."""
    if not (_is_number(size) and 0 < size < INF):  # type: ignore[operator]
        return f"invalid size: {size!r} (must be a finite number > 0)"
    if order.side != BUY and order.side != SELL:
        return f"invalid side: {order.side!r}"
    if type(order.instrument) is not str:
        return f"invalid order: instrument must be a string, got {order.instrument!r}"
    kind = order.order_type
    if kind == MARKET:
        if not (_is_number(order.signal_price) and 0 < order.signal_price < INF):
            return f"invalid order: market order needs signal_price > 0, got {order.signal_price!r}"
        return None
    if kind == LIMIT:
        return _price_reason("limit_price", order.limit_price)
    if kind == STOP:
        return _price_reason("stop_price", order.stop_price)
    if kind == STOP_LIMIT:
        return _price_reason("stop_price", order.stop_price) or _price_reason("limit_price", order.limit_price)
    return f"invalid order: unknown order type {kind!r}"


def _price_reason(name: str, value: object) -> str | None:
    if not (_is_number(value) and 0 < value < INF):  # type: ignore[operator]
        return f"invalid order: {name} must be a finite price > 0, got {value!r}"
    return None


def _is_number(value: object) -> bool:
    return type(value) is float or type(value) is int
