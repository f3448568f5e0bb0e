"""Cost per event must not grow with history, and a quiet bar must stay cheap.

Timing bounds are loose (shared CI machines); the structural checks are the
real guard: after any number of finished orders the broker holds nothing.
"""

from __future__ import annotations

import time

from br_support import Rig

from agents.broker import BrokerConfig, Commission
from hub import keys as K
from hub.messages import Bar, SubmitOrder


def _bars(n: int, start: int = 0) -> list[Bar]:
    return [Bar(i, "X", 10.0, 10.5, 9.5, 10.0 + (i % 7) * 0.01, 1000.0) for i in range(start, start + n)]


def _round_trips(rig: Rig, bars: list[Bar]) -> float:
    """One market order per bar, alternately buying and selling 10: every order fills and is forgotten."""
    publish = rig.bus.publish
    broker = rig.broker
    t0 = time.perf_counter()
    for b in bars:
        publish(K.BAR, b)
        side = "BUY" if b.ts % 2 == 0 else "SELL"
        publish(K.SUBMIT_ORDER, SubmitOrder(b.ts, f"o{b.ts}", "s", "X", side, 10.0, signal_price=b.close))
    assert broker.open_order_count() <= 1
    return time.perf_counter() - t0


def test_finished_orders_are_forgotten_and_cost_does_not_grow() -> None:
    rig = Rig(BrokerConfig(commission=Commission(0.001)))
    first = min(_round_trips(rig, _bars(2_000, k * 2_000)) for k in range(3))
    _round_trips(rig, _bars(40_000, 10_000))
    last = min(_round_trips(rig, _bars(2_000, 60_000 + k * 2_000)) for k in range(3))
    broker = rig.broker
    assert len(rig.rec.fills) > 40_000
    assert broker.open_order_count() == 1  # the order decided on the last bar
    book = broker._books["X"]
    assert len(book.submitted) == 1 and not book.active and not book.cancels
    assert list(broker.account.positions) == ["X"]
    assert last < 3 * first, (first, last)


def test_quiet_bar_is_cheap() -> None:
    """A bar with no orders, called directly (no bus): report and loosely bound the broker's own cost."""
    rig = Rig()
    on_bar = rig.broker.on_bar
    bars = _bars(50_000)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for b in bars:
            on_bar(b)
        best = min(best, time.perf_counter() - t0)
    per_bar_us = best / len(bars) * 1e6
    print(f"broker on_bar, no orders, no position: {per_bar_us:.2f} us")
    assert per_bar_us < 20
