"""The strategy's context through a real Bus: what a strategy sees, when its orders leave, how it stays current."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.strategy_host import StrategyHost
from hub import keys as K
from hub.bus import Bus
from hub.messages import BUY, LIMIT, MARKET, SELL, STOP, STOP_LIMIT, Bar, MarketState, SubmitOrder
from strategies.api import Indicators, Position, Strategy, sma
from tests.agents.strategy_host.support import NAME, Rig

# ---------------------------------------------------------------- what on_bar gets


def test_ind_is_an_immutable_record_of_the_declared_indicators_in_order():
    got = []
    rig = Rig(on_bar=lambda s, bar, ind: got.append((bar, ind)))
    rig.state(5, close=12.5, values=(1.5, math.nan))
    (bar, ind), = got
    assert (bar.ts, bar.instrument, bar.close) == (5, "X", 12.5)
    assert isinstance(ind, Indicators)
    assert ind.fast == 1.5 and math.isnan(ind.slow)
    fast, slow = ind  # unpacks, indexes and iterates in declaration order, as a namedtuple did
    assert (fast, ind[0], len(ind), ind._fields) == (1.5, 1.5, 2, ("fast", "slow"))
    assert list(ind._asdict()) == ["fast", "slow"]
    assert repr(ind) == "Indicators(fast=1.5, slow=nan)"
    with pytest.raises(AttributeError):
        ind.fast = 2.0


def test_a_strategy_without_indicators_gets_an_empty_record():
    class Bare(Strategy):
        def on_bar(self, bar, ind):
            self.got = ind

    bus = Bus()
    host = StrategyHost(bus, lambda: 0, Bare)
    host.attach()
    host.start()
    bus.publish(K.MARKET_STATE, MarketState(1, Bar(1, "X", 1.0, 1.0, 1.0, 1.0, 1.0), "strategy", (), ()))
    assert len(host.strategy.got) == 0 and bus.errors == 0


@pytest.mark.parametrize("name", ["1st", "class", "_private", "with space"])
def test_indicator_names_must_be_readable_as_attributes(name):
    class Odd(Strategy):
        def indicators(self):
            return {name: sma(3)}

    with pytest.raises(ValueError, match=f"Odd: indicator name {name!r} cannot be read as ind"):
        StrategyHost(Bus(), lambda: 0, Odd)


def test_states_meant_for_another_requester_are_ignored():
    rig = Rig()
    rig.state(1, requester="someone else")
    assert [hook for hook, _ in rig.strategy.seen] == ["on_start"]


# ---------------------------------------------------------------- now


def test_now_is_the_time_of_the_event_being_handled():
    def buy(s, *_):
        s.buy(1)

    rig = Rig(on_bar=buy)
    rig.state(10)
    rig.state(20)
    rig.fill(30, "strategy-1", remaining=0.5)
    rig.fill(40, "strategy-1")
    rig.reject(50, "strategy-2")
    rig.state(60)
    rig.cancel(70, "strategy-3")
    rig.end(80)
    assert rig.strategy.seen == [
        ("on_start", 0), ("on_bar", 10), ("on_bar", 20), ("on_fill", 30), ("on_fill", 40), ("on_reject", 50),
        ("on_bar", 60), ("on_cancel", 70), ("on_stop", 80),
    ]
    assert [o.ts for o in rig.orders] == [10, 20, 60]  # each order stamped with its decision's time


# ---------------------------------------------------------------- when orders leave


def test_orders_are_published_only_after_the_hook_that_made_them_returns():
    def trade(s, bar, ind):
        s.buy(3)
        s.log.append("bought")
        s.cancel("strategy-1")
        s.log.append("canceled")

    rig = Rig(on_bar=trade)
    rig.state(1)
    assert rig.log == ["on_start returned", "bought", "canceled", "on_bar returned",
                       "published SubmitOrder strategy-1", "published CancelOrder strategy-1"]


def test_orders_made_by_a_hook_that_raises_are_still_published_and_the_error_reported():
    def trade_then_fail(s, bar, ind):
        s.buy(1)
        raise RuntimeError("boom")

    rig = Rig(on_bar=trade_then_fail)
    rig.state(1)
    assert [o.order_id for o in rig.orders] == ["strategy-1"]
    assert [(e.agent, e.error) for e in rig.errors] == [(NAME, "boom")]
    rig.state(2)  # and the host keeps going
    assert [o.order_id for o in rig.orders] == ["strategy-1", "strategy-2"]


def test_orders_made_on_start_leave_after_on_start():
    rig = Rig(start=False, on_start=lambda s: s.buy(1, instrument="Y"))
    rig.host.start()
    assert rig.log == ["on_start returned", "published SubmitOrder strategy-1"]
    assert rig.orders[0].instrument == "Y"


def test_an_order_made_while_another_is_published_leaves_after_its_own_hook():
    """A broker may answer inside the publish (a rejection); the strategy's retry leaves after on_reject returns."""
    def retry(s, rejection):
        if len(s.seen) < 7:  # on_start, on_bar, then four retries
            s.buy(1)

    rig = Rig(on_bar=lambda s, bar, ind: s.buy(1), on_reject=retry)
    rig.bus.subscribe("broker", K.SUBMIT_ORDER, lambda o: rig.reject(o.ts, o.order_id))
    rig.state(1)
    assert rig.log == [
        "on_start returned", "on_bar returned", "published SubmitOrder strategy-1",
        "on_reject returned", "published SubmitOrder strategy-2",
        "on_reject returned", "published SubmitOrder strategy-3",
        "on_reject returned", "published SubmitOrder strategy-4",
        "on_reject returned", "published SubmitOrder strategy-5",
        "on_reject returned",
    ]
    assert rig.strategy.open_orders() == []


