"""Builds the agents every run mode shares and attaches them in the order that defines a bar's life.

Wiring order is semantics: on a bar the broker acts first (fills orders
decided on earlier bars at this bar's open, then marks to market), then the
model state updates indicators and hands them to the strategy, which decides
on this bar's close. That is backtrader's per-bar order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.base import Agent
from agents.broker import BrokerAgent
from agents.model_state import ModelStateAgent
from agents.strategy_host import StrategyHost
from engine.config import Config
from hub.bus import Bus
from strategies import load_strategy

STRATEGY_NAME = "strategy"  # the host's agent name, and the ``strategy`` of its orders


@dataclass
class Pipeline:
    broker: BrokerAgent
    model_state: ModelStateAgent
    host: StrategyHost

    @property
    def agents(self) -> list[Agent]:
        return [self.broker, self.model_state, self.host]


def build_pipeline(bus: Bus, clock: Callable[[], int], config: Config, marks_every: int = BrokerAgent.MARKS_EVERY,
                   broker_bus: Any = None, host_bus: Any = None) -> Pipeline:
    """``marks_every``: the broker's equity marks per published block (1 when someone watches live).

    ``broker_bus`` / ``host_bus``: the bus as the broker / strategy host see it, when the daemon gates
    their handlers (:class:`engine.daemon.gate.GatedBus`); ``bus`` otherwise.
    """
    strategy_cls = load_strategy(config.strategy.name)
    pipeline = Pipeline(
        broker=BrokerAgent(broker_bus or bus, clock, config.broker, marks_every=marks_every),
        model_state=ModelStateAgent(bus, clock),
        host=StrategyHost(host_bus or bus, clock, strategy_cls, name=STRATEGY_NAME, params=config.strategy.params,
                          initial_cash=config.broker.cash),
    )
    for agent in pipeline.agents:
        agent.attach()
    return pipeline
