"""The simulated broker: reproduces backtrader's default broker fill for fill.

Public API: :class:`BrokerAgent` and its :class:`BrokerSettings`.
"""

from agents.broker.agent import BrokerAgent
from agents.broker.settings import BrokerSettings

__all__ = ["BrokerAgent", "BrokerSettings"]
