"""The bus's delivery: a published key's handlers, called in order, each one guarded.

A :class:`Route` is what one published key reaches at one time, resolved by
the bus's routing table (:mod:`hub.routing`). What it must keep (see
:mod:`hub.bus` for the why of each):

* a handler's exception is reported (logged, counted, published) and the
  next handler still runs; a BaseException marks the handlers after it as
  never delivered and propagates;
* the route counts its calls once, before its first handler, for
  ``SubscriptionStats.handled``;
* a call keeps the route it started with, whatever subscription changes a
  handler makes;
* with a monitor, one call in ``sample_every`` is timed handler by handler;
* what handler runs now is readable from another thread (the stall
  watchdog): each call marks its subscription in the bus's :class:`Running`.

Plain Python, compiled by Cython when a C compiler is there (``route.pxd``
gives the types).
"""

from functools import partial
from time import perf_counter

entered = 0  # numbers handler calls process-wide, so the innermost of buses nested on one thread is the latest


class Running:
    """The innermost hub handler call running now on one bus: its subscription, or None.

    Written by the loop's thread around every handler call, read by a
    watchdog thread. ``seq`` grows with every call that starts, so of several
    buses nested on one thread (a handler of one publishing on another) the
    call with the highest ``seq`` is the innermost.
    """

    def __init__(self):
        self.current = None
        self.seq = 0


def innermost(cells):
    """The subscription of the innermost handler call running on any of ``cells`` (:class:`Running`), or None."""
    best = None
    seq = 0
    for cell in cells:
        current, at = cell.current, cell.seq  # read together: the loop thread cannot run in between
        if current is not None and (best is None or at > seq):
            best, seq = current, at
    return best


class Route:
    """The handlers one published key reaches, as resolved at one time, and how many publishes it made.

    ``entries`` are (callable, stats, raw) in delivery order; a raw callback
    (observer, inbox) is called with ``(key, msg)``, a handler with ``msg``.
    """

    def __init__(self, bus, key, entries, running, sampled, every):
        self.n = 0
        self.due = every
        self.bus = bus
        self.key = key
        self.entries = entries
        # Each entry as a call of ``msg`` alone (a raw callback with the key bound in): one kind of call in the loop.
        self._calls = tuple([partial(call, key) if raw else call for call, _, raw in entries])
        self._stats = tuple([e[1] for e in entries])
        self._size = len(entries)
        self._sampled = sampled
        self._running = running
        for _, stats, _ in entries:
            base, routes = stats._counts
            stats._counts = (base, (*routes, self))

    def deliver(self, msg):
        """Deliver ``msg`` to every entry, in order."""
        global entered
        self.n += 1
        if self._sampled and self.n == self.due:  # an int comparison: cheaper than a mask or a modulo
            self.deliver_timed(msg)
            return
        running = self._running
        previous = running.current
        previous_seq = running.seq
        calls = self._calls
        stats_of = self._stats
        size = self._size
        position = 0
        following = 0  # the next handler to call
        while following < size:
            # One try for the whole loop, entered again only after a handler raised: entering a try saves
            # the thread's exception state, once a publish this way rather than once a handler.
            try:
                while following < size:
                    position = following
                    following += 1  # set before the call: after a failure the loop resumes with the next handler
                    entered += 1
                    running.current = stats_of[position]
                    running.seq = entered
                    calls[position](msg)
            except BaseException as exc:
                self._failed(position, exc, previous, previous_seq)  # returns only when the call goes on
        running.current = previous
        running.seq = previous_seq

    def _failed(self, position, exc, previous, previous_seq):
        """Handler ``position`` raised ``exc``: report an Exception and go on; anything else propagates.

        For a BaseException (KeyboardInterrupt...), or one raised while
        reporting, the running mark goes back to ``previous``, the handlers
        after ``position`` are taken back off, and the exception propagates.
        """
        try:
            if not isinstance(exc, Exception):
                raise exc
            self.report(self._stats[position], exc)
        except BaseException:
            self._running.current = previous
            self._running.seq = previous_seq
            self.undelivered(position)
            raise

    def deliver_timed(self, msg):
        """One sampled call: each handler timed and named by ``monitor.current`` while it runs; raw callbacks are not."""
        global entered
        monitor = self.bus._sampler
        assert monitor is not None
        self.due += self.bus._every
        done = monitor.handler_done
        key = self.key
        running = self._running
        previous, previous_seq = running.current, running.seq
        try:
            for position, (call, stats, raw) in enumerate(self.entries):
                entered += 1
                running.current = stats
                running.seq = entered
                try:
                    if raw:
                        try:
                            call(key, msg)
                        except Exception as exc:
                            self.report(stats, exc)
                        continue
                    outer = monitor.current
                    monitor.current = stats
                    t0 = perf_counter()
                    try:
                        call(msg)
                    except Exception as exc:
                        self.report(stats, exc)
                    finally:
                        monitor.current = outer
                        done(stats, perf_counter() - t0)
                except BaseException:
                    self.undelivered(position)
                    raise
        finally:
            running.current = previous
            running.seq = previous_seq

    def fold(self):
        """The route is dropped and will not be called again: its count moves into its members' bases."""
        n = self.n
        for _, stats, _ in self.entries:
            base, routes = stats._counts
            i = routes.index(self)
            stats._counts = (base + n, routes[:i] + routes[i + 1:])

    def undelivered(self, position):
        """A BaseException left the call at ``position``: the handlers after it were counted but never called."""
        for _, stats, _ in self.entries[position + 1:]:
            base, routes = stats._counts
            stats._counts = (base - 1, routes)

    def report(self, stats, exc):
        self.bus._report(stats, self.key, exc)


class Publisher:
    """One key's publisher for the bus's life: ``deliver(msg)`` runs the key's current route.

    ``route`` is None while stale (never resolved, or dropped by a
    subscription change): the next call resolves the key again through
    ``resolve(key)``, which sets ``route``.
    """

    def __init__(self, key, resolve):
        self.route = None
        self.key = key
        self._resolve = resolve

    def deliver(self, msg):
        """Publish ``msg`` on this publisher's key."""
        self.live().deliver(msg)

    def live(self):
        """The route a call takes now: resolved again if stale."""
        route = self.route
        if route is None:
            route = self._resolve(self.key)
        return route


class Publish:
    """``bus.publish(key, msg)`` and ``bus.reaches(key)``: the key's :class:`Publisher` found by key, then its route."""

    def __init__(self, publishers, make):
        self._publishers = publishers
        self._make = make  # make(key): the key's Publisher, created and kept on first use

    def publish(self, key, msg):
        """Publish ``msg`` on ``key``."""
        self.route_of(key).deliver(msg)

    def reaches(self, key):
        """True when publishing ``key`` now would call anything (see ``Bus.reaches``)."""
        return len(self.route_of(key).entries) > 0

    def route_of(self, key):
        found = self._publishers.get(key)
        if found is None:
            found = self._make(key)
        return found.live()
