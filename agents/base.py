"""What every agent has: a name, the bus, the injected clock, and a lifecycle.

The engine builds agents, calls :meth:`attach` on each in wiring order (the
order decides who sees a synchronously published message first), then
:meth:`start`; at the end :meth:`stop`. An agent talks to others only by
publishing typed messages on pre-built keys.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.bus import Bus


class Agent:
    name = "agent"

    def __init__(self, bus: Bus, clock: Callable[[], int]) -> None:
        self.bus = bus
        self.clock = clock

    def attach(self) -> None:
        """Subscribe to the keys this agent consumes."""

    def start(self) -> None:
        """Called once before the first event (a running loop exists)."""

    def stop(self) -> None:
        """Called once after the last event: flush, close files."""
