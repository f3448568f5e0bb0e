"""The strategy host: one user strategy, fed one event at a time, its orders published when its hook returns."""

from agents.strategy_host.agent import StrategyHost

__all__ = ["StrategyHost"]
