"""Namespaced pub/sub: the bus, its pre-built keys and the message types."""

from hub.bus import Bus, Monitor, SubscriptionStats
from hub.inbox import Inbox

__all__ = ["Bus", "Inbox", "Monitor", "SubscriptionStats"]
