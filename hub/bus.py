"""The engine's hub: a thin facade over aiopubsub's Hub.

Two delivery styles behind one ``subscribe`` call:

* ``sync`` (default): the handler runs inside ``publish``, in subscription
  order, depth-first. Deterministic and cheap (~0.3 us a hop); the backtest
  path uses only this.
* ``queue``: the message goes into the agent's bounded :class:`Inbox` and one
  long-lived consumer task per agent drains it. Live agents use it so a slow
  consumer cannot stall the feed. (aiopubsub's own async listener spawns a
  task per message and dies on the first exception; we do not use it.)

Every handler is guarded: an exception is logged, counted on the
subscription's stats and published as :class:`AgentError` on ``sys.error``.
It never propagates into the publisher, never stops the agent.
"""

from __future__ import annotations

import asyncio
import functools
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

import aiopubsub
import logwood

from hub import keys as K
from hub.inbox import Inbox
from hub.messages import AgentError

Handler = Callable[[Any], None]
_perf = time.perf_counter


class SubscriptionStats:
    """Counters for one (agent, handler, key) subscription, read by metrics."""

    __slots__ = ("agent", "handler", "key", "handled", "errors", "time_total", "time_max", "timed", "inbox")

    def __init__(self, agent: str, handler: str, key: aiopubsub.Key) -> None:
        self.agent = agent
        self.handler = handler
        self.key = key
        self.handled = 0
        self.errors = 0
        self.time_total = 0.0
        self.time_max = 0.0
        self.timed = 0
        self.inbox: Inbox | None = None


