"""A busy journaled process for the kill -9 test: trades forever, acknowledging each fill on stdout.

The acknowledgment is printed by an agent attached after the journal: what it
prints is what the outside world was told. Run: python dm_journal_child.py DIR
"""

from __future__ import annotations

import asyncio
import sys

from agents.broker import BrokerAgent, BrokerSettings
from engine.daemon.journal import Journal, SessionStart
from engine.runtime.logs import configure_logging
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar, SubmitOrder


async def trade_forever(directory: str) -> None:
    clock_ts = [0]
    bus = Bus(clock=lambda: clock_ts[0])
    journal = Journal(bus, directory, fsync_every=16, fsync_interval=0.002)
    journal.attach()
    broker = BrokerAgent(bus, lambda: clock_ts[0], BrokerSettings(cash=1e9))
    broker.attach()
    out = sys.stdout

    def acknowledge(fill):
        out.write(f"ACK {fill.order_id} {fill.remaining} {fill.cash!r}\n")
        out.flush()

    bus.subscribe("ack", K.FILL, acknowledge)
    journal.append(SessionStart(ts=0, mode="test", strategy="child", cash=1e9))
    out.write("READY\n")
    out.flush()
    price, n = 100.0, 0
    while True:
        n += 1
        price += 0.5 if (n * 7919) % 13 < 7 else -0.5
        ts = n * 60_000_000_000
        clock_ts[0] = ts
        bus.publish(K.BAR, Bar(ts=ts, instrument="ABC", open=price, high=price + 1, low=price - 1,
                               close=price, volume=1e6))
        side = "BUY" if n % 3 else "SELL"
        bus.publish(K.SUBMIT_ORDER, SubmitOrder(ts=ts, order_id=f"child-{n}", strategy="child",
                                                instrument="ABC", side=side, size=1.0 + n % 5,
                                                signal_price=price))
        if n % 8 == 0:
            await asyncio.sleep(0)


if __name__ == "__main__":
    configure_logging("error")
    asyncio.run(trade_forever(sys.argv[1]))
