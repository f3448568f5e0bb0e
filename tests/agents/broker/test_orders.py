"""Order types through a real Bus: when and at what price each one fills, cancels, partial fills."""

from __future__ import annotations

import pytest

from agents.broker import BrokerSettings
from hub import keys as K
from hub.messages import BUY, LIMIT, SELL, STOP, STOP_LIMIT, AccountState, EndOfData
from tests.agents.broker.support import Rig, bar


def fills(rig: Rig) -> list[tuple[str, float, float]]:
    return [(f.side, f.size, f.price) for f in rig.rec.fills]


# ---------------------------------------------------------------- market


def test_market_fills_at_next_open_after_acceptance() -> None:
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bar(bar(0, 10, 11, 9, 10.5))
    oid = rig.submit(BUY, 100)
    assert rig.rec.kinds() == []  # nothing happens inside the publisher's call
    b1 = rig.bar(bar(1, 10.2, 10.8, 10.0, 10.6))
    assert rig.rec.kinds() == ["OrderAccepted", "Fill"]
    f = rig.rec.fills[0]
    assert (f.ts, f.order_id, f.side, f.size, f.price, f.commission, f.remaining) == (b1.ts, oid, BUY, 100, 10.2, 0.0, 0)
    assert (f.position, f.cash) == (100, 10_000.0 - 100 * 10.2)
    last = rig.rec.events[-1]
    assert isinstance(last, AccountState) and last.ts == b1.ts
    assert last.equity == pytest.approx(8980 + 100 * 10.6)
    assert rig.broker.open_order_count() == 0


def test_market_order_on_last_bar_never_fills() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 11, 9, 10.5))
    rig.submit(BUY, 1)
    rig.bus.publish(K.END_OF_DATA, EndOfData(0))
    assert rig.rec.kinds() == []
    assert rig.broker.open_order_count() == 1


def test_order_never_fills_on_a_bar_with_its_own_timestamp() -> None:
    """Decided on X's bar at t for Y: Y's bar at the same t is not later, so no lookahead fill."""
    rig = Rig()
    x0 = rig.bar(bar(0, 10, 11, 9, 10.5, instrument="X"))
    rig.submit(BUY, 10, instrument="Y", signal=20.0)
    rig.bar(bar(0, 20, 21, 19, 20.5, instrument="Y"))
    assert rig.rec.fills == []
    rig.bar(bar(1, 10, 11, 9, 10.5, instrument="X"))
    assert rig.rec.fills == []  # another instrument's bar does not touch Y's orders
    rig.bar(bar(1, 22, 23, 21, 22.5, instrument="Y"))
    assert fills(rig) == [(BUY, 10, 22)]
    assert rig.rec.fills[0].ts > x0.ts


def test_fill_on_close_uses_signal_close_and_signal_time() -> None:
    rig = Rig(BrokerSettings(fill_on_close=True))
    b0 = rig.bar(bar(0, 10, 11, 9, 10.5))
    rig.submit(BUY, 100)
    rig.bar(bar(1, 12, 12.5, 11.5, 12.2))
    f = rig.rec.fills[0]
    assert (f.price, f.ts) == (10.5, b0.ts)


# ---------------------------------------------------------------- limit


def test_limit_buy_waits_then_fills_at_limit_when_low_reaches_it() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, LIMIT, limit=9.5)
    rig.bar(bar(1, 9.8, 10, 9.6, 9.9))
    assert rig.rec.fills == []
    rig.bar(bar(2, 9.7, 9.9, 9.4, 9.6))
    assert fills(rig) == [(BUY, 10, 9.5)]


def test_limit_buy_gap_below_limit_fills_at_open() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, LIMIT, limit=9.5)
    rig.bar(bar(1, 9.0, 9.3, 8.9, 9.2))
    assert fills(rig) == [(BUY, 10, 9.0)]


