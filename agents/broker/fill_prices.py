"""At what price an order fills on one bar, if it fills at all: backtrader's ``BackBroker._try_exec_*``.

A line-by-line port, so fills match its default broker exactly, gaps and
quirks included:

* market: the bar's open (or the signal bar's close with ``fill_on_close``),
  slipped and capped at the bar's high (buy) / low (sell);
* limit buy: open <= limit fills at the open (a gap through the limit is a
  better price), else fills at the limit if the low reaches it; sells mirror;
* stop buy: open >= stop fills at the open (gap), else at the stop if the high
  reaches it; sells mirror;
* stop-limit: the stop triggers (and stays triggered across bars); on the
  trigger bar only the cases backtrader can decide from OHLC fill, later bars
  behave as a plain limit order.

backtrader quirk kept on purpose: a sell limit that gaps (open >= limit) caps
its slippage at the limit price, not at the bar's low.

Every function returns the fill price, or None: no fill on this bar.
"""

from __future__ import annotations

from agents.broker.orders import Order
from agents.broker.slippage import Slippage
from hub.messages import LIMIT, MARKET, STOP, Bar


def fill_price(order: Order, bar: Bar, slip: Slippage, fill_on_close: bool) -> float | None:
    """The price ``order`` fills at on ``bar`` (None: not on this bar); updates a stop-limit's trigger."""
    kind = order.order_type
    if kind == MARKET:
        return market(order.is_buy, order.signal_price if fill_on_close else bar.open, bar.high, bar.low, slip)
    if kind == LIMIT:
        return limit(order.is_buy, order.limit_price, bar.open, bar.high, bar.low, slip)
    if kind == STOP:
        return stop(order.is_buy, order.stop_price, bar.open, bar.high, bar.low, slip)
    price, order.triggered = stop_limit(order.is_buy, order.triggered, order.stop_price, order.limit_price,
                                        bar.open, bar.high, bar.low, bar.close, slip)
    return price


def market(is_buy: bool, price: float, high: float, low: float, slip: Slippage) -> float | None:
    """``price`` is the open, or the signal close with fill_on_close."""
    if is_buy:
        return slip.up(high, price, doslip=slip.slip_open)
    return slip.down(low, price, doslip=slip.slip_open)


def limit(is_buy: bool, plimit: float, popen: float, high: float, low: float, slip: Slippage) -> float | None:
    if is_buy:
        if plimit >= popen:
            return slip.up(min(high, plimit), popen, doslip=slip.slip_open, lim=True)
        if plimit >= low:
            return plimit
        return None
    if plimit <= popen:
        return slip.down(plimit, popen, doslip=slip.slip_open, lim=True)
    if plimit <= high:
        return plimit
    return None


def stop(is_buy: bool, pstop: float, popen: float, high: float, low: float, slip: Slippage) -> float | None:
    if is_buy:
        if popen >= pstop:
            return slip.up(high, popen, doslip=slip.slip_open)
        if high >= pstop:
            return slip.up(high, pstop)
        return None
    if popen <= pstop:
        return slip.down(low, popen, doslip=slip.slip_open)
    if low <= pstop:
        return slip.down(low, pstop)
    return None


def stop_limit(
    is_buy: bool, triggered: bool, pstop: float, plimit: float,
    popen: float, high: float, low: float, close: float, slip: Slippage,
) -> tuple[float | None, bool]:
    """Returns (price or None, triggered after this bar)."""
    if triggered:
        return limit(is_buy, plimit, popen, high, low, slip), True
    if is_buy:
        if popen >= pstop:
            return limit(True, plimit, popen, high, low, slip), True
        if high >= pstop:
            if popen > close:
                if plimit >= pstop:
                    return slip.up(high, pstop, lim=True), True
                if plimit >= close:
                    return plimit, True
                return None, True
            if plimit >= pstop:
                return slip.up(high, pstop, lim=True), True
            return None, True
        return None, False
    if popen <= pstop:
        return limit(False, plimit, popen, high, low, slip), True
    if low <= pstop:
        if popen <= close:
            if plimit <= pstop:
                return slip.down(low, pstop, lim=True), True
            if plimit <= close:
                return plimit, True
            return None, True
        if plimit <= pstop:
            return slip.down(low, pstop, lim=True), True
        return None, True
    return None, False