# ---------------------------------------------------------------- orders


def test_order_types_follow_the_prices_given_and_carry_the_latest_close():
    def orders(s, bar, ind):
        s.buy(1)
        s.sell(2.0, limit=11.0)
        s.sell(3, stop=9.0)
        s.buy(4, limit=12.0, stop=11.5)
        s.buy(5, instrument="Y")

    rig = Rig(on_bar=orders)
    rig.state(1, close=50.0, instrument="Y")
    rig.state(2, close=10.5)
    got = [(o.order_id, o.side, o.size, o.order_type, o.limit_price, o.stop_price, o.instrument, o.signal_price)
           for o in rig.orders[5:]]
    assert got == [
        ("strategy-6", BUY, 1.0, MARKET, None, None, "X", 10.5),
        ("strategy-7", SELL, 2.0, LIMIT, 11.0, None, "X", 10.5),
        ("strategy-8", SELL, 3.0, STOP, None, 9.0, "X", 10.5),
        ("strategy-9", BUY, 4.0, STOP_LIMIT, 12.0, 11.5, "X", 10.5),
        ("strategy-10", BUY, 5.0, MARKET, None, None, "Y", 50.0),  # another instrument: its own latest close
    ]
    assert all(type(o) is SubmitOrder and o.strategy == NAME for o in rig.orders)


def test_an_order_needs_a_side_and_an_instrument():
    rig = Rig()
    with pytest.raises(ValueError, match="no instrument given and no bar seen yet"):
        rig.strategy.buy(1)
    with pytest.raises(ValueError, match="side must be BUY or SELL, got 'HOLD'"):
        rig.host.context.submit("HOLD", 1, "X", None, None)
    assert rig.host.order_seq == 0


def test_open_orders_are_per_instrument_and_close_with_their_final_event():
    def orders(s, bar, ind):
        if bar.ts == 1:
            for instrument in ("X", "X", "Y", "X", "X"):
                s.buy(1, instrument=instrument)

    rig = Rig(on_bar=orders)
    rig.state(1)
    s = rig.strategy
    assert (s.open_orders(), s.open_orders("Y")) == (["strategy-1", "strategy-2", "strategy-4", "strategy-5"],
                                                      ["strategy-3"])
    rig.fill(2, "strategy-1", remaining=0.5)  # partly filled: still open
    rig.fill(2, "strategy-2")
    rig.reject(2, "strategy-4")
    rig.cancel(2, "strategy-5")
    assert s.open_orders() == ["strategy-1"]
    rig.fill(3, "strategy-1")
    assert (s.open_orders(), s.open_orders("Y")) == ([], ["strategy-3"])


