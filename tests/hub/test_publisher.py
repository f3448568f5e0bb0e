"""``bus.publisher(key)``, and ``handled`` counted per route: exact through subscription changes."""

import gc
import weakref

import pytest

from hub import keys as K
from hub.bus import Bus, Monitor, running_handler
from hub.messages import Bar, EndOfData


def bar(ts=1):
    return Bar(ts=ts, instrument="ABC", open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)


class Stop(BaseException):
    """Not an Exception: the bus does not catch it."""


@pytest.mark.parametrize("use_publisher", [False, True])
def test_publisher_is_publish_with_the_key_bound_in(use_publisher):
    bus = Bus(clock=lambda: 7)
    seen = []
    pub = bus.publisher(K.BAR) if use_publisher else (lambda msg: bus.publish(K.BAR, msg))
    bus.subscribe("first", K.BAR, lambda m: (seen.append("first"), bus.publish(K.END_OF_DATA, EndOfData(ts=m.ts))))
    bus.observe(K.BAR, lambda key, msg: seen.append(("observer", key)))
    bus.subscribe("stamp", K.BAR, lambda m: seen.append("stamp"), first=True)
    bus.subscribe("raiser", K.BAR, lambda m: 1 / 0)
    bus.subscribe("everything", K.ALL, lambda m: seen.append(type(m).__name__))
    bus.subscribe("end", K.END_OF_DATA, lambda m: seen.append("end"))
    pub(bar())
    assert seen == ["stamp", "first", "EndOfData", "end", ("observer", K.BAR), "AgentError", "Bar"]
    assert bus.errors == 1
    assert [s.handled for s in bus.subscriptions] == [1, 1, 1, 3, 1]


def test_one_publisher_per_key_for_the_bus_life():
    bus = Bus()
    pub = bus.publisher(K.BAR)
    assert bus.publisher(K.BAR) is pub
    assert bus.publisher(K.TRADE) is not pub
    bus.subscribe("a", K.BAR, lambda m: None)
    bus.unsubscribe_all()
    assert bus.publisher(K.BAR) is pub


def test_publisher_follows_every_kind_of_subscription_change():
    bus = Bus()
    seen = []
    pub = bus.publisher(K.BAR)
    pub(bar(0))  # resolved with nobody subscribed
    a = bus.subscribe("a", K.BAR, lambda m: seen.append(("a", m.ts)))
    pub(bar(1))
    bus.subscribe("wild", K.MARKET_DATA, lambda m: seen.append(("wild", m.ts)))
    pub(bar(2))

    def observer(key, msg):
        seen.append(("observer", msg.ts))

    bus.observe(K.BAR, observer, first=True)
    pub(bar(3))
    bus.unobserve(K.BAR, observer)
    pub(bar(4))
    bus.unsubscribe_all()
    pub(bar(5))
    assert seen == [("a", 1), ("a", 2), ("wild", 2), ("observer", 3), ("a", 3), ("wild", 3), ("a", 4), ("wild", 4)]
    assert a.handled == 4


@pytest.mark.parametrize("use_publisher", [False, True])
def test_a_change_inside_a_handler_applies_from_the_next_publish_and_counts_stay_exact(use_publisher):
    bus = Bus()
    seen = []
    pub = bus.publisher(K.BAR) if use_publisher else (lambda msg: bus.publish(K.BAR, msg))
    late = []

    def first(msg):
        seen.append(("first", msg.ts))
        if msg.ts == 2:
            late.append(bus.subscribe("late", K.BAR, lambda m: seen.append(("late", m.ts))))
            assert b.handled == 2  # counted when the route started: the rest of this call still delivers to b
        if msg.ts == 4:
            bus.unsubscribe_all()

    a = bus.subscribe("first", K.BAR, first)
    b = bus.subscribe("second", K.BAR, lambda m: seen.append(("second", m.ts)))
    for ts in range(1, 6):
        pub(bar(ts))
    assert seen == [("first", 1), ("second", 1), ("first", 2), ("second", 2), ("first", 3), ("second", 3),
                    ("late", 3), ("first", 4), ("second", 4), ("late", 4)]
    assert (a.handled, b.handled, late[0].handled) == (4, 4, 2)


