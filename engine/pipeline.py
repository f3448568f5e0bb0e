"""Builds the agents every run mode shares and attaches them in the order that defines a bar's life.

Wiring order is semantics: on a bar the broker acts first (fills orders
decided on earlier bars at this bar's open, then marks to market), then the
model state updates indicators and hands them to the strategy, which decides
on this bar's close. That is backtrader's per-bar order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from agents.model_state import ModelStateAgent

from agents.base import Agent
from agents.broker import BrokerAgent, BrokerConfig
from agents.strategy_host import StrategyHost
from engine.config import Config
from hub.bus import Bus
from strategies import load_strategy


@dataclass
class Pipeline:
    broker: BrokerAgent
    model_state: ModelStateAgent
    host: StrategyHost

    @property
    def agents(self) -> list[Agent]:
        return [self.broker, self.model_state, self.host]


def broker_config(config: Config) -> BrokerConfig:
    return BrokerConfig(**asdict(config.broker))


def build_pipeline(bus: Bus, clock: Callable[[], int], config: Config) -> Pipeline:
    strategy_cls = load_strategy(config.strategy.name)
    pipeline = Pipeline(
        broker=BrokerAgent(bus, clock, broker_config(config)),
        model_state=ModelStateAgent(bus, clock),
        host=StrategyHost(bus, clock, strategy_cls, name="strategy", params=config.strategy.params,
                          initial_cash=config.broker.cash),
    )
    for agent in pipeline.agents:
        agent.attach()
    return pipeline
