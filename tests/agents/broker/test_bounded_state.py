"""The broker's state must not grow with history: after any number of finished orders it holds nothing.

(How much an order or a quiet bar costs is measured by ``make bench``, not here:
a wall-clock bound in a unit test only measures the machine.)
"""

from __future__ import annotations

from agents.broker import BrokerSettings
from hub import keys as K
from hub.messages import Bar, SubmitOrder
from tests.agents.broker.support import Rig


def _bars(n: int, start: int = 0) -> list[Bar]:
    return [Bar(i, "X", 10.0, 10.5, 9.5, 10.0 + (i % 7) * 0.01, 1000.0) for i in range(start, start + n)]


def _round_trips(rig: Rig, bars: list[Bar]) -> None:
    """One market order per bar, alternately buying and selling 10: every order fills and is forgotten."""
    publish = rig.bus.publish
    broker = rig.broker
    for b in bars:
        publish(K.BAR, b)
        side = "BUY" if b.ts % 2 == 0 else "SELL"
        publish(K.SUBMIT_ORDER, SubmitOrder(b.ts, f"o{b.ts}", "s", "X", side, 10.0, signal_price=b.close))
    assert broker.open_order_count() <= 1


def test_finished_orders_are_forgotten() -> None:
    rig = Rig(BrokerSettings(commission=0.001))
    _round_trips(rig, _bars(50_000))
    broker = rig.broker
    assert len(rig.rec.fills) > 45_000
    assert broker.open_order_count() == 1  # the order decided on the last bar
    book = broker.flow.books["X"]
    assert len(book.submitted) == 1 and not book.active and not book.cancels
    assert list(broker.account.positions) == ["X"]

