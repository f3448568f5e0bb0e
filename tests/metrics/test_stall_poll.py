"""The watchdog's GIL-free poll: it wakes for a call that has run the threshold, and only for that."""

import threading
import time

from hub import keys as K
from hub.bus import Bus
from hub.messages import EndOfData
from metrics.stall_poll import StallPoll


def test_wait_returns_the_number_of_a_call_running_past_the_threshold_and_none_once_stopped():
    bus = Bus()
    poll = StallPoll()
    poll.watch(bus.running)
    seen = {}

    def slow(msg):
        seen["number"] = poll.latest()
        time.sleep(0.3)  # releases the GIL, as a blocking call in C would not: the poll needs neither

    def watcher():
        seen["found"] = poll.wait(0.005, 0.1)

    bus.subscribe("slow", K.END_OF_DATA, slow)
    thread = threading.Thread(target=watcher)
    thread.start()
    t0 = time.perf_counter()
    bus.publish(K.END_OF_DATA, EndOfData(ts=1))
    thread.join()
    since, number = seen["found"]
    assert number == seen["number"] > 0
    assert t0 <= since < time.perf_counter()  # perf_counter's clock: the watchdog compares it with its own
    assert poll.latest() == 0  # nothing runs now

    stopper = threading.Timer(0.05, poll.stop)
    stopper.start()
    assert poll.wait(0.005, 10.0) is None  # nothing slow: returns when stopped
    stopper.join()


def test_short_calls_never_wake_it():
    bus = Bus()
    poll = StallPoll()
    poll.watch(bus.running)
    poll.watch(bus.running)  # watched once
    bus.subscribe("quick", K.END_OF_DATA, lambda m: None)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("found", poll.wait(0.001, 0.25)))
    thread.start()
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        bus.publish(K.END_OF_DATA, EndOfData(ts=1))
    poll.stop()
    thread.join()
    assert result["found"] is None