def test_a_handler_publishing_on_its_own_key_after_a_change_is_delivered_depth_first():
    bus = Bus()
    seen = []
    pub = bus.publisher(K.BAR)

    def again(msg):
        seen.append(("again", msg.ts))
        if msg.ts == 1:
            bus.subscribe("new", K.BAR, lambda m: seen.append(("new", m.ts)))
            pub(bar(2))  # resolves the new route while the old one is still running
            seen.append(("again-done", msg.ts))

    stats = bus.subscribe("again", K.BAR, again)
    pub(bar(1))
    assert seen == [("again", 1), ("again", 2), ("new", 2), ("again-done", 1)]
    assert stats.handled == 2 and bus.subscriptions[1].handled == 1


def test_handled_is_exact_for_a_wildcard_subscription_reached_by_several_keys():
    bus = Bus()
    wild = bus.subscribe("wild", K.MARKET_DATA, lambda m: None)
    bars, trades = bus.publisher(K.BAR), bus.publisher(K.TRADE)
    for n in range(1, 31):
        bars(bar(n))
        if n % 3 == 0:
            bus.publish(K.TRADE, bar(n))
            trades(bar(n))
        if n % 7 == 0:
            bus.observe(K.QUOTE, lambda key, msg: None)  # any change drops every route: counts fold
        assert wild.handled == n + 2 * (n // 3)
    assert bus._observer_stats.handled == 0


def test_handled_can_still_be_set_and_counts_on_from_there():
    bus = Bus()
    stats = bus.subscribe("a", K.BAR, lambda m: None)
    pub = bus.publisher(K.BAR)
    pub(bar())
    stats.handled = 10
    pub(bar())
    bus.subscribe("b", K.BAR, lambda m: None)  # folds the route the count was set against
    pub(bar())
    assert stats.handled == 12


def test_a_handler_that_raises_counts_as_handled_and_a_base_exception_takes_back_the_undelivered():
    bus = Bus()
    calls = []

    def stopper(msg):
        calls.append(msg.ts)
        if msg.ts == 2:
            raise Stop()
        if msg.ts == 3:
            raise ValueError("counted")

    before = bus.subscribe("before", K.BAR, lambda m: None)
    stop = bus.subscribe("stopper", K.BAR, stopper)
    after = bus.subscribe("after", K.BAR, lambda m: calls.append(("after", m.ts)))
    pub = bus.publisher(K.BAR)
    pub(bar(1))
    with pytest.raises(Stop):
        pub(bar(2))
    pub(bar(3))
    assert calls == [1, ("after", 1), 2, 3, ("after", 3)]
    assert (before.handled, stop.handled, after.handled) == (3, 3, 2)
    assert (stop.errors, bus.errors) == (1, 1)


def test_a_base_exception_from_an_error_report_also_takes_back_the_undelivered():
    bus = Bus()

    def stop_on_error(msg):
        raise Stop()

    bus.subscribe("stopper", K.AGENT_ERROR, stop_on_error)
    raiser = bus.subscribe("raiser", K.BAR, lambda m: 1 / 0)
    after = bus.subscribe("after", K.BAR, lambda m: None)
    with pytest.raises(Stop):
        bus.publish(K.BAR, bar())
    assert (raiser.handled, after.handled) == (1, 0)


def test_a_base_exception_in_a_timed_call_takes_back_the_undelivered():
    class Every(Monitor):
        sample_every = 1

    bus = Bus(monitor=Every())
    first = bus.subscribe("first", K.BAR, lambda m: (_ for _ in ()).throw(Stop()))
    second = bus.subscribe("second", K.BAR, lambda m: None)
    with pytest.raises(Stop):
        bus.publisher(K.BAR)(bar())
    assert (first.handled, second.handled, bus.monitor.current) == (1, 0, None)


def test_queue_subscriptions_count_what_their_consumer_delivers():
    import asyncio

    async def main():
        bus = Bus()
        seen = []
        inbox = bus.subscribe_queue("q", [K.BAR, K.TRADE], seen.append)
        stats = bus.subscriptions[0]
        bus.start()
        pub = bus.publisher(K.BAR)
        for ts in range(5):
            pub(bar(ts))
            bus.publish(K.TRADE, bar(ts))
        assert stats.handled == 0  # queued, not delivered yet
        await bus.drain()
        await bus.stop()
        return len(seen), stats.handled, inbox

    delivered, handled, inbox = asyncio.run(main())
    assert delivered == handled == 10


class Recording(Monitor):
    def __init__(self, sample_every):
        self.sample_every = sample_every
        self.timed = []

    def handler_done(self, stats, seconds):
        self.timed.append((stats.agent, stats.handled))


def test_a_monitored_route_times_each_handler_on_one_call_in_n():
    monitor = Recording(sample_every=4)
    bus = Bus(monitor=monitor)
    bus.subscribe("a", K.BAR, lambda m: None)
    bus.observe(K.BAR, lambda key, msg: None)  # raw: never timed
    bus.subscribe("b", K.BAR, lambda m: None)
    pub = bus.publisher(K.BAR)
    for ts in range(9):
        pub(bar(ts))
    assert monitor.timed == [("a", 4), ("b", 4), ("a", 8), ("b", 8)]


@pytest.mark.parametrize("sample_every", [1, 64])
def test_running_handler_names_the_handler_of_a_publisher_call(sample_every):
    bus = Bus(monitor=Recording(sample_every))
    seen = []

    def inner(msg):
        seen.append(running_handler(bus).agent)

    def outer(msg):
        seen.append(running_handler(bus).agent)
        bus.publisher(K.END_OF_DATA)(EndOfData(ts=1))
        seen.append(running_handler(bus).agent)

    bus.observe(K.BAR, lambda key, msg: seen.append(running_handler(bus).agent))
    bus.subscribe("outer", K.BAR, outer)
    bus.subscribe("inner", K.END_OF_DATA, inner)
    bus.publisher(K.BAR)(bar())
    assert seen == ["observer", "outer", "inner", "outer"]


def test_the_logged_traceback_shows_the_handler_line_that_raised(logwood_handler_mock):
    def raiser(msg):
        return 1 / 0

    bus = Bus()
    bus.subscribe("raiser", K.BAR, raiser)
    bus.publisher(K.BAR)(bar())
    [logged] = logwood_handler_mock["ERROR"]
    assert "Handler test_the_logged_traceback_shows_the_handler_line_that_raised.<locals>.raiser" in logged
    assert "ZeroDivisionError" in logged
    assert "in raiser\n    return 1 / 0" in logged


def test_running_handler_names_the_innermost_call_across_nested_buses():
    outer_bus, inner_bus = Bus(), Bus()
    seen = []

    def inner(msg):
        seen.append(running_handler(outer_bus, inner_bus).agent)

    def outer(msg):
        seen.append(running_handler(outer_bus, inner_bus).agent)
        inner_bus.publish(K.END_OF_DATA, EndOfData(ts=1))
        seen.append(running_handler(inner_bus, outer_bus).agent)
        outer_bus.publish(K.END_OF_DATA, EndOfData(ts=2))  # a nested call on the outer bus itself

    outer_bus.subscribe("outer", K.BAR, outer)
    outer_bus.subscribe("outer-inner", K.END_OF_DATA, lambda m: seen.append(running_handler(inner_bus, outer_bus).agent))
    inner_bus.subscribe("inner", K.END_OF_DATA, inner)
    outer_bus.publish(K.BAR, bar())
    assert seen == ["outer", "inner", "outer", "outer-inner"]
    assert running_handler(outer_bus, inner_bus) is None
    assert outer_bus.running_handler() is None and inner_bus.running_handler() is None


def test_running_handler_is_cleared_when_a_base_exception_escapes():
    bus = Bus()

    def interrupt(msg):
        raise KeyboardInterrupt

    bus.subscribe("a", K.BAR, interrupt)
    with pytest.raises(KeyboardInterrupt):
        bus.publish(K.BAR, bar())
    assert bus.running_handler() is None


def test_a_bus_and_its_agents_are_collected_once_dropped():
    class Agent:
        def on(self, msg):
            pass

    bus = Bus()
    agent = Agent()
    bus.subscribe("a", K.BAR, agent.on)
    pub = bus.publisher(K.BAR)
    pub(bar())
    refs = weakref.ref(bus), weakref.ref(agent)
    del bus, agent, pub
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_reaches_tells_whether_a_publish_would_call_anything_now():
    bus = Bus()
    assert not bus.reaches(K.ACCOUNT)
    pub = bus.publisher(K.ACCOUNT)
    pub(bar())  # resolved to an empty route
    assert not bus.reaches(K.ACCOUNT)
    bus.observe(K.ALL, lambda key, msg: None)  # an observer counts, and a change drops resolved routes
    assert bus.reaches(K.ACCOUNT)
    bus.unsubscribe_all()
    assert not bus.reaches(K.ACCOUNT)
    bus.subscribe("status", K.ACCOUNT, lambda m: None)
    assert bus.reaches(K.ACCOUNT) and not bus.reaches(K.FILL)
