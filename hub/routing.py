"""The bus's routing table: who is subscribed to which key, and what a published key reaches, in what order.

The bus owns this table instead of reading aiopubsub's private one: it
needs the resolved list of a key's handlers (a route, :mod:`hub.route`),
and aiopubsub exposes only its own publish. Key matching is aiopubsub's
public ``Key.is_subset_of`` (``*`` in the middle matches one part, at the
end one or more), and the delivery order is aiopubsub's rule: by the
subscribed key's first appearance, then by subscription order; ``first``
entries of the published key go in front, latest first.
"""

from __future__ import annotations

from typing import Any

from aiopubsub import Key

Entry = tuple[Any, Any, bool]  # (callable, stats, raw): what a route calls, as in hub.route.Route


class RoutingTable:
    def __init__(self) -> None:
        self._subscribed: dict[Key, list[Entry]] = {}  # in order of each key's first appearance
        self._first: dict[Key, list[Entry]] = {}  # exact key -> entries that run before all others, latest first

    def add(self, key: Key, entry: Entry, first: bool = False) -> bool:
        """Subscribe ``entry`` to ``key``; False (and nothing changes) if the same entry is already there."""
        if first and key.is_wildcard:
            raise ValueError(f"first=True needs an exact key, got {'.'.join(key)}")
        entries = self._subscribed.setdefault(key, [])
        if entry in entries:
            return False
        entries.append(entry)
        if first:
            self._first.setdefault(key, []).insert(0, entry)
        return True

    def remove(self, key: Key, entry: Entry) -> bool:
        """Undo :meth:`add`; False if ``entry`` was not subscribed to ``key``."""
        entries = self._subscribed.get(key, [])
        if entry not in entries:
            return False
        entries.remove(entry)
        first = self._first.get(key)
        if first is not None and entry in first:
            first.remove(entry)
        return True

    def clear(self) -> None:
        self._subscribed.clear()
        self._first.clear()

    def reached_by(self, key: Key) -> tuple[Entry, ...]:
        """The entries a publish on ``key`` (exact) calls, in delivery order."""
        if key.is_wildcard:
            raise ValueError(f"cannot publish on a wildcard key: {'.'.join(key)}")
        reached = [entry for subscribed, entries in self._subscribed.items() if key.is_subset_of(subscribed)
                   for entry in entries]
        front = [entry for entry in self._first.get(key, ()) if entry in reached]
        return (*front, *(entry for entry in reached if entry not in front))
