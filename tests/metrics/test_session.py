"""A metrics session in a running loop: loop lag, periodic pulls, one aiodebug patch per process, off by default."""

import asyncio
import threading
import time
from dataclasses import replace

import pytest

from engine.config import Config, MetricsConfig
from engine.runtime.health import metrics_for
from hub import keys as K
from hub.bus import Bus
from hub.messages import Bar
from metrics import slow_callbacks


def bar(ts):
    return Bar(ts=ts, instrument="ABC", open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


def test_loop_lag_and_periodic_flushes_while_running_then_a_final_one(session_factory, udp_receiver):
    session = session_factory(prefix="engine", loop_lag_interval_s=0.01, flush_interval_s=0.03)

    async def main():
        bus = Bus(monitor=session.monitor)
        bus.subscribe("agent", K.BAR, lambda m: None)
        session.attach(bus)
        session.attach(Bus(monitor=session.monitor))  # a second bus in the same loop: no second lag monitor
        lag_monitors = [t for t in asyncio.all_tasks() if t.get_name() == "aiodebug.monitor_loop_lag"]
        for ts in range(10):
            bus.publish(K.BAR, bar(ts))
            await asyncio.sleep(0.02)
        bus.publish(K.BAR, bar(10))  # after the last periodic flush: only the final flush sends it
        return len(lag_monitors)

    assert asyncio.run(main()) == 1
    session.close()
    lines = udp_receiver.lines()
    bars = [int(line.split(":")[1].split("|")[0]) for line in lines if line.startswith("engine.md.bars:")]
    assert len(bars) >= 2 and sum(bars) == 11
    assert any(line.startswith("engine.loop.lag:") and line.endswith("|ms") for line in lines)


def test_close_is_idempotent_and_late_lag_samples_are_dropped(session_factory, udp_receiver):
    session = session_factory(prefix="engine", loop_lag_interval_s=0.01)

    async def main():
        session.attach(Bus(monitor=session.monitor))
        session.close()
        await asyncio.sleep(0.05)  # aiodebug's lag task cannot be stopped: it keeps calling a closed client

    asyncio.run(main())
    session.close()
    assert not [line for line in udp_receiver.lines() if line.startswith("engine.loop.lag")]


def test_aiodebug_patch_is_installed_once_and_reports_to_the_sessions_of_its_thread():
    heard, heard_elsewhere, unregisters = [], [], []
    unregisters.append(slow_callbacks.register(0.05, lambda name, s: heard.append(name)))
    unregisters.append(slow_callbacks.register(0.05, lambda name, s: heard.append("second sink")))
    elsewhere = threading.Thread(
        target=lambda: unregisters.append(slow_callbacks.register(0.05, lambda name, s: heard_elsewhere.append(name))))
    elsewhere.start()
    elsewhere.join()
    installed = slow_callbacks.installed_threshold()

    async def main():
        asyncio.get_running_loop().call_soon(time.sleep, 0.06)
        await asyncio.sleep(0.1)

    try:
        asyncio.run(main())
    finally:
        for unregister in unregisters:
            unregister()
    assert installed is not None and installed <= 0.05 and slow_callbacks.installed_threshold() == installed
    assert len([name for name in heard if "sleep" in name]) == 1  # installed twice, it would report twice
    assert heard.count("second sink") == 1
    assert heard_elsewhere == []  # a sink hears only the callbacks of the thread it registered on

    asyncio.run(main())  # all unregistered: nobody hears it any more
    assert len(heard) == 2


def test_metrics_are_off_unless_configured():
    with metrics_for(Config()) as metrics:
        assert metrics is None


@pytest.mark.parametrize(("statsd", "prefix", "message"), [
    ("localhost", "engine", "expected HOST:PORT"),
    ("127.0.0.1:99999", "engine", "outside 1-65535"),
    ("no-such-host.invalid:8125", "engine", "cannot resolve host"),
    ("127.0.0.1:8125", "bad prefix", "statsd prefix"),
])
def test_bad_settings_fail_before_the_run(statsd, prefix, message):
    config = replace(Config(), metrics=MetricsConfig(statsd=statsd, prefix=prefix))
    with pytest.raises(ValueError, match=message), metrics_for(config):
        pass


def test_configured_metrics_yield_a_session_with_the_bus_hooks(udp_receiver):
    config = replace(Config(), metrics=MetricsConfig(statsd=udp_receiver.address, prefix="p", slow_callback_ms=75))
    with metrics_for(config, flush_interval_s=0.5) as metrics:
        assert metrics.monitor.sample_every == 64
        assert metrics.settings.slow_callback_s == 0.075 and metrics.settings.flush_interval_s == 0.5
        bus = Bus(monitor=metrics.monitor)
        metrics.attach(bus)
        bus.publish(K.BAR, bar(1))
    assert "p.md.bars:1|c" in udp_receiver.lines()


def test_a_second_bus_without_trading_reports_its_agents_but_not_its_market_data(session_factory, udp_receiver):
    session = session_factory(prefix="engine")
    main, ingress = Bus(monitor=session.monitor), Bus()
    main.subscribe("strategy", K.BAR, lambda m: None)
    ingress.subscribe("feed", K.BAR, lambda m: None)
    session.attach(main)
    session.attach(ingress, trading=False)
    for bus in (ingress, main):  # the same bar crosses both buses
        bus.publish(K.BAR, bar(1))
    session.close()
    lines = udp_receiver.lines()
    assert "engine.md.bars:1|c" in lines
    assert {"engine.agent.strategy.handled:1|c", "engine.agent.feed.handled:1|c"} <= set(lines)


def test_one_session_watches_one_loop(session_factory):
    session = session_factory(prefix="engine")

    async def attach():
        session.attach(Bus(monitor=session.monitor))

    asyncio.run(attach())
    with pytest.raises(RuntimeError, match="one event loop"):
        asyncio.run(attach())
