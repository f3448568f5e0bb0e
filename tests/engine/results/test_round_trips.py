"""Round trips from fills: flat to flat, a flip closes one and opens the next, and the P&L adds up to the cash."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.results.trades import RoundTrips

SIZES = st.sampled_from([-300, -200, -100, -50, 50, 100, 200, 300])


def feed(trips: RoundTrips, orders, rate: float = 0.001) -> tuple[float, float]:
    """Fill each signed size at its price; returns (cash change, final position)."""
    position = cash = 0.0
    for ts, (size, price) in enumerate(orders):
        position += size
        commission = abs(size) * price * rate
        cash -= size * price + commission
        trips.fill(ts, "X", "BUY" if size > 0 else "SELL", float(abs(size)), price, commission, position)
    return cash, position


def test_a_flip_closes_one_round_trip_and_opens_the_next():
    trips = RoundTrips(keep=True)
    feed(trips, [(100, 10.0), (-150, 12.0), (50, 11.0)], rate=0.0)
    first, second = trips.closed
    assert (first.direction, first.entry_size, first.exit_price, first.pnl) == (1, 100.0, 12.0, 200.0)
    assert (second.direction, second.entry_size, second.entry_price, second.exit_price) == (-1, 50.0, 12.0, 11.0)
    assert second.pnl == 50.0 and not trips.open


def test_adding_and_reducing_stay_in_one_round_trip_at_average_prices():
    trips = RoundTrips(keep=True)
    feed(trips, [(100, 10.0), (100, 12.0), (-50, 13.0), (-150, 9.0)], rate=0.0)
    (trade,) = trips.closed
    assert trade.entry_price == 11.0 and trade.exit_price == (50 * 13.0 + 150 * 9.0) / 200
    assert trade.pnl == 50 * 13.0 + 150 * 9.0 - 2200.0
    assert trade.ret == trade.pnl / 2200.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SIZES, st.floats(1.0, 100.0)), min_size=1, max_size=40))
def test_closed_round_trips_pnl_is_the_cash_they_made(orders):
    """Closing what is left at the end, the trades' net P&L equals the cash change, commissions included."""
    cash, position = feed(RoundTrips(keep=True), orders)
    trips = RoundTrips(keep=True)
    cash, _ = feed(trips, orders + [(-position, orders[-1][1])] if position else orders)
    assert not trips.open
    assert math.isclose(math.fsum(t.pnl for t in trips.closed), cash, rel_tol=1e-9, abs_tol=1e-6)
    for trade in trips.closed:
        assert trade.exit_ts is not None and trade.entry_ts <= trade.exit_ts
        assert math.isclose(trade.entry_size, trade.exit_size)
        assert trade.mae <= 0.0 <= trade.mfe


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(SIZES, st.floats(1.0, 100.0)), min_size=2, max_size=40), st.integers(1, 5))
def test_trade_figures_do_not_depend_on_how_the_trades_are_batched(orders, batch):
    from engine.results.trade_stats import Columns, TradeBook

    trips = RoundTrips(keep=True)
    feed(trips, orders)
    whole, parts = TradeBook(), TradeBook()
    if trips.closed:
        whole.add(Columns(trips.closed))
    for i in range(0, len(trips.closed), batch):
        parts.add(Columns(trips.closed[i:i + batch]))
    a, _ = whole.all.figures()
    b, _ = parts.all.figures()
    for key, value in a.items():
        other = b[key]
        assert (value is None and other is None) or math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9), key
