"""How an account is marked to market: the one formula every agent uses.

The broker publishes its marks; the strategy host computes ``value()`` from
its own mirror of cash and positions (fills carry both) instead of receiving
an account message every bar. Both must agree to the last bit, so both call
this. The operations and their order are backtrader's ``BackBroker._get_value``
(stock-like instruments, multiplier 1): a long adds ``size*last - upnl`` and
then ``upnl``, a short adds ``size*last``, positions summed in first-trade
order onto 0.0, then added to cash. A flat position adds exactly nothing.
"""

from __future__ import annotations

from collections.abc import Iterable


def equity(cash: float, holdings: Iterable[tuple[float, float, float]]) -> float:
    """``cash`` plus each ``(size, avg_price, last)`` marked at ``last``, in the given order."""
    value = 0.0
    for size, price, last in holdings:
        dvalue = size * last
        if dvalue > 0:
            dunrealized = size * (last - price)
            value += dvalue - dunrealized
            value += dunrealized
        else:
            value += dvalue
    return cash + value
