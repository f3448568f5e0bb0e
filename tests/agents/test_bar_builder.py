"""Trade -> bar aggregation: boundaries, late trades, end of data, and the quiet-market timer on loop time."""

from __future__ import annotations

import asyncio

import pytest

from agents.bar_builder import BarBuilderAgent, parse_interval
from engine.runtime.clocks import LoopClock
from engine.runtime.loops import dilated_loop, virtual_time_loop
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, EndOfData, Trade

S = 1_000_000_000
T0 = 1_699_999_980 * S  # a whole minute


def trade(ts, price, size=1.0, instrument="ABC"):
    return Trade(ts=ts, instrument=instrument, price=price, size=size)


def builder(interval="1s", **kwargs):
    bus = Bus()
    agent = BarBuilderAgent(bus, lambda: 0, interval, **kwargs)
    agent.attach()
    bars: list[Bar] = []
    bus.subscribe("bars", K.BAR, bars.append)
    return bus, agent, bars


@pytest.mark.parametrize("text, ns", [("1s", S), ("1m", 60 * S), ("250ms", S // 4), ("1h", 3600 * S),
                                      ("1d", 86400 * S), (" 5 m ", 300 * S), ("100us", 100_000), (7, 7)])
def test_parse_interval(text, ns):
    assert parse_interval(text) == ns


@pytest.mark.parametrize("bad", ["", "1", "s", "1.5s", "-1s", "0s", "1w", 0, -5])
def test_parse_interval_refuses_nonsense(bad):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(bad)


def test_a_bar_closes_when_a_trade_of_a_later_interval_arrives():
    bus, _, bars = builder("1s")
    for ts, price, size in [(T0, 10, 1), (T0 + S // 2, 12, 2), (T0 + S // 3, 9, 3), (T0 + S - 1, 11, 4)]:
        bus.publish(K.TRADE, trade(ts, price, size))
    assert bars == []
    bus.publish(K.TRADE, trade(T0 + 3 * S + 5, 20))  # skips two quiet seconds: no bars for them
    assert bars == [Bar(ts=T0, instrument="ABC", open=10, high=12, low=9, close=11, volume=10)]


def test_instruments_are_independent_and_late_trades_are_counted():
    bus, agent, bars = builder("1m")
    bus.publish(K.TRADE, trade(T0, 1.0, instrument="A"))
    bus.publish(K.TRADE, trade(T0 + 61 * S, 2.0, instrument="B"))
    assert bars == []  # B's later trade does not close A's bar
    bus.publish(K.TRADE, trade(T0 + 60 * S, 3.0, instrument="A"))
    assert [(b.instrument, b.ts, b.close) for b in bars] == [("A", T0, 1.0)]
    bus.publish(K.TRADE, trade(T0 + 59 * S, 9.0, instrument="A"))  # its bar is published: late
    assert agent.late == 1 and len(bars) == 1


def test_end_of_data_flushes_open_bars_before_the_others_see_it():
    bus, agent, bars = builder("1s")
    order = []
    bus.subscribe("after", K.END_OF_DATA, lambda m: order.append(("end", len(bars))))
    bus.publish(K.TRADE, trade(T0, 1.0, instrument="A"))
    bus.publish(K.TRADE, trade(T0, 2.0, instrument="B"))
    bus.publish(K.END_OF_DATA, EndOfData(ts=T0))
    assert [b.instrument for b in bars] == ["A", "B"]
    assert order == [("end", 2)]


def test_bars_rebuilt_from_their_trades_are_the_same_bars():
    """A backtest's bars exploded into O, H, L, C trades come back identical: bar strategies run unchanged."""
    source = [Bar(ts=T0 + i * 60 * S, instrument="X", open=10 + i, high=12 + i, low=9 + i, close=9 + i + i % 3,
                  volume=400 + i) for i in range(50)]
    bus, _, bars = builder("1m")
    for b in source:
        for k, (price, size) in enumerate([(b.open, 100), (b.high, 100), (b.low, 100), (b.close, b.volume - 300)]):
            bus.publish(K.TRADE, trade(b.ts + k * S, price, size, instrument="X"))
    bus.publish(K.END_OF_DATA, EndOfData(ts=0))
    assert bars == source


# ---------------------------------------------------------------- the timer, on loop time


async def _quiet_market(interval: str, grace: str | int = 0):
    loop = asyncio.get_running_loop()
    clock = LoopClock()
    clock.anchor(T0 + S // 4)  # data time starts a quarter second into a bucket
    bus = Bus()
    agent = BarBuilderAgent(bus, clock, interval, grace=grace)
    agent.attach()
    seen: list[tuple[float, Bar]] = []
    bus.subscribe("bars", K.BAR, lambda b: seen.append((clock(), b)))
    bus.publish(K.TRADE, trade(clock(), 5.0))
    await asyncio.sleep(0.5)
    bus.publish(K.TRADE, trade(clock(), 6.0))
    await asyncio.sleep(3.0)  # nothing trades: the timer must close the bar
    agent.stop()
    return seen, agent.closed_by_timer, loop


@pytest.mark.parametrize("factory", [virtual_time_loop, dilated_loop(20.0)], ids=["virtual", "x20"])
def test_a_quiet_market_still_closes_its_bar_at_the_interval_end(factory):
    with asyncio.Runner(loop_factory=factory) as runner:
        seen, by_timer, _ = runner.run(_quiet_market("1s"))
    assert by_timer == 1 and len(seen) == 1
    closed_at, bar = seen[0]
    assert bar == Bar(ts=T0, instrument="ABC", open=5.0, high=6.0, low=5.0, close=6.0, volume=2.0)
    assert T0 + S <= closed_at < T0 + S + S // 4  # at the boundary, in data time (loop time)


def test_grace_delays_the_timer_close():
    with asyncio.Runner(loop_factory=virtual_time_loop) as runner:
        seen, _, _ = runner.run(_quiet_market("1s", grace="200ms"))
    assert seen[0][0] == T0 + S + S // 5
