"""Reconnect delays: exponential with jitter, seeded so a run's schedule is reproducible and recorded."""

from __future__ import annotations

import random
from collections import deque


class Backoff:
    """``base * factor**n`` capped at ``cap``, each delay scaled by a random factor in ``1 +- jitter``.

    Jitter spreads reconnects of many clients after a shared outage; the seed
    makes the schedule reproducible, and the last delays are kept in
    ``history`` for status and tests. :meth:`reset` after a healthy connection.
    """

    def __init__(self, base: float = 0.1, factor: float = 2.0, cap: float = 10.0, jitter: float = 0.5,
                 seed: int | None = 0, history: int = 100) -> None:
        if base <= 0 or factor < 1 or cap < base or not 0 <= jitter < 1:
            raise ValueError("backoff needs base > 0, factor >= 1, cap >= base and 0 <= jitter < 1")
        self.base = base
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self.seed = seed
        self._rng = random.Random(seed)
        self.attempt = 0
        self.history: deque[float] = deque(maxlen=history)

    def next(self) -> float:
        """The delay before the next attempt (seconds of loop time)."""
        nominal = min(self.cap, self.base * self.factor ** self.attempt)
        delay = min(self.cap, nominal * (1.0 + self.jitter * (2.0 * self._rng.random() - 1.0)))
        self.attempt += 1
        self.history.append(delay)
        return delay

    def reset(self) -> None:
        self.attempt = 0
