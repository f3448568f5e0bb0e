"""A handler that blocks the loop for 200 ms is reported, naming it, on the stdlib loop and on uvloop.

The report is a StatsD timing plus a logwood warning (pytest's caplog sees no
logwood records: ``logwood_handler_mock`` does). On the stdlib loop aiodebug's
slow-callback patch reports the blocked asyncio callback as well; on uvloop
that patch sees nothing, and the bus-mark watchdog is what catches it.
"""

import asyncio
import time

import pytest
import uvloop

from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar

LOOPS = {"stdlib": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def bar():
    return Bar(ts=1, instrument="ABC", open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


def block_the_loop(msg):
    time.sleep(0.2)


def run_one_bar(session, loop_factory, handler, queue=False):
    async def main():
        bus = Bus(monitor=session.monitor)
        if queue:
            bus.subscribe_queue("sleeper", [K.BAR], handler)
            bus.start()
        else:
            bus.subscribe("sleeper", K.BAR, handler)
        session.attach(bus)
        await asyncio.sleep(0.02)
        bus.publish(K.BAR, bar())
        await bus.drain(timeout=2.0)
        await asyncio.sleep(0.05)
        await bus.stop()
        bus.unsubscribe_all()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())
    session.close()  # stops the watchdog (its last poll reports what ended since) and flushes


def slow_handler_warnings(mock):
    return [m for m in mock["WARNING"] if m.startswith("Slow handler")]


@pytest.mark.parametrize("loop", sorted(LOOPS))
@pytest.mark.parametrize("queue", [False, True], ids=["sync", "queue"])
def test_blocking_handler_is_reported_by_name(loop, queue, session_factory, udp_receiver, logwood_handler_mock):
    session = session_factory(prefix="engine", slow_callback_s=0.05)
    run_one_bar(session, LOOPS[loop], block_the_loop, queue=queue)
    warnings = slow_handler_warnings(logwood_handler_mock)
    assert len(warnings) == 1, logwood_handler_mock["WARNING"]
    assert warnings[0].startswith("Slow handler block_the_loop of agent sleeper blocked the loop for 0.")
    assert warnings[0].endswith("s (threshold 0.050 s)")
    seconds = float(warnings[0].split(" for ")[1].split(" s ")[0])
    assert seconds >= 0.05  # at least the threshold: the watchdog never reports less
    lines = udp_receiver.lines()
    slow = [line for line in lines if line.startswith("engine.agent.sleeper.slow.block_the_loop:")]
    assert len(slow) == 1 and slow[0].endswith("|ms")
    aiodebug_reports = [m for m in logwood_handler_mock["WARNING"] if m.startswith("Slow callback")]
    if loop == "stdlib":
        assert aiodebug_reports and any(line.startswith("engine.loop.slow_callback:") for line in lines)
    else:
        assert not aiodebug_reports  # aiodebug's patch cannot see uvloop's Cython handles


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_handler_stuck_for_good_is_reported_while_it_is_stuck(loop, session_factory, logwood_handler_mock):
    session = session_factory(prefix="engine", slow_callback_s=0.05, hang_after_s=0.2)
    seen_while_stuck = []

    def stuck(msg):
        time.sleep(0.5)
        seen_while_stuck.extend(m for m in logwood_handler_mock["WARNING"] if m.startswith("Loop stalled"))

    run_one_bar(session, LOOPS[loop], stuck)
    assert len(seen_while_stuck) == 1
    assert seen_while_stuck[0].startswith("Loop stalled: handler test_a_handler_stuck_for_good_is_reported_while_it_is_stuck.<locals>.stuck of agent sleeper has been running for 0.")
    assert len(slow_handler_warnings(logwood_handler_mock)) == 1


def test_short_handlers_are_not_reported(session_factory, udp_receiver, logwood_handler_mock):
    session = session_factory(prefix="engine", slow_callback_s=0.5)
    run_one_bar(session, asyncio.new_event_loop, lambda msg: time.sleep(0.001))
    assert slow_handler_warnings(logwood_handler_mock) == []
    assert not [line for line in udp_receiver.lines() if ".slow." in line]
