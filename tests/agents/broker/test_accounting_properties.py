"""Accounting invariants for any sequence of fills (hypothesis), checked in exact rational arithmetic.

Whatever the order of buys, sells, reversals and shorts:
- cash moves by exactly -(signed size x price) - commission per execution;
- equity = initial cash + sum of -(signed size x price) - commissions + position x last;
- realized + unrealized P&L = that equity minus initial cash plus commissions;
- the average price of a position built in one direction is its volume-weighted price.
Floats must agree with the exact figures to a tiny relative error (the engine keeps
backtrader's float operation order; parity tests pin the bits, these pin the meaning).
"""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.broker.account import Account, Position
from agents.broker.commission import Commission

price = st.integers(min_value=1, max_value=100_000).map(lambda cents: cents / 100)  # 0.01 .. 1000.00
size = st.integers(min_value=-500, max_value=500).filter(bool).map(float)
fills = st.lists(st.tuples(size, price), min_size=1, max_size=40)
rate = st.sampled_from([0.0, 0.0002, 0.001])

BIG_CASH = 1e9  # never refused: these tests are about arithmetic, not margin


def close_enough(a: float, b: Fraction, scale: float = 1.0) -> bool:
    return abs(Fraction(a) - b) <= Fraction(1, 10**6) * max(1, abs(scale))


@settings(max_examples=300, deadline=None)
@given(fills, rate, price)
def test_cash_equity_and_pnl_are_exact_up_to_rounding(sequence, commission_rate, last):
    account = Account(BIG_CASH, Commission(rate=commission_rate))
    pos = account.position("X")
    exact_cash = Fraction(BIG_CASH)
    exact_fees = Fraction(0)
    exact_position = Fraction(0)
    for signed, fill_price in sequence:
        execution = account.execute(pos, signed, fill_price)
        assert not execution.refused and execution.size == signed
        exact_cash -= Fraction(signed) * Fraction(fill_price)
        exact_cash -= Fraction(execution.commission)
        exact_fees += Fraction(execution.commission)
        exact_position += Fraction(signed)
        assert close_enough(account.cash, exact_cash, BIG_CASH)
        assert Fraction(pos.size) == exact_position
    pos.last = last
    exact_equity = exact_cash + exact_position * Fraction(last)
    assert close_enough(account.equity(), exact_equity, BIG_CASH)
    unrealized = pos.size * (last - pos.price)
    total_pnl = exact_equity - Fraction(BIG_CASH) + exact_fees
    assert close_enough(pos.realized + unrealized, total_pnl, BIG_CASH)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500).map(float), price), min_size=1, max_size=30), st.booleans())
def test_average_price_of_a_one_way_position_is_its_vwap(legs, short):
    pos = Position("X")
    for quantity, fill_price in legs:
        pos.apply(-quantity if short else quantity, fill_price)
    volume = sum(Fraction(q) for q, _ in legs)
    vwap = sum(Fraction(q) * Fraction(p) for q, p in legs) / volume
    assert close_enough(pos.price, vwap, float(vwap))
    assert pos.size == (-1 if short else 1) * float(volume)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500).map(float), price, price, rate)
def test_a_round_trip_realizes_exactly_the_price_difference_less_nothing_else(quantity, buy, sell, commission_rate):
    account = Account(BIG_CASH, Commission(rate=commission_rate))
    pos = account.position("X")
    first = account.execute(pos, quantity, buy)
    second = account.execute(pos, -quantity, sell)
    assert pos.size == 0 and pos.price == 0.0
    assert close_enough(pos.realized, Fraction(quantity) * (Fraction(sell) - Fraction(buy)), BIG_CASH)
    fees = Fraction(first.commission) + Fraction(second.commission)
    expected_cash = Fraction(BIG_CASH) + Fraction(quantity) * (Fraction(sell) - Fraction(buy)) - fees
    assert close_enough(account.cash, expected_cash, BIG_CASH)
    assert account.equity() == account.cash
