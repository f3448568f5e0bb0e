"""The stall watchdog's judgement, poll by poll: given what ran at each poll, what it reports (no real time)."""

from hub import keys as K
from hub.bus import SubscriptionStats
from metrics.watchdog import StallWatchdog


def watchdog(hang_after_s=1.0):
    slow, hangs = [], []
    dog = StallWatchdog(0.05, lambda s, t: slow.append((s.agent, round(t, 3))),
                        lambda s, t: hangs.append((s.agent, round(t, 3))), hang_after_s=hang_after_s, poll_s=0.01)
    return dog, slow, hangs


def polls(dog, seen):
    """Feed ``(time, stats)`` polls to the watchdog in order."""
    call = None
    for now, stats in seen:
        call = dog._follow(call, stats, now)
    return call


def test_one_call_seen_past_the_threshold_is_reported_once_it_ends_within_a_poll():
    dog, slow, hangs = watchdog()
    a = SubscriptionStats("a", "on", K.BAR)
    polls(dog, [(0.00, a), (0.03, a), (0.06, a), (0.07, None)])
    assert slow == [("a", 0.07)] and hangs == []  # first to last sighting, plus one poll interval


def test_short_calls_of_one_subscription_are_not_one_long_call():
    dog, slow, _ = watchdog()
    a = SubscriptionStats("a", "on", K.BAR)
    call = None
    for i in range(10):  # the same handler at every poll, but its count moved on: another call each time
        a.handled = i
        call = dog._follow(call, a, i * 0.01)
    dog._follow(call, None, 0.1)
    assert slow == []


def test_a_call_stuck_for_good_is_reported_while_it_runs():
    dog, slow, hangs = watchdog(hang_after_s=0.1)
    a = SubscriptionStats("a", "on", K.BAR)
    call = polls(dog, [(0.00, a), (0.05, a), (0.10, a), (0.15, a)])
    assert hangs == [("a", 0.1)] and slow == []
    assert call is not None and call.hang_reported
