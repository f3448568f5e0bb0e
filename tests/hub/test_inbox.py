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


def test_a_lagging_consumer_gets_the_newest_bar_not_the_oldest_queued():
    async def main():
        bus = Bus()
        seen = []
        inbox = bus.subscribe_queue("lagging", [K.BAR], seen.append, maxsize=3, conflate=by_instrument)
        for ts in range(1, 11):  # ten bars of A while the consumer has not run
            bus.publish(K.BAR, bar(ts, "A"))
        bus.publish(K.BAR, bar(11, "B"))
        bus.start()
        await bus.drain()
        caught_up = list(seen)
        bus.publish(K.BAR, bar(12, "A"))  # caught up: every bar is delivered again
        bus.publish(K.BAR, bar(13, "A"))
        await bus.drain()
        await bus.stop()
        return caught_up, seen, inbox

    caught_up, seen, inbox = asyncio.run(main())
    assert [(m.instrument, m.ts) for m in caught_up] == [("A", 10), ("B", 11)]
    assert [m.ts for m in seen[2:]] == [12, 13]
    assert inbox.conflated == 9 and inbox.compactions == 1


def test_under_a_flood_the_consumers_lag_behind_the_feed_stays_bounded():
    """A producer outpacing its consumer: the lag, in messages published since, stays within one inbox.

    (Replacing only the newest queued item, the consumer worked through ``maxsize`` old items while
    each of its turns let a whole burst arrive: its lag grew to ``maxsize`` bursts.)
    """
    instruments = [f"I{i}" for i in range(5)]
    burst, bursts, maxsize = 1000, 100, 2000

    async def main():
        bus = Bus()
        published = [0]
        lags = []

        def slow(msg):
            lags.append(published[0] - msg.ts)

        inbox = bus.subscribe_queue("strategy", [K.BAR], slow, maxsize=maxsize, conflate=by_instrument)
        bus.start()
        for _ in range(bursts):
            for _ in range(burst):  # a burst arrives between two turns of the consumer
                published[0] += 1
                bus.publish(K.BAR, bar(published[0], instruments[published[0] % len(instruments)]))
            await asyncio.sleep(0)
        await bus.drain(timeout=30)
        await bus.stop()
        return lags, inbox

    lags, inbox = asyncio.run(main())
    assert inbox.compactions >= 1 and inbox.conflated > burst * bursts / 2
    settled = lags[len(lags) // 2:]
    assert max(settled) <= maxsize + burst  # behind by at most one inbox and the burst in flight
