"""The simulated broker: reproduces backtrader's default broker fill for fill.

Public API: :class:`BrokerAgent`, :class:`BrokerConfig`, :class:`Commission`,
:class:`Slippage`.
"""

from agents.broker.agent import BrokerAgent
from agents.broker.commission import PER_SHARE, PERCENT, Commission
from agents.broker.config import BrokerConfig
from agents.broker.slippage import Slippage

__all__ = ["PER_SHARE", "PERCENT", "BrokerAgent", "BrokerConfig", "Commission", "Slippage"]
