"""Per-bar cost of the model state agent (not collected by pytest).

Run: .venv/bin/python -m benchmarks.bench_model_state [bars]
Figures: min of 3 timeit runs over the same 1M Bar messages.
"""

from __future__ import annotations

import sys
import timeit

import logwood

logwood.basic_config()

from agents.model_state import InstrumentState, ModelStateAgent  # noqa: E402
from hub import keys as K  # noqa: E402
from hub.bus import Bus  # noqa: E402
from hub.messages import Bar, IndicatorRequest, IndicatorSpec  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SPECS = (IndicatorSpec("fast", "sma", 10), IndicatorSpec("slow", "sma", 30))
bars = [Bar(ts=i, instrument="X", open=10.0, high=10.1, low=9.9, close=10.0 + (i % 97) * 0.01, volume=1e4)
        for i in range(N)]


def best(fn) -> float:
    return min(timeit.repeat(fn, number=1, repeat=3)) / N * 1e6


def bare() -> float:
    bus = Bus()
    bus.subscribe("sink", K.BAR, lambda m: None)
    pub, key = bus.publish, K.BAR
    return best(lambda: [pub(key, b) for b in bars])


def pipeline() -> float:
    bus = Bus()
    agent = ModelStateAgent(bus, lambda: 0)
    agent.attach()
    bus.subscribe("sink", K.MARKET_STATE, lambda m: None)
    bus.publish(K.INDICATOR_REQUEST, IndicatorRequest(ts=0, requester="s", specs=SPECS))
    pub, key = bus.publish, K.BAR
    return best(lambda: [pub(key, b) for b in bars])


def handler_only() -> float:
    bus = Bus()
    agent = ModelStateAgent(bus, lambda: 0)
    bus.subscribe("sink", K.MARKET_STATE, lambda m: None)
    agent.on_request(IndicatorRequest(ts=0, requester="s", specs=SPECS))
    on_bar = agent.on_bar
    return best(lambda: [on_bar(b) for b in bars])


def update_only() -> float:
    state = InstrumentState(31)
    for s in SPECS:
        state.add(s)
    up = state.update
    return best(lambda: [up(b) for b in bars])


if __name__ == "__main__":
    b, p, h, u = bare(), pipeline(), handler_only(), update_only()
    print(f"bus hop Bar -> no-op subscriber     {b:.3f} us/bar")
    print(f"Bar -> agent (2 SMAs) -> MarketState -> no-op subscriber  {p:.3f} us/bar")
    print(f"  agent's own share (pipeline - bare hop)  {p - b:.3f} us/bar")
    print(f"  agent.on_bar called directly (incl. MarketState publish)  {h:.3f} us/bar")
    print(f"  InstrumentState.update alone (2 SMAs)    {u:.3f} us/bar")
