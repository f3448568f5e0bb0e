"""The event -> order latency stamps: the latest arrival per instrument, whichever instruments interleave."""

from __future__ import annotations

import time

from hub.messages import Bar, SubmitOrder, Trade
from metrics.arrivals import Arrivals


def bar(instrument: str, ts: int = 1) -> Bar:
    return Bar(ts, instrument, 1.0, 1.0, 1.0, 1.0, 1.0)


def order(instrument: str) -> SubmitOrder:
    return SubmitOrder(ts=1, order_id="o", strategy="s", instrument=instrument, side="BUY", size=1.0)


def test_an_order_is_timed_from_its_own_instruments_latest_event():
    latencies: list[float] = []
    arrivals = Arrivals(latencies)
    arrivals.on_submit(order("A"))
    assert latencies == []  # no event for A yet: nothing to time
    arrivals.on_market(bar("A"))
    time.sleep(0.05)
    arrivals.on_market(bar("B"))  # A's stamp moves to the dict, B's is the current one
    arrivals.on_market(Trade(ts=2, instrument="C", price=1.0, size=1.0))  # any market event with an instrument
    arrivals.on_submit(order("A"))
    arrivals.on_submit(order("B"))
    arrivals.on_submit(order("C"))
    arrivals.on_submit(order("D"))
    assert len(latencies) == 3
    a, b, c = latencies
    assert a >= 50.0 and b < a and c < a  # milliseconds: A waited out the sleep, B and C did not
    arrivals.on_market(bar("A"))  # A again: current, fresh
    arrivals.on_submit(order("A"))
    assert latencies[-1] < 50.0
