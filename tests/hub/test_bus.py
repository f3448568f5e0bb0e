"""The bus: delivery order, guarded handlers, wildcard subscriptions."""

import pytest

from hub import keys as K
from hub.bus import Bus, Monitor
from hub.messages import AgentError, Bar, EndOfData


def bar(ts=1, close=10.0):
    return Bar(ts=ts, instrument="ABC", open=close, high=close, low=close, close=close, volume=1.0)


def test_sync_delivery_runs_in_subscription_order_and_depth_first():
    bus = Bus()
    seen = []
    bus.subscribe("first", K.BAR, lambda m: (seen.append("first"), bus.publish(K.END_OF_DATA, EndOfData(ts=m.ts))))
    bus.subscribe("second", K.BAR, lambda m: seen.append("second"))
    bus.subscribe("end", K.END_OF_DATA, lambda m: seen.append("end"))
    bus.publish(K.BAR, bar())
    assert seen == ["first", "end", "second"]


def test_handler_exception_is_counted_published_and_does_not_stop_the_agent():
    bus = Bus(clock=lambda: 42)
    errors, handled = [], []

    def flaky(msg):
        if msg.ts % 2:
            raise RuntimeError(f"odd ts {msg.ts}")
        handled.append(msg.ts)

    stats = bus.subscribe("flaky", K.BAR, flaky)
    bus.subscribe("watcher", K.AGENT_ERROR, errors.append)
    for ts in range(1, 7):
        bus.publish(K.BAR, bar(ts))
    assert handled == [2, 4, 6]
    assert stats.handled == 6 and stats.errors == 3 and bus.errors == 3
    assert [e.error for e in errors] == ["odd ts 1", "odd ts 3", "odd ts 5"]
    first = errors[0]
    assert isinstance(first, AgentError)
    assert (first.ts, first.agent, first.key, first.error_type) == (42, "flaky", "md.bar", "RuntimeError")
    assert "flaky" in first.handler


def test_failing_error_handler_does_not_recurse():
    bus = Bus()

    def broken(msg):
        raise ValueError("error handler broken")

    bus.subscribe("broken", K.AGENT_ERROR, broken)
    bus.subscribe("raiser", K.BAR, lambda m: 1 / 0)
    bus.publish(K.BAR, bar())  # must return, not loop
    assert bus.errors == 2


def test_wildcard_subscriber_sees_its_namespace_only():
    bus = Bus()
    seen = []
    bus.subscribe("all-events", K.EVENTS, seen.append)
    bus.subscribe("everything", K.ALL, seen.append)  # the bus publishes no notices of its own (aiopubsub's Hub did)
    bus.publish(K.BAR, bar())
    assert seen == [bar()]


def test_monitor_sees_current_handler_and_duration():
    class Recording(Monitor):
        def __init__(self):
            self.done, self.current_during = [], []

        def handler_done(self, stats, seconds):
            self.done.append((stats.agent, seconds >= 0))

    monitor = Recording()
    bus = Bus(monitor=monitor)
    bus.subscribe("a", K.BAR, lambda m: monitor.current_during.append(monitor.current.agent))
    bus.publish(K.BAR, bar())
    assert monitor.current_during == ["a"]
    assert monitor.done == [("a", True)]
    assert monitor.current is None


@pytest.mark.parametrize("n", [0, 3])
def test_unsubscribe_all_stops_delivery(n):
    bus = Bus()
    seen = []
    bus.subscribe("a", K.BAR, seen.append)
    for ts in range(n):
        bus.publish(K.BAR, bar(ts))
    bus.unsubscribe_all()
    bus.publish(K.BAR, bar(99))
    assert len(seen) == n
