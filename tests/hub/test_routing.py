"""The bus's own routing table: aiopubsub's matching and delivery order, ``first`` entries in front."""

import aiopubsub
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import keys as K
from hub.routing import RoutingTable

SUBSCRIBED = [K.BAR, K.TRADE, K.MARKET_DATA, K.ALL, K.FILL, K.EVENTS, K.ORDER_REJECTED, aiopubsub.Key("evt", "*", "*")]
PUBLISHED = [K.BAR, K.TRADE, K.FILL, K.ORDER_REJECTED, K.END_OF_DATA]


class Recorder:
    """A callback that writes its name into a shared list: equal only to itself."""

    def __init__(self, name, seen):
        self.name, self.seen = name, seen

    def __call__(self, key, msg):
        if key[0] != "Hub":  # aiopubsub's own notices of each subscription
            self.seen.append(self.name)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SUBSCRIBED), st.integers(0, 5)), max_size=25),
       st.lists(st.integers(0, 30), max_size=5))
def test_a_key_reaches_what_aiopubsub_would_call_in_its_order(subscriptions, removals):
    seen = []
    hub = aiopubsub.Hub()
    table = RoutingTable()
    callbacks = [Recorder(f"cb{i}", seen) for i in range(6)]
    for key, which in subscriptions:
        hub.add_subscriber(key, callbacks[which])
        table.add(key, (callbacks[which], None, True))
    for index in removals:
        if index < len(subscriptions):
            key, which = subscriptions[index]
            hub.remove_subscriber(key, callbacks[which])
            table.remove(key, (callbacks[which], None, True))
    for published in PUBLISHED:
        seen.clear()
        hub.publish(published, None)
        assert [entry[0].name for entry in table.reached_by(published)] == seen


def test_first_entries_go_in_front_latest_first_and_only_for_their_exact_key():
    table = RoutingTable()
    a, b, wild, stamp, later = [(name, None, False) for name in ("a", "b", "wild", "stamp", "later")]
    table.add(K.ALL, wild)
    table.add(K.BAR, a)
    table.add(K.BAR, stamp, first=True)
    table.add(K.BAR, b)
    table.add(K.BAR, later, first=True)
    assert [e[0] for e in table.reached_by(K.BAR)] == ["later", "stamp", "wild", "a", "b"]
    assert [e[0] for e in table.reached_by(K.TRADE)] == ["wild"]
    table.remove(K.BAR, later)
    assert [e[0] for e in table.reached_by(K.BAR)] == ["stamp", "wild", "a", "b"]
    table.clear()
    assert table.reached_by(K.BAR) == ()


def test_a_repeated_entry_is_ignored_and_bad_keys_are_refused():
    table = RoutingTable()
    entry = ("observer", None, True)
    assert table.add(K.BAR, entry) and not table.add(K.BAR, entry)
    assert table.reached_by(K.BAR) == (entry,)
    assert not table.remove(K.TRADE, entry)
    with pytest.raises(ValueError, match="exact key"):
        table.add(K.MARKET_DATA, entry, first=True)
    with pytest.raises(ValueError, match="wildcard"):
        table.reached_by(K.MARKET_DATA)
