"""The engine's bus: namespaced pub/sub for one event loop, with its own routing table.

Two delivery styles behind one ``subscribe`` call:

* ``sync`` (default): the handler runs inside ``publish``, in subscription
  order, depth-first. Deterministic and cheap; the backtest path uses only
  this.
* ``queue``: the message goes into the agent's bounded :class:`Inbox` and one
  long-lived consumer task per agent drains it. Live agents use it so a slow
  consumer cannot stall the feed.

Every handler is guarded: an exception is logged, counted on the
subscription's stats and published as :class:`AgentError` on ``sys.error``.
It never propagates into the publisher, never stops the agent.

How a publish is delivered
--------------------------
The bus keeps its subscriptions in a :class:`~hub.routing.RoutingTable`
(aiopubsub's ``Key`` and its matching, aiopubsub's delivery order) and
resolves a published key once into a *route* (:mod:`hub.route`): the
key's handlers as a tuple, called in one loop, each call guarded.

``bus.publisher(key)`` hands out the key's :class:`~hub.route.Publisher`'s
``deliver``: a hot path calling it pays no dict lookup, no key hashing. It
stays the same for the bus's life: when subscriptions change (from
anywhere, a running handler included) the bus marks every publisher stale,
and each resolves its key again at its next call. A call already running
keeps the route it started with, as a loop over the old list of handlers
did. ``bus.publish(key, msg)`` looks the same publisher up by key.

How ``handled`` is counted
--------------------------
A route counts its own calls, once a publish before its first handler,
instead of each delivery bumping its subscription's counter (that was over
a third of a delivery's cost). ``SubscriptionStats.handled`` is derived when
read: a base, plus the calls of the live routes that include the
subscription. A subscription change drops every route and folds each
one's count into its members' bases; a dropped route is never called again
(its publisher was marked stale), so the count it folds is final, even
when the change came from one of its own handlers and the rest of that call
goes on. So ``handled`` is exact whenever it is read (a metrics flush, the
stall watchdog's thread, a test). A message counts as handled once its route
starts delivering it, also when the handler then raises; if a BaseException
(KeyboardInterrupt...) escapes, the handlers after it, counted but never
called, are taken back off.

With a :class:`Monitor`, a route times one call in ``sample_every`` (its own
count decides: one int comparison a publish) and times each of its handlers
on that call, in :meth:`~hub.route.Route.deliver_timed`. The costs are in
BENCHMARKS.md (``python -m benchmarks.bench_hub``).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import logwood
from aiopubsub import Key

from hub import keys as K
from hub.inbox import Inbox
from hub.messages import AgentError
from hub.route import Publish, Publisher, Route, Running, innermost
from hub.routing import Entry, RoutingTable

Handler = Callable[[Any], None]


class SubscriptionStats:
    """Counters for one (agent, handler, key) subscription, read by metrics."""

    __slots__ = ("agent", "handler", "key", "errors", "time_total", "time_max", "timed", "inbox", "_counts")

    def __init__(self, agent: str, handler: str, key: Key) -> None:
        self.agent = agent
        self.handler = handler
        self.key = key
        self.errors = 0
        self.time_total = 0.0
        self.time_max = 0.0
        self.timed = 0
        self.inbox: Inbox | None = None
        # (calls folded in from dropped routes, the live routes that include this subscription), replaced
        # whole: a reader on another thread (the stall watchdog) never sees a fold half done.
        self._counts: tuple[int, tuple[Route, ...]] = (0, ())

    @property
    def handled(self) -> int:
        """Messages delivered to this subscription so far (a handler that raised counts): exact whenever read."""
        handled, routes = self._counts
        for route in routes:
            handled += route.n
        return handled

    @handled.setter
    def handled(self, value: int) -> None:
        """Set the count, as when it was a plain attribute: the base takes the difference."""
        base, routes = self._counts
        self._counts = (base + value - self.handled, routes)


class Monitor:
    """Hooks the bus calls when timing is on; metrics/ implements them.

    Timing costs two clock reads and a hook call, so the bus times only one
    call in ``sample_every`` (rounded up to a power of two) of each route, the
    handlers one published key reaches, and on that call times each of them
    (raw observers excepted). A route counts from 1 when it is resolved,
    which happens again after any subscription change: a subscription reached
    by one key has its Nth, 2Nth... call timed until the next change. ``current``
    names the handler of the timed call running right now. To find any running
    handler, timed or not, see :func:`running_handler`.
    """

    current: SubscriptionStats | None = None
    sample_every: int = 1

    def handler_done(self, stats: SubscriptionStats, seconds: float) -> None:  # pragma: no cover - hook
        pass

    def handler_failed(self, stats: SubscriptionStats, exc: BaseException) -> None:  # pragma: no cover - hook
        pass


class Bus:
    """Namespaced pub/sub for one event loop. One bus per run (and per test)."""

    def __init__(self, clock: Callable[[], int] | None = None, monitor: Monitor | None = None) -> None:
        self._table = RoutingTable()
        self._log = logwood.get_logger("hub")
        self._clock = clock or (lambda: 0)
        self.monitor = monitor
        self._sampler = monitor  # the one timing calls: fixed at construction, as the route code is
        self._every = 0 if monitor is None else sampling_period(monitor.sample_every)  # time calls N, 2N...
        self.subscriptions: list[SubscriptionStats] = []
        self.inboxes: list[Inbox] = []
        self.errors = 0
        self._observer_stats = SubscriptionStats("observer", "raw callbacks", K.ALL)
        self.running = Running()  # the handler call running now: for a watchdog on another thread
        self._publisher_of: dict[Key, Publisher] = {}  # one per key ever published, for the bus's life
        self._publishers: dict[Key, Callable[[Any], None]] = {}  # their bound ``deliver``, same life
        self._live: list[Publisher] = []  # the publishers resolved since the last change
        by_key = Publish(self._publisher_of, self._publisher_object)
        self.publish: Callable[[Key, Any], None] = by_key.publish
        # ``reaches(key)``: True when publishing ``key`` now would call anything (a handler, an observer, an
        # inbox), for hot paths that can skip building a message nobody would get (the broker's per-fill
        # AccountState in a backtest). The answer holds until the next subscription change.
        self.reaches: Callable[[Key], bool] = by_key.reaches

    # ------------------------------------------------------------ publishing

    def publisher(self, key: Key) -> Callable[[Any], None]:
        """``publish`` with the key bound in, for hot paths: ``pub = bus.publisher(K.BAR)``, then ``pub(bar)``.

        The same as ``lambda msg: bus.publish(key, msg)`` in every respect, but
        it is the key's route function itself: no lookup, no key hashing, no
        extra frame. Keep it for the bus's life: a subscription change, even
        from inside a handler, makes it resolve the key again at its next call.
        The same key always gives the same function. Call it with ``msg`` only.
        """
        deliver = self._publishers.get(key)
        if deliver is None:
            publisher = self._publisher_of[key] = Publisher(key, self._resolve)
            deliver = self._publishers[key] = publisher.deliver
        return deliver

    def running_handler(self) -> SubscriptionStats | None:
        """The subscription of the innermost handler call running on this bus now, or None.

        Readable from any thread: a watchdog polls it (see :func:`running_handler`
        for several buses nested on one thread).
        """
        return self.running.current

    def _publisher_object(self, key: Key) -> Publisher:
        self.publisher(key)
        return self._publisher_of[key]

    # ------------------------------------------------------------ subscribing

    def subscribe(self, agent: str, key: Key, handler: Handler, first: bool = False) -> SubscriptionStats:
        """Deliver messages published on ``key`` (wildcards allowed) to ``handler(msg)``, synchronously.

        ``first=True`` (exact keys only) runs this handler before every other
        subscriber of the key, whenever they subscribed: for observers that must
        stamp a message's arrival (latency metrics). The latest ``first`` wins.
        """
        stats = self._stats(agent, handler, key)
        self._add(key, (handler, stats, False), first)
        return stats

    def observe(self, key: Key, callback: Callable[[Key, Any], None], first: bool = False) -> None:
        """Call ``callback(key, msg)`` straight from the publish loop: no stats, no instrumentation.

        For per-message observers that metrics puts on every bar, where even
        a subscription's bookkeeping shows. If one raises anyway, the error is
        logged, counted and published as from agent ``observer``, and the
        publisher carries on. ``first`` as for :meth:`subscribe`. The same
        callback observes a key once: a repeat is ignored (with a warning).
        """
        self._add(key, (callback, self._observer_stats, True), first)

    def subscribe_queue(
        self,
        agent: str,
        keys: list[Key],
        handler: Handler,
        maxsize: int = 10_000,
        conflate: Callable[[Key, Any], Any] | None = None,
    ) -> Inbox:
        """Deliver through a bounded inbox drained by one consumer task (call :meth:`start`)."""
        stats = self._stats(agent, handler, keys[0])
        inbox = Inbox(agent, maxsize=maxsize, conflate=conflate, log=self._log)
        stats.inbox = inbox
        inbox.deliver = self._guarded(handler, stats)
        for key in keys:
            self._add(key, (inbox.put, self._observer_stats, True), first=False)
        self.inboxes.append(inbox)
        return inbox

    def unobserve(self, key: Key, callback: Callable[[Key, Any], None]) -> None:
        """Undo :meth:`observe`. Safe from inside a publish: the running call finishes its own route."""
        if not self._table.remove(key, (callback, self._observer_stats, True)):
            self._log.warning("unobserve: %r does not observe %s", callback, ".".join(key))
        self._drop_routes()

    def unsubscribe_all(self) -> None:
        self._table.clear()
        self._drop_routes()

    # ------------------------------------------------------------ queue consumers

    def start(self) -> None:
        """Start one consumer task per inbox (needs a running loop)."""
        for inbox in self.inboxes:
            inbox.start()

    async def drain(self, timeout: float = 1.0) -> None:
        """Wait until every inbox is empty, or ``timeout`` seconds pass."""
        deadline = asyncio.get_running_loop().time() + timeout
        while any(len(i) for i in self.inboxes) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.001)

    async def stop(self) -> None:
        for inbox in self.inboxes:
            await inbox.stop()

    # ------------------------------------------------------------ internals

    def _stats(self, agent: str, handler: Handler, key: Key) -> SubscriptionStats:
        name = getattr(handler, "__qualname__", None) or repr(handler)
        stats = SubscriptionStats(agent, name, key)
        self.subscriptions.append(stats)
        return stats

    def _add(self, key: Key, entry: Entry, first: bool) -> None:
        if not self._table.add(key, entry, first):
            self._log.warning("%r already observes %s: the repeat is ignored", entry[0], ".".join(key))
        self._drop_routes()

    def _drop_routes(self) -> None:
        """Subscriptions changed: every resolved publisher goes stale and resolves its key at its next call."""
        live, self._live = self._live, []
        for publisher in live:
            route = publisher.route
            publisher.route = None  # a call of it now running keeps the route it started with
            route.fold()

    def _resolve(self, key: Key) -> Route:
        """Give the stale publisher of ``key`` the route the table resolves the key to now."""
        publisher = self._publisher_of[key]
        publisher.route = route = self._route(key, self._table.reached_by(key))
        self._live.append(publisher)
        return route

    def _route(self, key: Key, entries: tuple[Entry, ...]) -> Route:
        """A route over ``entries`` (:mod:`hub.route`), counting from 0."""
        return Route(self, key, entries, self.running, self._sampler is not None, self._every)

    def _guarded(self, handler: Handler, stats: SubscriptionStats) -> Callable[[Key, Any], None]:
        """An inbox's delivery: ``handler`` guarded, counted and sampled by the same route code as ``publish``.

        One route per key with this handler alone; its routes never change, so
        they are never dropped.
        """
        only = ((handler, stats, False),)
        routes: dict[Key, Callable[[Any], None]] = {}
        new_route = self._route

        def guarded(key: Key, msg: Any) -> None:
            deliver = routes.get(key)
            if deliver is None:
                deliver = routes[key] = new_route(key, only).deliver
            deliver(msg)

        return guarded

    def _report(self, stats: SubscriptionStats, key: Any, exc: Exception) -> None:
        stats.errors += 1
        self.errors += 1
        key_text = ".".join(key)
        self._log.error(
            "Handler %s of agent %s failed on %s: %s\n%s",
            stats.handler, stats.agent, key_text, repr(exc), "".join(traceback.format_exception(exc)),
        )
        if self.monitor is not None:
            self.monitor.handler_failed(stats, exc)
        if key == K.AGENT_ERROR:
            return  # an error handler that fails must not feed itself
        self.publish(
            K.AGENT_ERROR,
            AgentError(
                ts=self._clock(), agent=stats.agent, handler=stats.handler, key=key_text,
                error_type=type(exc).__name__, error=str(exc),
            ),
        )


def sampling_period(sample_every: int) -> int:
    """How many calls of a route apart the timed ones are: ``sample_every`` rounded up to a power of two."""
    every = max(1, int(sample_every))
    return 1 << (every - 1).bit_length()


def running_handler(*buses: Bus) -> SubscriptionStats | None:
    """The subscription of the innermost hub handler call running now on any of ``buses``, or None.

    For a watchdog thread polling the loop thread's buses. Every call a
    route makes, timed or not, marks its subscription in its bus's
    ``running`` cell while it runs; of buses nested on one thread (a handler
    of one publishing on another) the latest call started is the innermost.
    """
    return innermost([bus.running for bus in buses])
