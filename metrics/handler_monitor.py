"""The bus Monitor metrics installs: keeps sampled handler durations until the next flush.

The bus times one call in ``sample_every`` per subscription (see
``hub.bus.Monitor``). A long call is caught whether it was sampled or not:
the stall watchdog finds it on the loop thread's stack.
"""

from __future__ import annotations

from hub.bus import Monitor, SubscriptionStats

SAMPLE_EVERY = 64


class SampledHandlerMonitor(Monitor):
    def __init__(self, sample_every: int = SAMPLE_EVERY) -> None:
        self.current: SubscriptionStats | None = None
        self.sample_every = sample_every
        self._samples: list[tuple[SubscriptionStats, float]] = []

    def handler_done(self, stats: SubscriptionStats, seconds: float) -> None:
        self._samples.append((stats, seconds))
        stats.timed += 1
        stats.time_total += seconds
        if seconds > stats.time_max:
            stats.time_max = seconds

    def take_samples(self) -> list[tuple[SubscriptionStats, float]]:
        """The samples since the last call, oldest first."""
        samples, self._samples = self._samples, []
        return samples
