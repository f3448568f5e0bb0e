"""A restart rebuilds the broker's books from the journal with the broker's own accounting, and hands them back."""

from __future__ import annotations

from agents.broker import BrokerAgent, BrokerSettings
from engine.daemon.journal import JOURNAL_FILE, Journal, SessionStart
from engine.daemon.recovery import recover
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, Fill, SubmitOrder

MIN = 60_000_000_000


def bar(n: int, instrument: str, price: float, volume: float = 1e6) -> Bar:
    return Bar(n * MIN, instrument, price, price + 1, price - 1, price, volume)


def order(n: int, seq: int, instrument: str, side: str, size: float) -> SubmitOrder:
    return SubmitOrder(n * MIN, f"s-{seq}", "s", instrument, side, size, signal_price=100.0)


def trade(tmp_path) -> BrokerAgent:
    """A: bought, added to, reduced at a profit, closed (flat, realized P&L); B: shorted and held;
    C: a buy capped by volume, still open with what remains."""
    bus = Bus()
    journal = Journal(bus, tmp_path)
    journal.attach()
    journal.append(SessionStart(ts=0, mode="test", strategy="s", cash=100_000.0))
    broker = BrokerAgent(bus, lambda: 0, BrokerSettings(cash=100_000.0, commission=0.001, volume_cap=0.5),
                         marks_every=1)
    broker.attach()
    script = {
        1: [order(1, 1, "A", "BUY", 10), order(1, 2, "B", "SELL", 5)],
        2: [order(2, 3, "A", "BUY", 10)],
        3: [order(3, 4, "C", "BUY", 30), order(3, 5, "A", "SELL", 15)],
        4: [order(4, 6, "A", "SELL", 5)],
    }
    prices = {"A": [100, 101, 103, 106, 104, 107], "B": [50, 49, 48, 52, 51, 50], "C": [20, 20, 21, 22, 23, 24]}
    volume = {"A": 1e6, "B": 1e6, "C": 20.0}
    for n in range(6):
        for instrument in ("A", "B", "C"):
            bus.publish(K.BAR, bar(n, instrument, prices[instrument][n], volume[instrument]))
        for msg in script.get(n, []):
            bus.publish(K.SUBMIT_ORDER, msg)
    journal.close()
    return broker


def _books(states):
    return [(p.instrument, p.size, p.avg_price, p.realized_pnl) for p in states]


def test_recovered_positions_are_the_brokers_every_instrument_ever_traded(tmp_path):
    broker = trade(tmp_path)
    books = _books(broker.position_states())
    assert [b[:2] for b in books] == [("A", 0.0), ("B", -5.0), ("C", 20.0)]
    assert books[0][3] > 0  # A's round trip realized a profit
    state = recover(tmp_path)
    assert _books(state.position_states()) == books
    assert state.cash == broker.cash and state.mismatches == 0


def test_positions_replayed_from_fills_alone_are_the_brokers(tmp_path):
    broker = trade(tmp_path)
    path = tmp_path / JOURNAL_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(line for line in lines if b'"AccountState"' not in line))
    assert _books(recover(tmp_path).position_states()) == _books(broker.position_states())


def test_a_restored_broker_has_the_books_and_fills_what_remained(tmp_path):
    broker = trade(tmp_path)
    (open_order,) = broker.open_orders()
    assert (open_order.order_id, open_order.size, open_order.remaining) == ("s-4", 30.0, 10.0)
    state = recover(tmp_path)

    bus = Bus()
    fills: list[Fill] = []
    bus.subscribe("t", K.FILL, fills.append)
    again = BrokerAgent(bus, lambda: 0, BrokerSettings(cash=1.0, commission=0.001, volume_cap=0.5), marks_every=1)
    again.attach()
    again.restore(state.cash, state.position_states(), [(o.order, o.remaining) for o in state.open_orders.values()])
    assert again.cash == broker.cash
    assert again.position_states() == state.position_states()
    assert [(o.order_id, o.size, o.remaining) for o in again.open_orders()] == [("s-4", 30.0, 10.0)]
    assert again.equity() == state.cash + (-5.0 * 50) + 20.0 * 24  # marked at the recovered last prices
    bus.publish(K.BAR, bar(6, "C", 25, volume=100.0))
    assert [(f.order_id, f.size, f.remaining, f.position) for f in fills] == [("s-4", 10.0, 0.0, 30.0)]
