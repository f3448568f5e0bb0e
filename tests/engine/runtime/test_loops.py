"""The loop factories: dilation scales timers, the aiodebug defects are fixed, virtual time jumps.

Assertions are on loop time and event order; wall-clock bounds appear only
where dilation itself is the claim, and then they are generous.
"""

from __future__ import annotations

import asyncio
import math
import socket
import sys
import threading
import time

import pytest
import uvloop

from engine.runtime.loops import (
    VIRTUAL,
    DilatedLoop,
    VirtualTimeLoop,
    aiodebug_dilated_loop_on,
    check_dilation,
    dilated_loop,
    loop_factory_for,
    stdlib_loop,
    uvloop_loop,
    virtual_time_loop,
)


def run(factory, coro_fn):
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro_fn())


# ---------------------------------------------------------------- dilation


@pytest.mark.parametrize("dilation", [10.0, 100.0])
def test_sleep_advances_loop_time_by_its_duration_in_less_real_time(dilation):
    async def main():
        loop = asyncio.get_running_loop()
        t0, w0 = loop.time(), time.monotonic()
        await asyncio.sleep(3.0)
        return loop.time() - t0, time.monotonic() - w0

    loop_dt, wall_dt = run(dilated_loop(dilation), main)
    assert loop_dt >= 3.0
    assert loop_dt < 3.0 + 0.5  # overshoot is one iteration x dilation, not 1 ms x dilation per wake
    assert wall_dt < 3.0 / 2  # generous: the claim is "faster than real time"


def test_call_later_fires_in_order_at_scaled_times():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        fired: list[tuple[str, float]] = []
        done = loop.create_future()
        for name, delay in [("c", 0.9), ("a", 0.3), ("b", 0.6)]:
            loop.call_later(delay, lambda n=name: fired.append((n, loop.time() - t0)))
        loop.call_later(1.0, done.set_result, None)
        await done
        return fired

    fired = run(dilated_loop(20), main)
    assert [name for name, _ in fired] == ["a", "b", "c"]
    for (_, at), due in zip(fired, [0.3, 0.6, 0.9], strict=True):
        assert due <= at < due + 0.25


def test_wait_for_times_out_after_its_loop_time():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=2.0)
        return loop.time() - t0

    elapsed = run(dilated_loop(50), main)
    assert 2.0 <= elapsed < 4.0  # never early; late by as much as the machine makes it


def test_asyncio_timeout_context_scales():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await asyncio.sleep(10)
        return loop.time() - t0

    assert 1.5 <= run(dilated_loop(30), main) < 2.0


def test_dilation_can_change_while_running():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(0.5)
        loop.time_dilation = 200.0
        await asyncio.sleep(5.0)
        return loop.time() - t0

    assert run(dilated_loop(20), main) >= 5.5


# ---------------------------------------------------------------- the aiodebug defects


def _read_with_no_timer_pending(factory):
    """Wait on a socket with nothing scheduled: the selector is called with timeout None."""
    left, right = socket.socketpair()

    def writer():
        time.sleep(0.05)
        right.send(b"x")

    async def main():
        loop = asyncio.get_running_loop()
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            return await loop.sock_recv(left, 1)
        finally:
            thread.join()

    left.setblocking(False)
    try:
        return run(factory, main)
    finally:
        left.close()
        right.close()


def test_original_aiodebug_loop_crashes_on_io_without_timer():
    """The defect we fix, kept visible: if this starts passing, aiodebug fixed it."""
    original = aiodebug_dilated_loop_on(asyncio.SelectorEventLoop)
    with pytest.raises(TypeError):
        _read_with_no_timer_pending(original)


@pytest.mark.parametrize("factory", [dilated_loop(1.0), dilated_loop(100.0), virtual_time_loop])
def test_io_with_no_timer_pending_does_not_crash(factory):
    assert _read_with_no_timer_pending(factory) == b"x"


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 0, -1.0, "fast", None])
def test_unusable_dilations_are_refused(bad):
    with pytest.raises(ValueError, match="dilation"):
        check_dilation(bad)
    with pytest.raises(ValueError, match="dilation"):
        dilated_loop(bad)


def test_setting_a_bad_dilation_on_a_running_loop_is_refused():
    loop = DilatedLoop(5.0)
    try:
        with pytest.raises(ValueError):
            loop.time_dilation = math.inf
        assert loop.time_dilation == 5.0
    finally:
        loop.close()