def test_limit_sell_intrabar_and_gap() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 20)
    rig.submit(SELL, 10, LIMIT, limit=10.5)  # same bar: both accepted, the limit waits
    rig.bar(bar(1, 10.0, 10.4, 9.9, 10.1))
    assert fills(rig) == [(BUY, 20, 10.0)]
    rig.bar(bar(2, 10.2, 10.6, 10.1, 10.3))
    assert fills(rig)[-1] == (SELL, 10, 10.5)
    rig.submit(SELL, 10, LIMIT, limit=10.5)
    rig.bar(bar(3, 11.0, 11.2, 10.9, 11.1))
    assert fills(rig)[-1] == (SELL, 10, 11.0)


def test_limit_never_reached_stays_open() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, LIMIT, limit=5)
    for i in range(1, 6):
        rig.bar(bar(i, 10, 10.2, 9.8, 10))
    assert rig.rec.fills == [] and rig.broker.open_order_count() == 1


# ---------------------------------------------------------------- stop and stop-limit


@pytest.mark.parametrize(
    ("side", "stop", "bars", "price"),
    [
        (BUY, 11, [(10.5, 10.9, 10.4, 10.8), (10.6, 11.2, 10.5, 11.0)], 11),  # touched intrabar
        (BUY, 11, [(11.5, 11.8, 11.3, 11.6)], 11.5),  # gap above: the open
        (SELL, 9, [(9.5, 9.6, 8.8, 9.1)], 9),
        (SELL, 9, [(8.5, 8.7, 8.2, 8.4)], 8.5),
    ],
)
def test_stop_orders(side: str, stop: float, bars: list[tuple[float, ...]], price: float) -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(side, 10, STOP, stop=stop)
    for i, ohlc in enumerate(bars, 1):
        rig.bar(bar(i, *ohlc))
    assert fills(rig) == [(side, 10, price)]


def test_stop_limit_triggers_intrabar_and_fills_at_stop() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, STOP_LIMIT, stop=11, limit=11.2)
    rig.bar(bar(1, 10.5, 11.5, 10.4, 11.3))
    assert fills(rig) == [(BUY, 10, 11)]


def test_stop_limit_stays_triggered_and_fills_as_limit_later() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, STOP_LIMIT, stop=11, limit=10.8)
    rig.bar(bar(1, 10.5, 11.3, 10.4, 10.6))  # triggers, limit below the stop: no fill yet
    assert rig.rec.fills == []
    rig.bar(bar(2, 10.7, 10.9, 10.5, 10.8))  # a plain limit now: opens below it
    assert fills(rig) == [(BUY, 10, 10.7)]


def test_stop_limit_gap_through_stop() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 10, STOP_LIMIT, stop=11, limit=11.5)
    rig.submit(BUY, 10, STOP_LIMIT, stop=11, limit=11.2)
    rig.bar(bar(1, 11.3, 11.8, 11.25, 11.6))  # gap: first fills at the open, second is above its limit
    assert fills(rig) == [(BUY, 10, 11.3)]
    rig.bar(bar(2, 11.3, 11.4, 11.1, 11.2))  # triggered earlier: fills at its limit
    assert fills(rig)[-1] == (BUY, 10, 11.2)


def test_sell_stop_limit_not_triggered() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(SELL, 10, STOP_LIMIT, stop=9, limit=8.9)
    rig.bar(bar(1, 9.9, 10.1, 9.1, 9.5))
    assert rig.rec.fills == []
    rig.bar(bar(2, 9.4, 9.5, 8.8, 9.3))  # low 8.8 <= stop, open <= close? no: open 9.4 > close 9.3
    assert fills(rig) == [(SELL, 10, 9)]


# ---------------------------------------------------------------- cancel


def test_cancel_takes_effect_on_next_bar_before_any_fill() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    oid = rig.submit(BUY, 10, LIMIT, limit=9)
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    rig.cancel(oid)
    assert rig.rec.canceled == []
    rig.bar(bar(2, 8.5, 8.7, 8.4, 8.6))  # would have filled at the open
    assert [(c.order_id, c.reason) for c in rig.rec.canceled] == [(oid, "canceled")]
    assert rig.rec.fills == []
    assert rig.broker.open_order_count() == 0


