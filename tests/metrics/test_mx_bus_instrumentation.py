"""The bus's instrumentation hooks that metrics relies on: sampled timing, the running-handler mark, first subscribers."""

from hub import keys as K
from hub.bus import Bus, Monitor
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


def test_times_the_first_call_then_one_in_n():
    monitor = Recording(sample_every=4)
    bus = Bus(monitor=monitor)
    stats = bus.subscribe("a", K.BAR, lambda m: None)
    for ts in range(10):
        bus.publish(K.BAR, bar(ts))
    assert stats.handled == 10
    assert monitor.timed_calls == [1, 5, 9]


def test_marks_the_running_handler_on_every_call_and_restores_it_when_nested():
    monitor = Recording(sample_every=64)
    bus = Bus(monitor=monitor)
    seen = []
    outer = bus.subscribe("outer", K.BAR, lambda m: (seen.append(monitor.current.agent),
                                                    bus.publish(K.END_OF_DATA, EndOfData(ts=1)),
                                                    seen.append(monitor.current.agent)))
    bus.subscribe("inner", K.END_OF_DATA, lambda m: seen.append(monitor.current.agent))
    for ts in range(3):
        bus.publish(K.BAR, bar(ts))
    assert seen == ["outer", "inner", "outer"] * 3
    assert monitor.current is None and outer.handled == 3


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
    bus.publish(K.BAR, bar())  # fills aiopubsub's per-key cache: first must invalidate it
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
