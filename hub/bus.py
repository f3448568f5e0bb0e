"""The engine's hub: a thin facade over aiopubsub's Hub.

Two delivery styles behind one ``subscribe`` call:

* ``sync`` (default): the handler runs inside ``publish``, in subscription
  order, depth-first. Deterministic and cheap; the backtest path uses only
  this.
* ``queue``: the message goes into the agent's bounded :class:`Inbox` and one
  long-lived consumer task per agent drains it. Live agents use it so a slow
  consumer cannot stall the feed. (aiopubsub's own async listener spawns a
  task per message and dies on the first exception; we do not use it.)

Every handler is guarded: an exception is logged, counted on the
subscription's stats and published as :class:`AgentError` on ``sys.error``.
It never propagates into the publisher, never stops the agent.

How a publish is delivered
--------------------------
aiopubsub resolves a published key (wildcards, subscription order, then our
``first`` callbacks moved to the front); the bus keeps the result as a
*route* and calls the handlers itself, since aiopubsub's own publish costs
two frames a delivery plus a lookup frame. A route is compiled
(:mod:`hub.route`): one C loop over its handlers, each call guarded. It was
a generated Python function, one frame a publish: ~2k instructions a bar on
a backtest, a sixth of its cost.

``bus.publisher(key)`` hands out the key's :class:`~hub.route.Publisher`'s
``deliver``: a hot path calling it pays no dict lookup, no key hashing. It
stays the same for the bus's life: when subscriptions change (from
anywhere, a running handler included) the bus marks every publisher stale,
and each resolves its key again at its next call. A call already running
keeps the route it started with, as a loop over the old list of handlers
did. ``bus.publish(key, msg)`` (compiled too) looks the same publisher up by key.

How ``handled`` is counted
--------------------------
A route counts its own calls, once a publish before its first handler,
instead of each delivery bumping its subscription's counter: that increment
was ~300 instructions, over a third of a delivery. ``SubscriptionStats.handled``
is derived when read: a base, plus the calls of the live routes that include
the subscription. A subscription change drops every route and folds each
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
on that call, in :meth:`~hub.route.Route.deliver_timed`.

Costs, in CPU instructions (callgrind, ``python -m benchmarks.bench_hub``;
handlers are Python methods that return at once, ~500 of each delivery
being the handler's own call; monitor on in brackets): ``publisher(key)(msg)``
~830 (890) with one handler, ~530 (560) for each further one;
``publish(key, msg)`` ~270 more than that. The generated Python routes this
replaced cost ~1,200 (1,400), ~500 (530), and ~800 more for ``publish``;
the per-delivery loop before them ~2,060 (2,410) and ~800 (1,040).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import aiopubsub
import logwood

from hub import keys as K
from hub.inbox import Inbox
from hub.messages import AgentError
from hub.route import Publish, Publisher, Route, Running, innermost

Handler = Callable[[Any], None]


class SubscriptionStats:
    """Counters for one (agent, handler, key) subscription, read by metrics."""

    __slots__ = ("agent", "handler", "key", "errors", "time_total", "time_max", "timed", "inbox", "_counts")

    def __init__(self, agent: str, handler: str, key: aiopubsub.Key) -> None:
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
        self._hub = aiopubsub.Hub()
        self._first: dict[aiopubsub.Key, list[Callable[[Any, Any], None]]] = {}  # run before all others, latest first
        self._log = logwood.get_logger("hub")
        self._clock = clock or (lambda: 0)
        self.monitor = monitor
        self._sampler = monitor  # the one timing calls: fixed at construction, as the route code is
        self._every = 0 if monitor is None else sampling_period(monitor.sample_every)  # time calls N, 2N...
        self.subscriptions: list[SubscriptionStats] = []
        self.inboxes: list[Inbox] = []
        self.errors = 0
        # What each guarded callback registered with aiopubsub stands for: (handler, stats, skips Hub notices).
        self._entries: dict[Callable[[Any, Any], None], tuple[Handler, SubscriptionStats, bool]] = {}
        self._observer_stats = SubscriptionStats("observer", "raw callbacks", K.ALL)
        self.running = Running()  # the handler call running now: for a watchdog on another thread
        self._publisher_of: dict[aiopubsub.Key, Publisher] = {}  # one per key ever published, for the bus's life
        self._publishers: dict[aiopubsub.Key, Callable[[Any], None]] = {}  # their bound ``deliver``, same life
        self._live: list[Publisher] = []  # the publishers resolved since the last change
        compiled = Publish(self._publisher_of, self._publisher_object)
        self.publish: Callable[[aiopubsub.Key, Any], None] = compiled.publish
        # ``reaches(key)``: True when publishing ``key`` now would call anything (a handler, an observer, an
        # inbox), for hot paths that can skip building a message nobody would get (the broker's per-fill
        # AccountState in a backtest). The answer holds until the next subscription change.
        self.reaches: Callable[[aiopubsub.Key], bool] = compiled.reaches

    # ------------------------------------------------------------ publishing

    def publisher(self, key: aiopubsub.Key) -> Callable[[Any], None]:
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

    def _publisher_object(self, key: aiopubsub.Key) -> Publisher:
        self.publisher(key)
        return self._publisher_of[key]

    # ------------------------------------------------------------ subscribing

    def subscribe(self, agent: str, key: aiopubsub.Key, handler: Handler, first: bool = False) -> SubscriptionStats:
        """Deliver messages published on ``key`` (wildcards allowed) to ``handler(msg)``, synchronously.

        ``first=True`` (exact keys only) runs this handler before every other
        subscriber of the key, whenever they subscribed: for observers that must
        stamp a message's arrival (latency metrics). The latest ``first`` wins.
        """
        stats = self._stats(agent, handler, key)
        guarded = self._guarded(handler, stats, skip_hub_notices=key.is_wildcard)
        self._entries[guarded] = (handler, stats, key.is_wildcard)
        self._add(key, guarded, first)
        return stats

    def observe(self, key: aiopubsub.Key, callback: Callable[[aiopubsub.Key, Any], None], first: bool = False) -> None:
        """Call ``callback(key, msg)`` straight from the publish loop: no stats, no instrumentation.

        For per-message observers that metrics puts on every bar, where even
        a subscription's bookkeeping shows. If one raises anyway, the error is
        logged, counted and published as from agent ``observer``, and the
        publisher carries on. ``first`` as for :meth:`subscribe`. A wildcard
        observer also sees the hub's own ``Hub.*`` notices.
        """
        self._add(key, callback, first)

    def subscribe_queue(
        self,
        agent: str,
        keys: list[aiopubsub.Key],
        handler: Handler,
        maxsize: int = 10_000,
        conflate: Callable[[aiopubsub.Key, Any], Any] | None = None,
    ) -> Inbox:
        """Deliver through a bounded inbox drained by one consumer task (call :meth:`start`)."""
        stats = self._stats(agent, handler, keys[0])
        inbox = Inbox(agent, maxsize=maxsize, conflate=conflate, log=self._log)
        stats.inbox = inbox
        inbox.deliver = self._guarded(handler, stats, skip_hub_notices=True)
        for key in keys:
            self._add(key, inbox.put, first=False)
        self.inboxes.append(inbox)
        return inbox

    def unobserve(self, key: aiopubsub.Key, callback: Callable[[aiopubsub.Key, Any], None]) -> None:
        """Undo :meth:`observe`. Safe from inside a publish: the running call finishes its own route."""
        self._hub.remove_subscriber(key, callback)
        first = self._first.get(key)
        if first is not None and callback in first:
            first.remove(callback)
        if self._first:
            self._put_first_in_front()
        self._drop_routes()

    def unsubscribe_all(self) -> None:
        for key, callbacks in list(self._hub._subscribers.items()):
            for cb in list(callbacks):
                self._hub.remove_subscriber(key, cb)
        self._first.clear()
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

    def _stats(self, agent: str, handler: Handler, key: aiopubsub.Key) -> SubscriptionStats:
        name = getattr(handler, "__qualname__", None) or repr(handler)
        stats = SubscriptionStats(agent, name, key)
        self.subscriptions.append(stats)
        return stats

    def _add(self, key: aiopubsub.Key, callback: Callable[[Any, Any], None], first: bool) -> None:
        if first:
            if key.is_wildcard:
                raise ValueError(f"first=True needs an exact key, got {'.'.join(key)}")
            self._first.setdefault(key, []).insert(0, callback)
        self._hub.add_subscriber(key, callback)
        if self._first:
            self._put_first_in_front()
        self._drop_routes()

    def _put_first_in_front(self) -> None:
        """Reorder aiopubsub's cached callback list of each key that has ``first`` callbacks.

        aiopubsub delivers by the subscribed key's first appearance, then by
        subscription order, and caches the resulting list per published key
        until a subscription change invalidates it. Every change goes through
        this bus, so after each one the bus builds those lists itself and moves
        the ``first`` callbacks to their front: publishing costs nothing more,
        and nobody else's relative order changes.
        """
        hub = self._hub
        for key, first in self._first.items():
            callbacks = hub._get_callbacks_by_key(key)  # cached, built if missing
            front = [cb for cb in first if cb in callbacks]
            # A new list, never an edit in place: a publish may be iterating the old one.
            hub._key_callbacks_cache[key] = front + [cb for cb in callbacks if cb not in front]

    def _drop_routes(self) -> None:
        """Subscriptions changed: every resolved publisher goes stale and resolves its key at its next call."""
        live, self._live = self._live, []
        for publisher in live:
            route = publisher.route
            publisher.route = None  # a call of it now running keeps the route it started with
            route.fold()

    def _resolve(self, key: aiopubsub.Key) -> Route:
        """Give the stale publisher of ``key`` the route aiopubsub resolves the key to now."""
        publisher = self._publisher_of[key]
        publisher.route = route = self._route(key, self._route_entries(key))
        self._live.append(publisher)
        return route

    def _route_entries(self, key: aiopubsub.Key) -> tuple[tuple[Callable[..., None], SubscriptionStats, bool], ...]:
        """What a published key reaches, in aiopubsub's order (wildcards matched, ``first`` in front).

        Guarded subscriptions become their (handler, stats), called straight
        from the route; raw callbacks (observers, inboxes, anything registered
        on the aiopubsub hub directly) get the key too. Wildcard subscribers
        never see aiopubsub's own ``Hub.*`` notices.
        """
        entries = []
        for callback in self._hub._get_callbacks_by_key(key):
            entry = self._entries.get(callback)
            if entry is None:
                entries.append((callback, self._observer_stats, True))
            elif not (entry[2] and key[0] == "Hub"):
                entries.append((entry[0], entry[1], False))
        return tuple(entries)

    def _route(self, key: aiopubsub.Key, entries: tuple[tuple[Callable[..., None], SubscriptionStats, bool], ...]) -> Route:
        """A route over ``entries`` (compiled: :mod:`hub.route`), counting from 0."""
        return Route(self, key, entries, self.running, self._sampler is not None, self._every)

    def _guarded(self, handler: Handler, stats: SubscriptionStats, skip_hub_notices: bool) -> Callable[[Any, Any], None]:
        """One subscription's own guarded callback: what aiopubsub holds, and what an inbox calls.

        It delivers through the same route functions as ``bus.publish``, one
        per key with this handler alone (or none, for a ``Hub.*`` notice to a
        wildcard subscriber), so guarding, counting and sampling live in one
        place. Its routes never change, so they are never dropped.
        """
        only = ((handler, stats, False),)
        routes: dict[aiopubsub.Key, Callable[[Any], None]] = {}
        new_route = self._route

        def guarded(key: aiopubsub.Key, msg: Any) -> None:
            deliver = routes.get(key)
            if deliver is None:
                deliver = routes[key] = new_route(key, () if skip_hub_notices and key[0] == "Hub" else only).deliver
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
