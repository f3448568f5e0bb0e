"""Namespaced pub/sub: the bus, its pre-built keys and the message types."""

from hub import compiled

compiled.install()  # before any compiled module of ours loads: ENGINE_PURE_PYTHON=1 runs their sources

from hub.bus import Bus, Monitor, SubscriptionStats  # noqa: E402
from hub.inbox import Inbox  # noqa: E402

__all__ = ["Bus", "Inbox", "Monitor", "SubscriptionStats"]
