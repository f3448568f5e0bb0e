"""Builds the agents every run mode shares and attaches them in the order that defines a bar's life.

Wiring order is semantics: on a bar the broker acts first (fills orders
decided on earlier bars at this bar's open, then marks to market), then the
model state updates indicators and hands them to the strategy, which decides
on this bar's close. That is backtrader's per-bar order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.base import Agent
from agents.broker import BrokerAgent
from agents.model_state import ModelStateAgent
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


def build_pipeline(bus: Bus, clock: Callable[[], int], config: Config, marks_every: int = BrokerAgent.MARKS_EVERY) -> Pipeline:
    """``marks_every``: the broker's equity marks per published block (1 when someone watches live)."""
    strategy_cls = load_strategy(config.strategy.name)
    pipeline = Pipeline(
        broker=BrokerAgent(bus, clock, config.broker, marks_every=marks_every),
        model_state=ModelStateAgent(bus, clock),
        host=StrategyHost(bus, clock, strategy_cls, name="strategy", params=config.strategy.params,
                          initial_cash=config.broker.cash),
    )
    for agent in pipeline.agents:
        agent.attach()
    return pipeline
