"""The market-data contract: every rule refuses what it should, and only that."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.market_rules import MAX_PRICE, MarketDataCheck, message_problem
from hub.messages import Bar, Quote, Trade

T = 1_700_000_000_000_000_000


def bar(ts=T, o=10.0, h=11.0, lo=9.0, c=10.5, v=100.0, instrument="ABC"):
    return Bar(ts=ts, instrument=instrument, open=o, high=h, low=lo, close=c, volume=v)


BAD = [
    (bar(h=1e308, c=1e308), "too large", "high"),
    (bar(o=-10.0, lo=-11.0), "not positive", "open"),
    (bar(c=float("nan")), "not finite", "close"),
    (bar(h=8.0, c=8.5), "low above high", "high"),  # high below low: high breaks the most relations
    (bar(o=12.0), "open above high", "open"),
    (bar(c=8.5), "low above close", "close"),
    (bar(v=-1.0), "negative", "volume"),
    (bar(ts=2**63), "timestamp out of range", "ts"),
    (bar(instrument=""), "no instrument", "instrument"),
    (Trade(ts=T, instrument="ABC", price=-10.0, size=1.0), "not positive", "price"),
    (Trade(ts=T, instrument="ABC", price=10.0, size=-5.0), "negative", "size"),
    (Trade(ts=T, instrument="ABC", price=float("inf"), size=1.0), "not finite", "price"),
    (Quote(ts=T, instrument="ABC", bid=10.1, ask=10.0), "bid above ask", "bid"),
    (Quote(ts=T, instrument="ABC", bid=10.0, ask=10.1, bid_size=-1.0), "negative", "bid_size"),
]


@pytest.mark.parametrize(("msg", "rule", "field"), BAD)
def test_each_rule_refuses_its_case(msg, rule, field):
    bad = message_problem(msg)
    assert bad is not None and (bad.rule, bad.field) == (rule, field), bad


def test_good_messages_pass():
    assert message_problem(bar()) is None
    assert message_problem(bar(o=9.0, h=9.0, lo=9.0, c=9.0, v=0.0)) is None  # a flat bar, no volume
    assert message_problem(Trade(ts=T, instrument="A", price=MAX_PRICE, size=0.0)) is None
    assert message_problem(Quote(ts=T, instrument="A", bid=10.0, ask=10.0)) is None  # a locked quote


def test_time_order_is_per_instrument_and_type():
    check = MarketDataCheck()
    assert check.check(bar(ts=T)) is None
    assert check.check(bar(ts=T, instrument="XYZ")) is None  # another instrument has its own clock
    assert check.check(Trade(ts=T - 5, instrument="ABC", price=10.0, size=1.0)) is None  # and another type
    assert check.check(bar(ts=T)).rule == "timestamp going backwards"  # a duplicate bar
    assert check.check(bar(ts=T - 1)).rule == "timestamp going backwards"
    assert check.check(Trade(ts=T - 5, instrument="ABC", price=10.0, size=1.0)) is None  # trades may share a ns
    assert check.check(bar(ts=T + 1, h=1.0)).rule == "low above high"
    assert check.check(bar(ts=T + 1)) is None  # the refused one did not move the clock
    assert check.counts == {"timestamp going backwards": 2, "low above high": 1} and check.refused == 3


prices = st.floats(min_value=1e-6, max_value=1e9)


@given(prices, prices, prices, prices, st.floats(min_value=0, max_value=1e12))
def test_a_bar_passes_exactly_when_its_range_holds_it(a, b, c, d, v):
    lo, hi = min(a, b), max(a, b)
    msg = bar(o=c, h=hi, lo=lo, c=d, v=v)
    inside = lo <= c <= hi and lo <= d <= hi
    assert (message_problem(msg) is None) == inside
