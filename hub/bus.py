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
import time
import traceback
from collections.abc import Callable
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

    ``current`` names the handler running right now (set on every call, so a
    watchdog thread can say which handler stalls the loop without timing each
    call). Timing costs two clock reads and a hook call, so the bus times only
    one call in ``sample_every`` per subscription: the first, then every Nth.
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
        self._first: list[Callable[[Any, Any], None]] = []  # callbacks that run before all others, latest first
        self._log = logwood.get_logger("hub")
        self._clock = clock or (lambda: 0)
        self.monitor = monitor
        self.subscriptions: list[SubscriptionStats] = []
        self.inboxes: list[Inbox] = []
        self.errors = 0
        # Hot path: ``bus.publish(key, msg)`` is aiopubsub's own method, no extra frame.
        self.publish: Callable[[aiopubsub.Key, Any], None] = self._hub.publish

    # ------------------------------------------------------------ subscribing

    def subscribe(self, agent: str, key: aiopubsub.Key, handler: Handler, first: bool = False) -> SubscriptionStats:
        """Deliver messages published on ``key`` (wildcards allowed) to ``handler(msg)``, synchronously.

        ``first=True`` runs this handler before every other subscriber of a
        matching key, whenever they subscribed: for observers that must stamp a
        message's arrival (latency metrics). The latest ``first`` subscription wins.
        """
        stats = self._stats(agent, handler, key)
        callback = self._guarded(handler, stats, skip_hub_notices=key.is_wildcard)
        self._hub.add_subscriber(key, callback)
        if first:
            self._put_first(callback)
        return stats

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
            self._hub.add_subscriber(key, inbox.put)
        self.inboxes.append(inbox)
        return inbox

    def unsubscribe_all(self) -> None:
        for key, callbacks in list(self._hub._subscribers.items()):
            for cb in list(callbacks):
                self._hub.remove_subscriber(key, cb)
        self._first.clear()

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

    def _put_first(self, callback: Callable[[Any, Any], None]) -> None:
        """aiopubsub delivers by the subscribed key's first appearance, then by subscription order.

        Reordering its dict would move whole groups of other subscribers, so
        instead, when it builds (and caches) a published key's callback list,
        the ``first`` callbacks in it move to the front. The lookup is replaced
        on this hub instance only, and only once a ``first`` subscription
        exists: a bus without one keeps aiopubsub's own hot path.
        """
        hub = self._hub
        if "_get_callbacks_by_key" not in vars(hub):
            build = hub._get_callbacks_by_key
            cache = hub._key_callbacks_cache
            first = self._first

            def callbacks_with_first_in_front(key: aiopubsub.Key) -> list[Any]:
                try:
                    return cache[key]
                except KeyError:
                    pass
                callbacks = build(key)  # builds and caches this list object
                front = [cb for cb in first if cb in callbacks]
                if front:
                    callbacks[:] = front + [cb for cb in callbacks if cb not in front]
                return callbacks

            hub._get_callbacks_by_key = callbacks_with_first_in_front  # type: ignore[method-assign]
        self._first.insert(0, callback)
        hub._key_callbacks_cache.clear()

    def _guarded(self, handler: Handler, stats: SubscriptionStats, skip_hub_notices: bool) -> Callable[[Any, Any], None]:
        report = self._report
        if self.monitor is not None:
            return self._monitored(handler, stats, skip_hub_notices, self.monitor)

        if not skip_hub_notices:

            def deliver(key: Any, msg: Any) -> None:
                stats.handled += 1
                try:
                    handler(msg)
                except Exception as exc:
                    report(stats, key, exc)

            return deliver

        def deliver_skipping_notices(key: Any, msg: Any) -> None:
            if key[0] == "Hub":
                return
            stats.handled += 1
            try:
                handler(msg)
            except Exception as exc:
                report(stats, key, exc)

        return deliver_skipping_notices

    def _monitored(
        self, handler: Handler, stats: SubscriptionStats, skip_hub_notices: bool, monitor: Monitor,
    ) -> Callable[[Any, Any], None]:
        """The guard with instrumentation: ``monitor.current`` on every call, a clock on sampled calls only."""
        report = self._report
        done = monitor.handler_done
        every = max(1, int(monitor.sample_every))
        timed_remainder = 1 % every  # the first call is always timed, then every ``every``-th
        perf = _perf

        def deliver_monitored(key: Any, msg: Any) -> None:
            if skip_hub_notices and key[0] == "Hub":
                return
            stats.handled += 1
            previous = monitor.current
            monitor.current = stats
            try:
                if stats.handled % every != timed_remainder:
                    handler(msg)
                else:
                    t0 = perf()
                    handler(msg)
                    done(stats, perf() - t0)
            except Exception as exc:
                report(stats, key, exc)
            finally:
                monitor.current = previous

        return deliver_monitored

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
        self._hub.publish(
            K.AGENT_ERROR,
            AgentError(
                ts=self._clock(), agent=stats.agent, handler=stats.handler, key=key_text,
                error_type=type(exc).__name__, error=str(exc),
            ),
        )
