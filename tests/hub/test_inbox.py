"""The live delivery style: a bounded inbox, one consumer task, conflation of market data only."""

import asyncio

from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, Fill


def bar(ts, instrument="ABC"):
    return Bar(ts=ts, instrument=instrument, open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


def fill(ts):
    return Fill(ts=ts, order_id=f"o{ts}", instrument="ABC", side="BUY", size=1.0, price=1.0,
                commission=0.0, remaining=0.0, position=1.0, cash=0.0)


def by_instrument(key, msg):
    return (key, msg.instrument) if key == K.BAR else None


def test_inbox_delivers_in_order_on_one_consumer_task():
    async def main():
        bus = Bus()
        seen = []
        inbox = bus.subscribe_queue("slow", [K.BAR, K.FILL], seen.append, maxsize=100, conflate=by_instrument)
        bus.start()
        bus.publish(K.BAR, bar(1))
        bus.publish(K.FILL, fill(2))
        bus.publish(K.BAR, bar(3))
        assert seen == []  # queued, not called inside publish
        await bus.drain()
        await bus.stop()
        return seen, inbox

    seen, inbox = asyncio.run(main())
    assert [m.ts for m in seen] == [1, 2, 3]
    assert inbox.conflated == 0


def test_full_inbox_conflates_market_data_per_instrument_but_never_drops_fills():
    async def main():
        bus = Bus()
        seen = []
        inbox = bus.subscribe_queue("lagging", [K.BAR, K.FILL], seen.append, maxsize=2, conflate=by_instrument)
        bus.publish(K.BAR, bar(1, "A"))
        bus.publish(K.BAR, bar(2, "B"))
        bus.publish(K.BAR, bar(3, "A"))  # full: replaces the pending A bar
        bus.publish(K.FILL, fill(4))  # never dropped, even when full
        bus.publish(K.BAR, bar(5, "C"))  # full and nothing pending for C: queued, counted as overflow
        bus.start()
        await bus.drain()
        await bus.stop()
        return seen, inbox

    seen, inbox = asyncio.run(main())
    assert [(type(m).__name__, m.ts) for m in seen] == [("Bar", 3), ("Bar", 2), ("Fill", 4), ("Bar", 5)]
    assert inbox.conflated == 1
    assert inbox.overflow == 2


def test_inbox_consumer_survives_handler_errors():
    async def main():
        bus = Bus()
        seen = []

        def handler(msg):
            if msg.ts == 2:
                raise RuntimeError("boom")
            seen.append(msg.ts)

        bus.subscribe_queue("agent", [K.BAR], handler, maxsize=10)
        bus.start()
        for ts in (1, 2, 3):
            bus.publish(K.BAR, bar(ts))
        await bus.drain()
        await bus.stop()
        return seen, bus.errors

    seen, errors = asyncio.run(main())
    assert seen == [1, 3]
    assert errors == 1
