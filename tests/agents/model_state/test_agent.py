"""ModelStateAgent through a real Bus: requests, sharing, per-requester MarketState, late specs, errors."""

from __future__ import annotations

import math

import pytest

from agents.model_state import ModelStateAgent
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, IndicatorRequest, IndicatorSpec, MarketState
from tests.agents.model_state.support import bars_of, grid_series, run_backtrader, same, spec


def rig(**kw):
    bus = Bus()
    agent = ModelStateAgent(bus, lambda: 0, **kw)
    agent.attach()
    got: list[MarketState] = []
    errors = []
    bus.subscribe("collector", K.MARKET_STATE, got.append)
    bus.subscribe("collector", K.AGENT_ERROR, errors.append)
    return bus, agent, got, errors


def request(bus, requester, *specs):
    bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=0, requester=requester, specs=tuple(specs)))


def test_each_requester_gets_its_names_in_its_order_and_shared_specs_are_computed_once():
    bus, agent, got, errors = rig()
    request(bus, "a", spec("sma", 10, name="fast"), spec("sma", 30, name="slow"))
    request(bus, "b", spec("sma", 30, name="s30"), spec("rsi", 14, name="r"), spec("sma", 10, name="s10"))
    rows = grid_series(300, seed=1)
    for bar in bars_of(rows):
        bus.publish(K.BAR, bar)
    assert not errors
    assert [len(s.indicators) for s in agent.states.values()] == [3]  # sma10, sma30, rsi14: once each
    a = [m for m in got if m.requester == "a"]
    b = [m for m in got if m.requester == "b"]
    assert len(a) == len(b) == 300
    assert a[0].names == ("fast", "slow") and b[0].names == ("s30", "r", "s10")
    ref = run_backtrader(rows, [spec("sma", 10), spec("sma", 30), spec("rsi", 14)])
    for t, (ma, mb) in enumerate(zip(a, b, strict=True)):
        assert ma.ts == mb.ts == t and ma.bar is mb.bar
        assert same(ma.values[0], ref["sma10_close"][t]) and same(ma.values[1], ref["sma30_close"][t])
        assert same(mb.values[0], ma.values[1]) and same(mb.values[2], ma.values[0])
        assert same(mb.values[1], ref["rsi14_close"][t])


def test_instruments_have_separate_state():
    bus, agent, got, _ = rig()
    request(bus, "a", spec("sma", 2, name="m"))
    for ts, (inst, px) in enumerate([("X", 1.0), ("Y", 100.0), ("X", 3.0), ("Y", 300.0), ("X", 5.0)]):
        bus.publish(K.BAR, _bar(inst, ts, px))
    assert [(m.bar.instrument, m.values[0]) for m in got][2:] == [("X", 2.0), ("Y", 200.0), ("X", 4.0)]
    assert math.isnan(got[0].values[0]) and math.isnan(got[1].values[0])
    assert sorted(agent.states) == ["X", "Y"]


def _bar(inst, ts, px):
    return Bar(ts=ts, instrument=inst, open=px, high=px, low=px, close=px, volume=1.0)


def test_indicators_requested_late_warm_up_from_the_next_bar():
    bus, agent, got, errors = rig()
    request(bus, "a", spec("sma", 2, name="m2"))
    for ts in range(5):
        bus.publish(K.BAR, _bar("X", ts, float(ts)))
    request(bus, "b", spec("sma", 3, name="m3"), spec("sma", 2, name="m2"), spec("ema", 2, name="e"))
    for ts in range(5, 9):
        bus.publish(K.BAR, _bar("X", ts, float(ts)))
    assert not errors
    late = [m for m in got if m.requester == "b"]
    assert [m.ts for m in late] == [5, 6, 7, 8]
    m3 = [m.values[0] for m in late]
    assert all(math.isnan(v) for v in m3[:2]) and m3[2:] == [6.0, 7.0]  # mean of 5,6,7 then 6,7,8
    assert [m.values[1] for m in late] == [4.5, 5.5, 6.5, 7.5]  # shared, already warm
    assert math.isnan(late[0].values[2]) and late[1].values[2] == 5.5
    assert agent.states["X"].capacity == 4  # grew for the longer period
    assert [m.values for m in got if m.requester == "a"][-1] == (7.5,)


def test_bad_specs_are_refused_by_name_and_change_nothing():
    bus, agent, got, errors = rig()
    request(bus, "a", spec("sma", 3, name="ok"), spec("macd", 3, name="oops"))
    request(bus, "a", spec("sma", 3, "vwap", name="badsrc"))
    assert [e.error_type for e in errors] == ["ValueError", "ValueError"]
    assert "'macd'" in errors[0].error and "'vwap'" in errors[1].error
    assert agent.specs == []
    with pytest.raises(ValueError, match="'hlc'"):
        agent.on_request(IndicatorRequest(ts=0, requester="a", specs=(spec("sma", 3, "hlc"),)))
    with pytest.raises(ValueError, match="'close'"):
        agent.on_request(IndicatorRequest(ts=0, requester="a", specs=(IndicatorSpec("x", "atr", 3, "close"),)))
    bus.publish(K.BAR, _bar("X", 0, 1.0))
    assert got == []  # nobody asked for anything


def test_a_repeated_request_replaces_the_requesters_list():
    bus, agent, got, _ = rig()
    request(bus, "a", spec("sma", 2, name="m"))
    request(bus, "a", spec("ema", 2, name="e"), spec("sma", 2, name="m"))
    bus.publish(K.BAR, _bar("X", 0, 1.0))
    assert [m.names for m in got] == [("e", "m")]


def test_lookback_sets_a_minimum_history():
    bus, agent, got, _ = rig(lookback=50)
    request(bus, "a", spec("sma", 2, name="m"))
    for ts in range(60):
        bus.publish(K.BAR, _bar("X", ts, float(ts)))
    assert list(agent.states["X"].sources["close"].values()) == [float(x) for x in range(10, 60)]


def test_a_window_fsum_refuses_is_an_agent_error_and_the_next_bars_go_on():
    """+inf and -inf in one window: math.fsum raises ValueError, as backtrader's SMA would; the agent keeps going."""
    bus, agent, got, errors = rig()
    request(bus, "a", spec("sma", 2, name="m"))
    for ts, px in enumerate([1.0, math.inf, -math.inf, 2.0, 3.0]):
        bus.publish(K.BAR, _bar("X", ts, px))
    assert [e.error_type for e in errors] == ["ValueError"] and "-inf + inf" in errors[0].error
    assert [m.ts for m in got] == [0, 1, 3, 4] and [m.values[0] for m in got][1:] == [math.inf, -math.inf, 2.5]