def test_base_class_is_explicit_even_under_a_running_uvloop():
    """aiodebug's module asks the current loop for its base; ours names it."""

    async def main():
        return aiodebug_dilated_loop_on(asyncio.SelectorEventLoop)

    module_before = sys.modules.get("aiodebug.testing.time_dilated_loop")
    cls = run(uvloop.new_event_loop, main)
    assert issubclass(cls, asyncio.SelectorEventLoop)
    assert not issubclass(cls, uvloop.Loop)
    assert issubclass(DilatedLoop, asyncio.SelectorEventLoop)
    assert sys.modules.get("aiodebug.testing.time_dilated_loop") is module_before


# ---------------------------------------------------------------- virtual time


def test_ten_thousand_one_second_sleeps_take_ten_thousand_loop_seconds():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(10_000):
            await asyncio.sleep(1)
        return loop.time() - t0, loop.jumps

    elapsed, jumps = run(virtual_time_loop, main)
    assert elapsed == 10_000
    assert jumps == 10_000


def test_many_concurrent_timers_fire_in_deadline_order():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        order: list[int] = []

        async def sleeper(i: int) -> None:
            await asyncio.sleep((i * 7919) % 1000 / 10)
            order.append(i)

        await asyncio.gather(*(sleeper(i) for i in range(1000)))
        return order, loop.time() - t0

    order, elapsed = run(virtual_time_loop, main)
    assert order == sorted(range(1000), key=lambda i: ((i * 7919) % 1000, i))
    assert elapsed == pytest.approx(99.9)


def test_virtual_time_does_not_advance_while_computing():
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sum(range(200_000))
        await asyncio.sleep(0)
        return loop.time() - t0

    assert run(virtual_time_loop, main) == 0.0


# ---------------------------------------------------------------- same behaviour at any dilation


async def _timer_strategy() -> list[tuple[str, int]]:
    """Periodic tasks on absolute deadlines and one-shot timers: what a timer strategy does.

    Due times are at least 0.1 loop-s apart; a late wake-up runs every due
    timer in deadline order, so only a tie could reorder events.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    events: list[tuple[str, int]] = []

    async def ticker(name: str, period: float, count: int) -> None:
        for k in range(1, count + 1):
            await asyncio.sleep(t0 + k * period - loop.time())
            events.append((name, k))

    async def once(delay: float, k: int) -> None:
        await asyncio.sleep(delay)
        events.append(("once", k))

    await asyncio.gather(ticker("fast", 0.4, 6), ticker("slow", 0.7, 3), once(0.5, 0), once(1.3, 1))
    return events


@pytest.mark.parametrize("factory", [dilated_loop(1.0), dilated_loop(10.0), dilated_loop(50.0), virtual_time_loop],
                         ids=["x1", "x10", "x50", "virtual"])
def test_timer_strategy_sees_the_same_event_order_at_any_dilation(factory):
    reference = run(stdlib_loop, _timer_strategy)
    assert run(factory, _timer_strategy) == reference
    assert reference[:4] == [("fast", 1), ("once", 0), ("slow", 1), ("fast", 2)]


# ---------------------------------------------------------------- choosing a loop


def test_loop_factory_for_each_mode():
    loops = {}
    for label, factory in [
        ("live", loop_factory_for("live")),
        ("replay", loop_factory_for("replay", 25)),
        ("virtual", loop_factory_for("replay", VIRTUAL)),
        ("backtest", loop_factory_for("backtest")),
        ("test", loop_factory_for("test")),
    ]:
        loop = factory()
        loops[label] = loop
        loop.close()
    assert isinstance(loops["live"], uvloop.Loop)
    assert isinstance(loops["replay"], DilatedLoop) and loops["replay"].time_dilation == 25
    assert isinstance(loops["virtual"], VirtualTimeLoop)
    assert type(loops["backtest"]) is asyncio.SelectorEventLoop
    assert uvloop_loop is loop_factory_for("live")


def test_loop_factory_for_refuses_unknown_modes_and_bad_dilations():
    with pytest.raises(ValueError, match="mode"):
        loop_factory_for("paper")
    with pytest.raises(ValueError, match="dilation"):
        loop_factory_for("replay", math.inf)


def test_virtual_timers_still_fire_after_years_of_loop_time():
    """Float steps exceed 1 ns past ~10^7 s: a timer due exactly 'now' must still run."""

    async def main():
        loop = asyncio.get_running_loop()
        for _ in range(3 * 365):
            await asyncio.sleep(86_400)
        return loop.time()

    assert run(virtual_time_loop, main) == 3 * 365 * 86_400