def test_cancel_before_acceptance_and_unknown_or_finished_ids() -> None:
    rig = Rig()
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    oid = rig.submit(BUY, 10)
    rig.cancel(oid)
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert rig.rec.kinds() == ["OrderCanceled"]
    rig.cancel(oid)  # already canceled
    rig.cancel("nope")
    rig.bar(bar(2, 10, 10.2, 9.8, 10))
    assert rig.rec.kinds() == ["OrderCanceled"]
    assert rig.broker.ignored_cancels == 2


def test_cancel_a_partially_filled_order() -> None:
    rig = Rig(BrokerSettings(volume_cap=0.1))
    rig.bar(bar(0, 10, 10.2, 9.8, 10, v=500))
    oid = rig.submit(BUY, 120)
    rig.bar(bar(1, 10, 10.2, 9.8, 10, v=500))
    rig.cancel(oid)
    rig.bar(bar(2, 10, 10.2, 9.8, 10, v=500))
    assert rig.rec.kinds() == ["OrderAccepted", "Fill", "OrderCanceled"]
    assert rig.broker.position("X").size == 50


# ---------------------------------------------------------------- partial fills


def test_volume_cap_spreads_an_order_over_bars() -> None:
    rig = Rig(BrokerSettings(volume_cap=0.1))
    rig.bar(bar(0, 10, 10.2, 9.8, 10, v=500))
    rig.submit(BUY, 120)
    for i, o in enumerate((10.1, 10.2, 10.3, 10.4), 1):
        rig.bar(bar(i, o, 10.5, 9.8, 10, v=500))
    got = [(f.size, f.price, f.remaining, f.position) for f in rig.rec.fills]
    assert got == [(50, 10.1, 70, 50), (50, 10.2, 20, 100), (20, 10.3, 0, 120)]


def test_volume_cap_zero_volume_bar_waits() -> None:
    rig = Rig(BrokerSettings(volume_cap=0.5))
    rig.bar(bar(0, 10, 10.2, 9.8, 10, v=0))
    rig.submit(BUY, 10)
    rig.bar(bar(1, 10, 10.2, 9.8, 10, v=0))
    assert rig.rec.fills == []
    rig.bar(bar(2, 10, 10.2, 9.8, 10, v=100))
    assert [f.size for f in rig.rec.fills] == [10]


def test_fill_events_carry_position_and_cash_after() -> None:
    rig = Rig(BrokerSettings(cash=1000.0))
    rig.bar(bar(0, 10, 10.2, 9.8, 10))
    rig.submit(BUY, 30)
    rig.submit(BUY, 20)
    rig.bar(bar(1, 10, 10.2, 9.8, 10))
    assert [(f.position, f.cash) for f in rig.rec.fills] == [(30, 700.0), (50, 500.0)]
    assert rig.rec.kinds() == ["OrderAccepted", "OrderAccepted", "Fill", "Fill"]
    assert isinstance(rig.rec.events[-1], AccountState) and not isinstance(rig.rec.events[-2], AccountState)


# ---------------------------------------------------------------- halt


def test_a_halt_mid_bar_stops_the_order_work_at_once_and_bars_are_still_marked() -> None:
    """The daemon halts when its journal fails to record an event: nothing may happen after it."""
    rig = Rig(BrokerSettings(cash=10_000.0))
    rig.bus.subscribe("journal", K.ORDER_ACCEPTED, lambda m: rig.broker.halt(f"journal failed on {m.order_id}"))
    rig.bar(bar(0, 10, 11, 9, 10.5))
    first = rig.submit(BUY, 10)
    rig.submit(BUY, 20)
    rig.bar(bar(1, 10.2, 10.8, 10.0, 10.6))
    assert [e.order_id for e in rig.rec.events] == [first]  # accepted (the halt), then nothing
    rig.cancel(first)
    rig.bar(bar(2, 10.2, 10.8, 10.0, 10.6))
    assert rig.rec.kinds() == ["OrderAccepted"] and rig.broker.open_order_count() == 2
    assert [m[0] for m in rig.rec.marks] == [bar(i, 1, 1, 1, 1).ts for i in range(3)]
    rig.submit(BUY, 1, instrument="NOPE")
    rig.bus.publish(K.END_OF_DATA, EndOfData(0))
    assert rig.rec.kinds() == ["OrderAccepted"]  # not even the unknown instrument's rejection