def test_only_open_orders_can_be_canceled():
    def cancels(s, bar, ind):
        s.cancel("strategy-1")
        s.cancel("nobody-7")

    rig = Rig(on_bar=lambda s, bar, ind: s.buy(1))
    rig.state(1)
    rig.strategy.script["on_bar"] = cancels
    rig.state(2)
    rig.fill(3, "strategy-1")
    rig.state(4)
    assert [(type(o).__name__, o.order_id, o.ts) for o in rig.orders] == [
        ("SubmitOrder", "strategy-1", 1), ("CancelOrder", "strategy-1", 2)]


# ---------------------------------------------------------------- the account, mirrored from fills


def test_fills_update_cash_and_positions_but_only_own_orders_reach_on_fill():
    rig = Rig(on_bar=lambda s, bar, ind: s.buy(1) if bar.ts == 1 else None)
    s = rig.strategy
    assert (s.cash, s.position(), s.position("Y")) == (1000.0, Position(0.0, 0.0), Position(0.0, 0.0))
    rig.state(1)
    rig.fill(2, "other-1", instrument="Y", position=-5.0, cash=1100.0, avg_price=20.0)  # another strategy's
    assert (s.cash, s.position("Y")) == (1100.0, Position(-5.0, 20.0))
    rig.fill(3, "strategy-1", position=1.0, cash=1090.0, avg_price=10.0)
    assert (s.cash, s.position(), s.position("X")) == (1090.0, Position(1.0, 10.0), Position(1.0, 10.0))
    assert [hook for hook, _ in s.seen] == ["on_start", "on_bar", "on_fill"]


@given(st.lists(st.tuples(st.sampled_from("XYZ"), st.floats(-1e6, 1e6), st.floats(0, 1e6), st.floats(-1e9, 1e9)),
                max_size=30))
def test_the_mirror_is_the_last_fill_of_each_instrument(fills):
    rig = Rig()
    expected_cash, expected = 1000.0, {}
    for i, (instrument, position, avg_price, cash) in enumerate(fills):
        rig.fill(i, f"other-{i}", instrument=instrument, position=position, cash=cash, avg_price=avg_price)
        expected_cash, expected[instrument] = cash, Position(position, avg_price)
    assert rig.strategy.cash == expected_cash
    for instrument in "XYZ":
        assert rig.strategy.position(instrument) == expected.get(instrument, Position(0.0, 0.0))


# ---------------------------------------------------------------- restarts


def test_a_restore_takes_over_the_books_and_order_ids_continue():
    rig = Rig(start=False)
    rig.host.restore(cash=500.0, positions={"X": Position(3.0, 9.0), "Y": Position(0.0, 0.0)},
                     open_orders={"strategy-40": "X"}, order_seq=41, last_prices={"X": 9.5, "Z": 7.0})
    rig.host.start()
    s = rig.strategy
    assert (s.cash, s.position("X"), s.open_orders("X"), rig.host.order_seq) == (
        500.0, Position(3.0, 9.0), ["strategy-40"], 41)
    s.buy(1, instrument="Z")  # before Z's next bar: signalled at its close before the restart
    s.cancel("strategy-40")
    rig.host.context.flush()
    rig.state(1, close=10.0)
    s.buy(1, instrument="X")  # after X's bar: its close
    rig.host.context.flush()
    assert [(type(o).__name__, o.order_id, getattr(o, "signal_price", None)) for o in rig.orders] == [
        ("SubmitOrder", "strategy-42", 7.0), ("CancelOrder", "strategy-40", None), ("SubmitOrder", "strategy-43", 10.0)]
    rig.host.restore(cash=1.0, positions={}, open_orders={}, order_seq=5)  # never back: ids are not reused
    assert rig.host.order_seq == 43