class Monitor:
    """Hooks the bus calls when timing is on; metrics/ implements them.

    Timing costs two clock reads and a hook call, so the bus times only one
    call in ``sample_every`` (rounded up to a power of two) per subscription:
    the Nth, the 2Nth... ``current`` names the handler of the timed call
    running right now. To find any running handler, timed or not, see
    :func:`running_handler`.
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
        self.subscriptions: list[SubscriptionStats] = []
        self.inboxes: list[Inbox] = []
        self.errors = 0
        # What each guarded callback registered with aiopubsub stands for: (handler, stats, skips Hub notices).
        self._entries: dict[Callable[[Any, Any], None], tuple[Handler, SubscriptionStats, bool]] = {}
        self._observer_stats = SubscriptionStats("observer", "raw callbacks", K.ALL)
        self._routes: dict[aiopubsub.Key, tuple[tuple[Handler, SubscriptionStats], ...]] = {}
        self.publish: Callable[[aiopubsub.Key, Any], None] = self._routed_publish()

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
        """Undo :meth:`observe`. Safe from inside a publish: the list being iterated is replaced, not edited."""
        self._hub.remove_subscriber(key, callback)
        first = self._first.get(key)
        if first is not None and callback in first:
            first.remove(callback)
        if self._first:
            self._put_first_in_front()
        self._routes.clear()

    def unsubscribe_all(self) -> None:
        for key, callbacks in list(self._hub._subscribers.items()):
            for cb in list(callbacks):
                self._hub.remove_subscriber(key, cb)
        self._first.clear()
        self._routes.clear()

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
        self._routes.clear()

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

    def _guarded(self, handler: Handler, stats: SubscriptionStats, skip_hub_notices: bool) -> Callable[[Any, Any], None]:
        """One subscription's own guarded callback: what aiopubsub holds, and what an inbox calls.

        It is the same dispatcher as ``bus.publish`` over a one-entry route, so
        guarding, counting and sampling live in one place.
        """
        only = ((handler, stats),)
        routes: dict[aiopubsub.Key, tuple[tuple[Handler, SubscriptionStats], ...]] = {}

        def route_for(key: aiopubsub.Key) -> tuple[tuple[Handler, SubscriptionStats], ...]:
            routes[key] = route = () if skip_hub_notices and key[0] == "Hub" else only
            return route

        return self._dispatcher(routes, route_for)

    def _route(self, key: aiopubsub.Key) -> tuple[tuple[Handler, SubscriptionStats], ...]:
        """Resolve a published key once: aiopubsub matches it (wildcards, order, ``first``), we keep the result.

        Guarded subscriptions become (handler, stats) pairs called straight
        from the publish loop; raw callbacks (observers, inboxes, anything
        registered on the aiopubsub hub directly) get the key bound in.
        Wildcard subscribers never see aiopubsub's own ``Hub.*`` notices.
        """
        route = []
        for callback in self._hub._get_callbacks_by_key(key):
            entry = self._entries.get(callback)
            if entry is None:
                route.append((functools.partial(callback, key), self._observer_stats))
            elif not (entry[2] and key[0] == "Hub"):
                route.append((entry[0], entry[1]))
        self._routes[key] = routed = tuple(route)
        return routed

    def _routed_publish(self) -> Callable[[aiopubsub.Key, Any], None]:
        """``bus.publish``: the handlers of a key, called in aiopubsub's order, each guarded.
        aiopubsub's own publish calls one closure per subscriber that then
        calls the handler: two frames a delivery, plus its lookup frame. On
        the backtest path (three publishes and five deliveries a bar) those
        frames were a fifth of the engine's instructions, so the bus resolves
        each key once through aiopubsub (see :meth:`_route`) and calls the
        handlers itself. The frame is named ``deliver*`` and holds ``stats``,
        so :func:`running_handler` finds the running handler on the stack.
        """
        return self._dispatcher(self._routes, self._route)

    def _dispatcher(
        self,
        routes: dict[aiopubsub.Key, tuple[tuple[Handler, SubscriptionStats], ...]],
        route_for: Callable[[aiopubsub.Key], tuple[tuple[Handler, SubscriptionStats], ...]],
    ) -> Callable[[aiopubsub.Key, Any], None]:
        """Guarded delivery along cached routes; with a monitor, one call in ``sample_every`` is timed.

        Timing costs two clock reads and a hook call, so only sampled calls
        pay it (a bit test, not a modulo, decides). Nothing else runs per call:
        a watchdog finds the running handler of any call, sampled or not, on
        the loop thread's stack (:func:`running_handler`).
        """
        report = self._report
        monitor = self.monitor

        if monitor is None:

            def deliver_routed(key: aiopubsub.Key, msg: Any) -> None:
                route = routes.get(key)
                if route is None:
                    route = route_for(key)
                for handler, stats in route:
                    stats.handled += 1
                    try:
                        handler(msg)
                    except Exception as exc:
                        report(stats, key, exc)

            return deliver_routed

        done = monitor.handler_done
        untimed = sampling_mask(monitor.sample_every)
        perf = _perf
        observer = self._observer_stats

        def deliver_routed_monitored(key: aiopubsub.Key, msg: Any) -> None:
            route = routes.get(key)
            if route is None:
                route = route_for(key)
            for handler, stats in route:
                n = stats.handled + 1
                stats.handled = n
                if n & untimed or stats is observer:  # a mask, not a modulo: ~half the cost on every call
                    try:
                        handler(msg)
                    except Exception as exc:
                        report(stats, key, exc)
                    continue
                previous = monitor.current
                monitor.current = stats
                t0 = perf()
                try:
                    handler(msg)
                except Exception as exc:
                    report(stats, key, exc)
                finally:
                    monitor.current = previous
                    done(stats, perf() - t0)

        return deliver_routed_monitored

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


def sampling_mask(sample_every: int) -> int:
    """``n & mask == 0`` for one call in ``sample_every``, rounded up to a power of two."""
    every = max(1, int(sample_every))
    return (1 << (every - 1).bit_length()) - 1


def running_handler(frame: FrameType | None) -> SubscriptionStats | None:
    """The subscription of the innermost hub handler call on a stack, or None.

    For a watchdog thread: pass it ``sys._current_frames()[loop_thread_id]``.
    Every guarded call runs in one of this module's ``deliver*`` closures,
    whose ``stats`` says which agent and handler it is; reading it from the
    stack costs the hot path nothing.
    """
    while frame is not None:
        code = frame.f_code
        if code.co_filename == __file__ and code.co_name.startswith("deliver"):
            stats = frame.f_locals.get("stats")
            if isinstance(stats, SubscriptionStats):
                return stats
        frame = frame.f_back
    return None
