"""The bus's instrumentation that metrics relies on: sampled timing, the running handler, first subscribers."""


import pytest

from hub import keys as K
from hub.bus import Bus, Monitor, running_handler
from hub.messages import Bar, EndOfData, SubmitOrder


def bar(ts=1, instrument="ABC"):
    return Bar(ts=ts, instrument=instrument, open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


class Recording(Monitor):
    def __init__(self, sample_every):
        self.current = None
        self.sample_every = sample_every
        self.timed_calls = []
        self.failed = []

    def handler_done(self, stats, seconds):
        self.timed_calls.append(stats.handled)

    def handler_failed(self, stats, exc):
        self.failed.append(type(exc).__name__)


@pytest.mark.parametrize(("sample_every", "timed"), [(4, [4, 8]), (3, [4, 8]), (1, list(range(1, 11)))])
def test_times_one_call_in_n_rounded_up_to_a_power_of_two(sample_every, timed):
    monitor = Recording(sample_every=sample_every)
    bus = Bus(monitor=monitor)
    stats = bus.subscribe("a", K.BAR, lambda m: None)
    for ts in range(10):
        bus.publish(K.BAR, bar(ts))
    assert stats.handled == 10
    assert monitor.timed_calls == timed


def test_raw_observers_run_uninstrumented_in_order_and_their_errors_are_still_reported():
    bus = Bus()
    seen = []
    stats = bus.subscribe("agent", K.BAR, lambda m: seen.append("agent"))
    bus.observe(K.BAR, lambda key, msg: seen.append(("observer", key)))
    bus.observe(K.BAR, lambda key, msg: seen.append("stamp"), first=True)
    bus.observe(K.BAR, lambda key, msg: 1 / 0)  # reported like any handler's error; delivery goes on
    bus.subscribe("late", K.BAR, lambda m: seen.append("late"))
    bus.publish(K.BAR, bar())
    assert seen == ["stamp", "agent", ("observer", K.BAR), "late"]
    assert stats.handled == 1 and len(bus.subscriptions) == 2 and bus.errors == 1


def test_names_the_timed_handler_while_it_runs_and_restores_it_when_nested():
    monitor = Recording(sample_every=1)
    bus = Bus(monitor=monitor)
    seen = []
    bus.subscribe("outer", K.BAR, lambda m: (seen.append(monitor.current.agent),
                                            bus.publish(K.END_OF_DATA, EndOfData(ts=1)),
                                            seen.append(monitor.current.agent)))
    bus.subscribe("inner", K.END_OF_DATA, lambda m: seen.append(monitor.current.agent))
    bus.publish(K.BAR, bar())
    assert seen == ["outer", "inner", "outer"]
    assert monitor.current is None


def test_the_running_handler_is_named_whether_timed_or_not():
    monitor = Recording(sample_every=64)
    bus = Bus(monitor=monitor)
    seen = []

    def inner(msg):
        seen.append(running_handler(bus).agent)

    def outer(msg):
        seen.append(running_handler(bus).agent)
        bus.publish(K.END_OF_DATA, EndOfData(ts=1))
        seen.append(running_handler(bus).agent)

    bus.subscribe("outer", K.BAR, outer)
    bus.subscribe("inner", K.END_OF_DATA, inner)
    plain = Bus()
    plain.subscribe("unmonitored", K.BAR, lambda m: seen.append(running_handler(plain).handler))
    for ts in range(3):
        bus.publish(K.BAR, bar(ts))
    plain.publish(K.BAR, bar())
    assert seen == ["outer", "inner", "outer"] * 3 + [
        "test_the_running_handler_is_named_whether_timed_or_not.<locals>.<lambda>"]
    assert running_handler(bus, plain) is None


def test_a_failing_monitored_handler_is_counted_and_unmarked():
    monitor = Recording(sample_every=1)
    bus = Bus(monitor=monitor)
    stats = bus.subscribe("a", K.BAR, lambda m: 1 / 0)
    bus.publish(K.BAR, bar())
    assert (stats.handled, stats.errors, monitor.failed, monitor.current) == (1, 1, ["ZeroDivisionError"], None)


def test_first_subscriber_runs_before_earlier_ones_including_wildcards():
    bus = Bus()
    order = []
    bus.subscribe("everything", K.ALL, lambda m: order.append("wildcard"))
    bus.subscribe("agent", K.BAR, lambda m: order.append("agent"))
    bus.publish(K.BAR, bar())  # resolves the route: first must drop it
    bus.subscribe("stamp", K.BAR, lambda m: order.append("stamp"), first=True)
    bus.subscribe("late", K.BAR, lambda m: order.append("late"))
    order.clear()
    bus.publish(K.BAR, bar())
    assert order == ["stamp", "wildcard", "agent", "late"]


def test_first_subscriber_on_a_key_nobody_else_uses_yet():
    bus = Bus()
    order = []
    bus.subscribe("stamp", K.SUBMIT_ORDER, lambda m: order.append("stamp"), first=True)
    bus.subscribe("broker", K.SUBMIT_ORDER, lambda m: order.append("broker"))
    bus.publish(K.SUBMIT_ORDER, SubmitOrder(ts=1, order_id="o", strategy="s", instrument="ABC", side="BUY", size=1.0))
    assert order == ["stamp", "broker"]


def test_first_needs_an_exact_key():
    with pytest.raises(ValueError, match="exact key"):
        Bus().observe(K.MARKET_DATA, lambda key, msg: None, first=True)
